import unittest

from chirpy_harness.cluster_http import (
    Outcome,
    Reply,
    between,
    by_instance,
    describe,
    failures,
    on_each,
    split_at,
    status_counts,
)
from chirpy_harness.errors import HarnessError


def outcome(started, ended, status, served_by="a", method="GET"):
    return Outcome(started, ended, method, status, served_by)


class OutcomesTest(unittest.TestCase):
    OUTCOMES = [
        outcome(0.0, 0.1, 200),
        outcome(0.5, 1.2, 0, "", "POST"),  # in flight at 1.0, died with the instance
        outcome(0.9, 1.0, 201, "b", "POST"),
        outcome(1.1, 1.3, 502, ""),
        outcome(1.5, 1.6, 200, "b"),
    ]

    def test_failures_are_everything_but_2xx(self):
        self.assertEqual([o.status for o in failures(self.OUTCOMES)], [0, 502])

    def test_split_at_a_moment_by_when_the_request_was_sent(self):
        sent_before, sent_after = split_at(failures(self.OUTCOMES), 1.0)
        self.assertEqual([o.started for o in sent_before], [0.5])
        self.assertEqual([o.started for o in sent_after], [1.1])

    def test_between_is_by_when_the_answer_came(self):
        self.assertEqual([o.started for o in between(self.OUTCOMES, 1.0, 1.5)], [0.5, 0.9, 1.1])

    def test_counts(self):
        self.assertEqual(status_counts(self.OUTCOMES), {"200": 2, "201": 1, "502": 1, "no answer": 1})
        self.assertEqual(by_instance(self.OUTCOMES), {"a": 1, "b": 2, "haproxy": 2})

    def test_describe_is_relative_to_the_moment_and_bounded(self):
        text = describe(failures(self.OUTCOMES), 1.0, limit=1)
        self.assertIn("POST -> no answer from haproxy sent -0.500s, answered +0.200s", text)
        self.assertIn("... and 1 more", text)


class OnEachTest(unittest.TestCase):
    def reply(self, by):
        return Reply(200, b"", {"x-served-by": by})

    def test_asks_until_every_instance_answered(self):
        answers = iter(["a", "a", "b", "a"])
        calls = []

        def ask():
            calls.append(1)
            return self.reply(next(answers))

        got = on_each(["a", "b"], ask)
        self.assertEqual(sorted(got), ["a", "b"])
        self.assertEqual(len(calls), 3)

    def test_gives_up_naming_who_answered(self):
        with self.assertRaisesRegex(HarnessError, "'a': 200"):
            on_each(["a", "b"], lambda: self.reply("a"), tries=3)


if __name__ == "__main__":
    unittest.main()
