"""The one exception harnesses raise for "the harness could not do what it set out to do"."""


class HarnessError(Exception):
    """A program did not start, misbehaved, or a file was not what the harness expects."""
