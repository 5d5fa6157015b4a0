"""What a server's `/metrics` says: the bench's servers run with METRICS_ADDR, so the cache's
hits and misses during a case are counted by the server itself."""

from __future__ import annotations

import math
import re
import urllib.request
from dataclasses import dataclass

from chirpy_harness.errors import HarnessError

# `name value` or `name{labels} value`; comments and blank lines are skipped.
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$", re.M)
# Loopback only: no proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def parse(text: str) -> dict[str, float]:
    """Every sample of a Prometheus text exposition, by its name with its labels as written."""
    return {name: float(value) for name, value in SAMPLE.findall(text)}


def scrape(url: str) -> dict[str, float]:
    try:
        with OPENER.open(url, timeout=10) as resp:
            return parse(resp.read().decode())
    except OSError as exc:
        raise HarnessError(f"cannot scrape {url}: {exc}") from exc


@dataclass(frozen=True)
class CacheReading:
    """The chirp cache's counters and size at one moment."""

    hits: float
    misses: float
    size_bytes: float

    @classmethod
    def of(cls, samples: dict[str, float]) -> CacheReading:
        names = ("chirpy_cache_hits_total", "chirpy_cache_misses_total", "chirpy_cache_size_bytes")
        missing = [name for name in names if name not in samples]
        if missing:
            raise HarnessError(f"the server's metrics have no {', '.join(missing)}")
        return cls(*(samples[name] for name in names))

    def since(self, before: CacheReading) -> CacheReading:
        """Hits and misses between `before` and this reading; the size now."""
        return CacheReading(self.hits - before.hits, self.misses - before.misses, self.size_bytes)

    @property
    def hit_ratio(self) -> float:
        reads = self.hits + self.misses
        return self.hits / reads if reads else math.nan


def cache_reading(url: str) -> CacheReading:
    return CacheReading.of(scrape(url))


@dataclass(frozen=True)
class BatchReading:
    """One kind of batched work's counters (the `work` label of chirpy_db_batch*): batches,
    the requests they answered, and the seconds those requests waited to be taken."""

    batches: float
    requests: float
    waited_s: float

    @classmethod
    def of(cls, samples: dict[str, float], work: str) -> BatchReading:
        label = f'{{work="{work}"}}'
        names = ("chirpy_db_batches_total", "chirpy_db_batched_requests_total", "chirpy_db_batch_wait_seconds_total")
        missing = [name for name in names if name + label not in samples]
        if missing:
            raise HarnessError(f"the server's metrics have no {', '.join(n + label for n in missing)}")
        return cls(*(samples[name + label] for name in names))

    def since(self, before: BatchReading) -> BatchReading:
        return BatchReading(self.batches - before.batches, self.requests - before.requests,
                            self.waited_s - before.waited_s)

    @property
    def mean_size(self) -> float:
        return self.requests / self.batches if self.batches else math.nan

    @property
    def mean_wait_us(self) -> float:
        return self.waited_s * 1e6 / self.requests if self.requests else math.nan


def batch_reading(url: str, work: str) -> BatchReading:
    return BatchReading.of(scrape(url), work)
