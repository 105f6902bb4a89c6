"""A training run leaves room for the other sessions: one torch thread on a small server, and a
lower CPU priority for its thread only."""

import os
import threading

import pytest

from vae.runner import lower_priority, run_threads


def test_a_run_gets_one_thread_on_a_server_of_two_cores():
    assert run_threads(4, cores=2) == 1 and run_threads(4, cores=1) == 1


def test_a_run_gets_the_threads_it_asks_for_on_a_larger_server():
    assert run_threads(4, cores=16) == 4 and run_threads(0, cores=16) == 1


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no thread priorities here")
def test_lowering_a_threads_priority_leaves_the_rest_of_the_process_alone():
    seen = {}

    def work():
        lower_priority(5)
        seen["thread"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen["thread"] == min(before + 5, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
