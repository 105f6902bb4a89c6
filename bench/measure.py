"""How every section measures: repeated timings summarised as median and p95, and the fixed slice
of the shipped corpus that all of them work on (the first N lines: the file is already shuffled)."""

import gzip
import statistics
import time
from itertools import islice

from vae.paths import CORPORA

SHIPPED_CORPUS = CORPORA / "train.txt.gz"


def p95(values):
    """The 95th percentile, interpolated between the two nearest values (statistics' "inclusive"
    method, the one numpy.percentile uses by default)."""
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def summary(seconds):
    """Median, p95, min and count of a list of durations in seconds."""
    return {"median_s": statistics.median(seconds), "p95_s": p95(seconds),
            "min_s": min(seconds), "runs": len(seconds)}


def time_runs(fn, repeats, warmup=1):
    """Call fn() `warmup` times untimed (first-call allocations, lazy imports), then `repeats` timed
    times; returns summary() of the timed runs. fn must finish its work before returning (on a GPU:
    return something that forces a sync, e.g. CPU tensors or Python objects)."""
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return summary(seconds)


def shipped_sentences(n, path=SHIPPED_CORPUS):
    """The first n non-empty sentences of the shipped training corpus (streamed: --quick reads little)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return list(islice((line.strip() for line in f if line.strip()), n))
