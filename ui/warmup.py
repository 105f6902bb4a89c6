"""UMAP warmed up in the background when the server starts, so that a page's first map does not wait.

A fresh server's first UMAP fit spends 30-45 s compiling numba code, and then ~3 s fitting. The
first script run starts one thread per process (`start()`, at the end of streamlit_app.py); it waits
a few seconds so that the browser draws the first page first, then fits UMAP on random codes at a
lower CPU priority. A page that is about to fit a map calls `wait_for_umap()`: it returns at once when the
warm-up is done, else shows its progress until it is.
"""

import os
import sys
import threading
import time

import streamlit as st

from vae.projection import warm_up
from vae.runner import NICENESS, SWITCH_INTERVAL_S, lower_priority

DELAY_S = 3.0  # after the first script run: the first page is drawn before numba takes the CPU

_lock = threading.Lock()
_state = {"status": "not started", "started": None, "seconds": None, "error": None}


def start_with_server():
    """What streamlit_app.py calls on every run: start() unless $TEXT_VAE_WARM_UMAP is "0" (the tests
    set it: every app they start would otherwise spend a minute of CPU compiling a UMAP it never
    fits; a page that fits one still starts the warm-up itself, through wait_for_umap)."""
    if os.environ.get("TEXT_VAE_WARM_UMAP", "1") != "0":
        start()


def start(delay=DELAY_S):
    """Start the warm-up thread, once per process (later calls do nothing)."""
    with _lock:
        if _state["status"] != "not started":
            return
        _state["status"] = "waiting"
    threading.Thread(target=_warm, args=(delay,), name="umap-warm-up", daemon=True).start()


def _warm(delay):
    time.sleep(delay)
    lower_priority(NICENESS)
    # numba's compiler is Python, and holds the GIL for the whole switch interval (5 ms by default)
    # each time a page's thread hands it over between two torch operations: a click's decoding took
    # seconds beside it (the load benchmark in bench/app.py, py-spy). 0.5 ms lets the pages' threads
    # back in sooner.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    with _lock:
        _state.update(status="running", started=time.monotonic())
    try:
        seconds = warm_up()
    except Exception as e:  # a failed warm-up only means the first real fit compiles instead
        with _lock:
            _state.update(status="failed", error=f"{type(e).__name__}: {e}")
        return
    with _lock:
        _state.update(status="done", seconds=seconds)


def state():
    """{"status": "not started" | "waiting" | "running" | "done" | "failed", "started", "seconds", "error"}"""
    with _lock:
        return dict(_state)


def ready():
    return state()["status"] in ("done", "failed")


def wait_for_umap(poll=0.5):
    """For a page about to fit UMAP: returns at once once warm; else shows how far the warm-up is
    and returns when it ends (the fit would only wait for numba's compiler lock otherwise)."""
    if ready():
        return
    start(delay=0)  # a page opened without streamlit_app.py (AppTest) starts it itself
    with st.status("Preparing UMAP: compiling its code, once per server (about 30-45 s)...") as status:
        while not ready():
            now = state()
            elapsed = time.monotonic() - now["started"] if now["started"] else 0.0
            status.update(label=f"Preparing UMAP: compiling its code, once per server ({elapsed:.0f} s so far, "
                                "about 30-45 s in all)...")
            time.sleep(poll)
        status.update(label="UMAP is ready", state="complete", expanded=False)
