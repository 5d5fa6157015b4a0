import unittest

from chirpy_harness.sse import Event, Parser, parse_block


class ParseBlockTest(unittest.TestCase):
    def test_an_event_with_id_type_and_data(self):
        block = 'id: 12-3\nevent: chirp.created\ndata: {"id": "x"}'
        self.assertEqual(parse_block(block), Event("12-3", "chirp.created", '{"id": "x"}'))
        self.assertEqual(parse_block(block).json(), {"id": "x"})

    def test_comments_and_blocks_without_data_dispatch_nothing(self):
        self.assertIsNone(parse_block(":"))
        self.assertIsNone(parse_block(": heartbeat\nid: 4-0"))

    def test_data_lines_join_with_newlines_and_one_space_after_the_colon_goes(self):
        self.assertEqual(parse_block("data:a\ndata:  b\ndata").data, "a\n b\n")

    def test_the_type_defaults_to_message(self):
        self.assertEqual(parse_block("data: x").event, "message")
        self.assertEqual(parse_block("event:\ndata: x").event, "message")


class ParserTest(unittest.TestCase):
    STREAM = b': hi\n\nid: 1-0\nevent: follow.created\ndata: {"a": 1}\n\nid: 1-1\nevent: chirp.created\ndata: \xc3\xa9\n\n'

    def test_events_come_out_whole_however_the_bytes_are_split(self):
        for size in (1, 2, 3, 7, len(self.STREAM)):
            parser, events = Parser(), []
            for start in range(0, len(self.STREAM), size):
                events += parser.feed(self.STREAM[start : start + size])
            self.assertEqual(
                events,
                [Event("1-0", "follow.created", '{"a": 1}'), Event("1-1", "chirp.created", "é")],
                f"chunks of {size}",
            )

    def test_an_unfinished_event_waits_for_its_blank_line(self):
        parser = Parser()
        self.assertEqual(parser.feed(b"id: 2-0\ndata: x\n"), [])
        self.assertEqual(parser.feed(b"\n"), [Event("2-0", "message", "x")])

    def test_crlf_and_cr_end_lines_too_even_split_between_chunks(self):
        parser = Parser()
        self.assertEqual(parser.feed(b"data: a\r"), [])
        # That LF ends the same line as the CR before it, not a blank line: no event yet.
        self.assertEqual(parser.feed(b"\ndata: b\r"), [])
        self.assertEqual(parser.feed(b"\r\n"), [Event("", "message", "a\nb")])
        self.assertEqual(parser.feed(b"data: c\r\r"), [Event("", "message", "c")])


if __name__ == "__main__":
    unittest.main()
