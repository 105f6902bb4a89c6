"""UMAP is warmed up once per server, in a thread that never holds up a page (ui/warmup.py)."""

import time

import pytest

from ui import warmup


@pytest.fixture
def fresh(monkeypatch):
    """A process that has not warmed up yet, with a warm-up that takes no time."""
    monkeypatch.setattr(warmup, "_state", {"status": "not started", "started": None, "seconds": None,
                                           "error": None})
    calls = []
    monkeypatch.setattr(warmup, "warm_up", lambda: calls.append(1) or 0.01)
    return calls


def wait_until_ready(timeout=5.0):
    deadline = time.monotonic() + timeout
    while not warmup.ready() and time.monotonic() < deadline:
        time.sleep(0.01)
    return warmup.ready()


def test_start_returns_at_once_and_the_warm_up_runs_in_the_background(fresh):
    started = time.perf_counter()
    warmup.start(delay=0.2)
    assert time.perf_counter() - started < 0.1 and warmup.state()["status"] == "waiting"
    assert wait_until_ready() and warmup.state()["status"] == "done" and fresh == [1]


def test_the_warm_up_runs_once_per_process(fresh):
    for _ in range(3):
        warmup.start(delay=0)
    assert wait_until_ready()
    warmup.start(delay=0)
    time.sleep(0.05)
    assert fresh == [1]


def test_a_failed_warm_up_counts_as_ready_and_says_why(fresh, monkeypatch):
    monkeypatch.setattr(warmup, "warm_up", lambda: 1 / 0)
    warmup.start(delay=0)
    assert wait_until_ready() and warmup.state()["status"] == "failed"
    assert "ZeroDivisionError" in warmup.state()["error"]


def test_waiting_for_umap_returns_at_once_once_warm(fresh):
    warmup.start(delay=0)
    assert wait_until_ready()
    started = time.perf_counter()
    warmup.wait_for_umap()
    assert time.perf_counter() - started < 0.05


def test_the_server_warms_up_unless_told_not_to(fresh, monkeypatch):
    monkeypatch.setenv("TEXT_VAE_WARM_UMAP", "0")  # as the tests' apps run
    warmup.start_with_server()
    assert warmup.state()["status"] == "not started"
    monkeypatch.delenv("TEXT_VAE_WARM_UMAP")  # as a user's app runs
    warmup.start_with_server()
    assert warmup.state()["status"] in ("waiting", "running", "done")
