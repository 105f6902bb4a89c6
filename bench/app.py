"""The app as a user feels it, in headless Chromium: server start to the first page, a click to its
result on Sample and Interpolate, the shipped-corpus latent map, and the server's peak memory.

Streamlit marks its root element with data-test-script-state ("running" / "notRunning"). A script
injected before the app loads logs every change of that state and the time of the last click or
key press (the page's performance.now() clock), so "click -> result" is measured inside the page:
from the input event to the end of the rerun it caused, plus the chart being drawn for the map.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from vae.paths import ROOT

from .measure import summary

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000  # a cold UMAP on a busy machine takes tens of seconds

RECORDER = """
window.__bench = {states: [], input: null};
for (const type of ["click", "keydown"]) {
  document.addEventListener(type, () => { window.__bench.input = performance.now(); }, true);
}
new MutationObserver(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const state = app && app.getAttribute("data-test-script-state");
  const log = window.__bench.states;
  if (state && (!log.length || log[log.length - 1].state !== state)) log.push({state, t: performance.now()});
}).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ["data-test-script-state"]});
"""

# the time (page clock) once a rerun that started after `since` (default: the last input) has
# finished and an element matching `selector` (if given) is on the page, with `text` in it (if given);
# else false
RERUN_DONE = """([since, selector, text]) => {
  const b = window.__bench;
  since = since ?? b.input ?? 0;
  const start = b.states.findIndex(s => s.t >= since && s.state === "running");
  if (start < 0 || !b.states.slice(start + 1).some(s => s.state === "notRunning")) return false;
  if (b.states[b.states.length - 1].state !== "notRunning") return false;
  if (selector && ![...document.querySelectorAll(selector)].some(el => !text || el.textContent.includes(text))) {
    return false;
  }
  return performance.now();
}"""


# helpers


def unavailable():
    """Why the browser benchmark cannot run here, or None."""
    if not (ROOT / "streamlit_app.py").is_file():
        return "streamlit_app.py not found"
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss(pid):
    """Resident memory (bytes) of a process and all its descendants (psutil); 0 once it is gone.
    Shared pages count once per process, so this slightly over-counts, never under-counts."""
    import psutil  # here, not at the top: the tests import this module for streamlit_server alone

    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0


def own_rss(pid):
    """Resident memory (bytes) of the process alone, without its children; 0 once it is gone."""
    import psutil

    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


class PeakRSS:
    """Samples rss(pid) (tree_rss, or own_rss) every `interval` seconds in a thread; `.peak` is the
    largest seen."""

    def __init__(self, pid, interval=0.2, rss=tree_rss):
        self.pid, self.interval, self.peak, self.rss = pid, interval, 0, rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss(self.pid))
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


@contextmanager
def streamlit_server(model_path, timeout=90, env=None, on_start=None):
    """`streamlit run streamlit_app.py` on a free localhost port, serving the model at `model_path`;
    yields (base URL, the server's Popen) once /_stcore/health answers, and stops the server on exit.
    No page is requested, so the first page the caller opens is the server's first request. Its
    output goes to a log file (a pipe nobody reads fills up and blocks the server), kept for a look
    when something fails. `on_start(process)` is called as soon as the process exists. The
    benchmarks and the browser tests both start the app this way."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    env = {**os.environ, "TEXT_VAE_MODEL": str(Path(model_path).resolve()), **(env or {})}
    with tempfile.NamedTemporaryFile(prefix=f"streamlit-{port}-", suffix=".log", delete=False) as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        if on_start:
            on_start(server)
        try:
            wait_healthy(url, server, log, timeout)  # its error names the log, which is then kept
            yield url, server
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    Path(log.name).unlink()


def wait_healthy(url, server, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"streamlit exited ({log.name}):\n{log.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"streamlit did not answer on {url} within {timeout} s; its output is in {log.name}")


def rerun_done(page, selector=None, text=None, since=None):
    """Wait for the end of the rerun caused by the last input (or started after `since`); its time."""
    done = page.wait_for_function(RERUN_DONE, arg=[since, selector, text], polling="raf", timeout=TIMEOUT_MS)
    return done.json_value()


def rerun_seconds(page, selector=None, text=None):
    """Seconds from the last click/key press to the end of the rerun it caused (page clock)."""
    end = rerun_done(page, selector, text)
    return (end - page.evaluate("window.__bench.input")) / 1000


def navigate(page, page_name, selector=None, text=None):
    """Click `page_name` in the top bar's page list; seconds to its result."""
    page.locator(f'[data-testid="stTopNav"] a[href$="/{page_name}"]').click()
    return rerun_seconds(page, selector, text)


# the measurements


def measure(model_path, clicks=10):
    """Start the server, drive the app, stop the server; a dict of seconds and bytes."""
    from playwright.sync_api import sync_playwright

    result = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(RECORDER)
        start = time.perf_counter()  # the browser is up before the clock starts: only the server is timed
        started = []  # memory is watched from the process's first moment, not from its first answer
        with streamlit_server(model_path, on_start=lambda p: started.append(PeakRSS(p.pid))) as (url, server):
            memory = started[0]
            try:
                result["server_ready_s"] = time.perf_counter() - start
                opened = time.perf_counter()
                page.goto(url, wait_until="commit")
                # what a class sees first: the title (and the spinner that says what is loading)
                page.locator("h1", has_text="Text VAE Explorer").wait_for(state="visible", timeout=TIMEOUT_MS)
                result["first_paint_s"] = time.perf_counter() - opened
                rerun_done(page, "h1", since=0)
                result["first_page_s"] = time.perf_counter() - start

                result["sample_page_s"] = navigate(page, "Sample", "h3", "sentences, seed")
                seconds = []
                for i in range(clicks):
                    page.get_by_role("button", name="New sentences").click()
                    seconds.append(rerun_seconds(page, "h3", f"seed {i + 1}"))
                result["sample_click"] = summary(seconds)

                result["interpolate_page_s"] = navigate(page, "Interpolate", "h3", "The path")
                seconds = []
                box = page.get_by_label("To", exact=True)
                for i in range(clicks):
                    box.fill(f"the {'old ' * (i % 3)}man walked home number {i} .")
                    box.press("Enter")
                    seconds.append(rerun_seconds(page, "h3", "The path"))
                result["interpolate_enter"] = summary(seconds)

                chart = '[data-testid="stPlotlyChart"] .xtitle'
                result["latent_map_s"] = navigate(page, "Latent_map", chart, "PCA 1")
                page.get_by_text("UMAP", exact=True).click()
                result["latent_map_umap_s"] = rerun_seconds(page, chart, "UMAP 1")
            finally:
                result["peak_rss_mb"] = memory.stop() / 2**20
        browser.close()
    result["clicks"] = clicks
    return result


# many users at once (the load benchmark): training runs going while other sessions click Sample

STEP = re.compile(r"step ([\d,]+) of")


def run_step(page):
    """The step a Train page's run has reached, from its status line (None before it shows one)."""
    text = page.get_by_test_id("stMain").inner_text()
    found = STEP.search(text)
    return int(found.group(1).replace(",", "")) if found else None


def steps_per_second(pages, seconds):
    """Steps per second of each page's run over `seconds` (the status line polls every second)."""
    before = [run_step(p) for p in pages]
    start = time.perf_counter()
    time.sleep(seconds)
    after = [run_step(p) for p in pages]
    elapsed = time.perf_counter() - start
    return [(b - a) / elapsed if a is not None and b is not None else None for a, b in zip(before, after)]


def server_rss(pid):
    """(the server process's own resident memory, with its training processes) in MiB."""
    return own_rss(pid) / 2**20, tree_rss(pid) / 2**20


def under_load(model_path, runs=2, sessions=4, rounds=5, alone_s=10.0, budget_s=240.0, env=None):
    """`runs` browser sessions start a training run each on the Train page; then `sessions` other
    sessions click "New sentences" on Sample together, `rounds` times (or, after the first, until
    `budget_s` of clicking runs out); then the runs are stopped. `env` goes to the server
    (TEXT_VAE_TRAINING: where runs train). Returns the Sample clicks' median and p95, each run's
    steps/s before and during the clicks, and the server's memory (MiB, its own and with its
    children) before the runs, at its peak while they train, and after they are stopped."""
    from playwright.sync_api import sync_playwright

    result = {"runs": runs, "sessions": sessions}
    # no UMAP warm-up: its minute of compiling at start-up would fall on some modes' clicks and not on
    # others' (it is measured on its own: umap_after_start)
    env = {"TEXT_VAE_WARM_UMAP": "0", **(env or {})}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        with streamlit_server(model_path, env=env) as (url, server):
            samplers = []
            for _ in range(sessions):
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.add_init_script(RECORDER)
                page.goto(f"{url}/Sample")
                rerun_done(page, "h3", "sentences, seed", since=0)
                samplers.append(page)
            result["rss_before_mb"] = server_rss(server.pid)
            own_peak, tree_peak = PeakRSS(server.pid, rss=own_rss), PeakRSS(server.pid)
            trainers = []
            for _ in range(runs):  # a context each: a browser session each, and a run each
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.goto(f"{url}/Train")
                main = page.get_by_test_id("stMain")
                main.get_by_role("button", name="Start").click(timeout=TIMEOUT_MS)
                main.get_by_role("button", name="Stop").wait_for(timeout=TIMEOUT_MS)
                trainers.append(page)
            if trainers:  # a child process starts by importing torch: count its steps once it trains
                wait_for_steps(trainers)
            result["steps_per_s_alone"] = steps_per_second(trainers, alone_s)
            seconds, first_steps, start = [], [run_step(p) for p in trainers], time.perf_counter()
            deadline = time.monotonic() + budget_s  # for the clicking; the set-up has its own timeouts
            for round_ in range(rounds):
                if round_ and time.monotonic() > deadline:  # at least one round
                    break
                for page in samplers:  # every session clicks, then each waits for its own sentences
                    page.get_by_role("button", name="New sentences").click()
                for page in samplers:
                    seconds.append(rerun_seconds(page, "h3", f"seed {round_ + 1}"))
            elapsed = time.perf_counter() - start
            result["steps_per_s_loaded"] = [(run_step(p) - a) / elapsed if a is not None else None
                                            for p, a in zip(trainers, first_steps)]
            result["sample_click"] = summary(seconds)
            for page in trainers:
                main = page.get_by_test_id("stMain")
                main.get_by_role("button", name="Stop").click(timeout=TIMEOUT_MS)
                main.get_by_text("stopped", exact=True).wait_for(timeout=TIMEOUT_MS)
            result["rss_peak_mb"] = own_peak.stop() / 2**20, tree_peak.stop() / 2**20
            time.sleep(3)  # what the allocator gives back, it gives back at once
            result["rss_after_mb"] = server_rss(server.pid)
        browser.close()
    return result


def wait_for_steps(pages, timeout=120.0):
    deadline = time.monotonic() + timeout
    while any(not run_step(p) for p in pages) and time.monotonic() < deadline:
        time.sleep(0.5)


TRAINING_MODES = ("thread", "process")  # $TEXT_VAE_TRAINING: where the Train page's runs train


def training_modes(model_path, runs=2, sessions=4, **load):
    """under_load with no training (the baseline), then with runs in server threads (the old mode),
    then in child processes, each on a fresh server, in one benchmark run so the ratios compare."""
    result = {"baseline": under_load(model_path, 0, sessions, **load)}
    for mode in TRAINING_MODES:
        result[mode] = under_load(model_path, runs, sessions, env={"TEXT_VAE_TRAINING": mode}, **load)
    return result
