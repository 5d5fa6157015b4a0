import unittest

from chirpy_harness.errors import HarnessError
from chirpy_harness.prometheus_test import OPS, QUERIES_DOC, doc_queries, scrape_config


class DocQueries(unittest.TestCase):
    def test_every_promql_block_and_nothing_else(self):
        doc = "text\n```promql\nrate(a[5m])\n```\n```sh\nls\n```\n```promql\nsum(b)\n  / 2\n```\n"
        self.assertEqual(doc_queries(doc), ["rate(a[5m])", "sum(b)\n  / 2"])

    def test_the_operating_page_has_the_queries_prometheus_test_runs(self):
        self.assertGreaterEqual(len(doc_queries(QUERIES_DOC.read_text())), 3)


class TestConfig(unittest.TestCase):
    def test_the_example_gets_the_tests_target_and_interval(self):
        config = scrape_config((OPS / "prometheus.yml").read_text(), "127.0.0.1:4242")
        self.assertIn("127.0.0.1:4242", config)
        self.assertNotIn("9464", config)
        self.assertIn("scrape_interval: 1s", config)
        self.assertIn("evaluation_interval: 1s", config)

    def test_an_example_without_what_it_replaces_is_an_error(self):
        with self.assertRaises(HarnessError):
            scrape_config("scrape_configs: []\n", "127.0.0.1:4242")


if __name__ == "__main__":
    unittest.main()
