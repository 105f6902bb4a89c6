"""A training run in a background thread, so that a web page can start it, poll it and walk away.

    run = TrainingRun(trainer, max_seconds=600, panel_texts=["the cat sat on the mat ."])
    run.start()              # a thread now owns the Trainer and calls train_step() in a loop
    run.pause(); run.step()  # one batch while paused
    run.resume(); run.stop()
    run.metrics()            # the Trainer's reports so far, in step order (copies)
    run.panels()             # every `panel_every` steps: reconstructions and prior samples
    run.measurements()       # every `heldout_every` steps and after each single step: held-out
                             # ELBO, reconstruction and KL without dropout (vae/heldout.py)
    run.snapshot_model()     # a frozen copy of the model, for "use this model" while training goes on
    run.attach(); run.detach()  # a page watching it, or gone: unwatched for `idle_timeout` s, it stops

The page never touches the Trainer itself: everything it reads is copied under a lock. Errors in
the thread (a NaN loss, anything else) end the run with status "failed" and a message. A
server-wide cap (`MAX_RUNS`) keeps a shared CPU from being swamped by many browser tabs.
"""

import atexit
import copy
import os
import sys
import tempfile
import threading
import time
import weakref

import torch

from .decode import reconstruct, sample_prior
from .heldout import measure
from .model import TrainedModel
from .tokenizer import UNK_ID
from .train import NonFiniteLoss, Trainer

MAX_RUNS = 2  # training threads allowed at once in this process (all sessions together)
SMALL_SERVER_CORES = 2  # at most this many cores: a run gets one torch thread, whatever it asks for
SWITCH_INTERVAL_S = 0.0005  # from the first run on, process-wide: how soon another thread gets the GIL
NICENESS = 10  # added to a training thread's CPU niceness, so the pages' threads run first (Linux)
# On a small server a run also sits out between steps while the pages serve someone's click: a lower
# priority does not stop a training thread from holding the GIL that the click's thread waits for.
USER_QUIET_S = 1.0  # a run waits until this long after the latest user_request()
MAX_YIELD_S = 2.0  # ... but never longer than this per step: a stream of clicks slows it, never stops it
HANDOFF_S = 0.0005  # a sleep between steps, outside the lock, so that a waiting control gets it (see _loop)

_slots_lock = threading.Lock()
_active_runs = 0
live_runs = weakref.WeakSet()  # every run started in this process, for stop_all()
_last_user_request = -float("inf")  # time.time() of the latest user_request() (a file's clock: see below)
# Runs in child processes (vae/process_run.py) learn of the server's clicks from a file's modification
# time: the server touches it in user_request(), a child reads it between steps (a stat, no pipe).
_clicks_file = None  # the server's: made by clicks_file() when the first training process starts
_watched_clicks_file = None  # a training process's: the server's file, set by watch_clicks()


class RunnerBusy(RuntimeError):
    """Too many runs are training on this server right now."""


def active_runs():
    return _active_runs


def stop_all():
    """Stop every run of this process (for tests and shutdown)."""
    for run in list(live_runs):
        run.stop()


def take_slot():
    global _active_runs
    with _slots_lock:
        if _active_runs >= MAX_RUNS:
            raise RunnerBusy(f"The server is busy: {_active_runs} training runs are going on already "
                             f"(the limit is {MAX_RUNS}). Try again in a few minutes.")
        _active_runs += 1


def free_slot():
    global _active_runs
    with _slots_lock:
        _active_runs -= 1


def user_request():
    """A page is serving someone's click: small-server runs sit out for the next USER_QUIET_S, those
    in this process and those in training processes."""
    global _last_user_request
    _last_user_request = time.time()
    if _clicks_file is not None:
        try:
            os.utime(_clicks_file)
        except OSError:
            pass


def clicks_file() -> str:
    """The file whose modification time tells this server's training processes of its clicks."""
    global _clicks_file
    with _slots_lock:
        if _clicks_file is None:
            fd, _clicks_file = tempfile.mkstemp(prefix="text-vae-clicks-")
            os.close(fd)
            os.utime(_clicks_file, (0, 0))  # no click yet
            atexit.register(os.unlink, _clicks_file)
    return _clicks_file


def watch_clicks(path):
    """In a training process: sit out the clicks of the server that touches `path`."""
    global _watched_clicks_file
    _watched_clicks_file = path


def last_user_request():
    """time.time() of the latest click this process knows of, its own or its server's."""
    if _watched_clicks_file is None:
        return _last_user_request
    try:
        return max(_last_user_request, os.stat(_watched_clicks_file).st_mtime)
    except OSError:  # the server is gone, and with it its file: the run stops when its socket closes
        return _last_user_request


def small_server(cores=None):
    return (cores or os.cpu_count() or 1) <= SMALL_SERVER_CORES


def run_threads(asked, cores=None):
    """Torch threads for one run: what was asked for, but one on a server of <= 2 cores, where a
    second thread only takes the core that the other sessions' clicks need."""
    return 1 if small_server(cores) else max(1, asked)


def lower_priority(niceness):
    """Raise the calling thread's niceness (Linux schedules threads, so the rest of the process
    keeps its own): a training thread then gets the CPU when the pages' threads leave it idle.
    Does nothing where threads cannot be reniced."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
    except (AttributeError, OSError):
        pass


def heldout_sentences(tokenizer, candidates, n=4, min_words=4, max_words=12):
    """The first `n` candidates of a readable length whose words are all in the vocabulary: fixed
    sentences to reconstruct as training goes on (unknown words would only show <unk>)."""
    chosen = []
    for text, ids in zip(candidates, tokenizer.encode_batch(candidates)):
        if min_words <= len(ids) <= max_words and UNK_ID not in ids:
            chosen.append(text)
            if len(chosen) == n:
                break
    return chosen


class Watched:
    """What a run and the pages share about watching it. A run outlives the page that started it (a
    reload opens a new browser session), so it counts who watches it; unwatched for `idle_timeout`
    seconds (None = never), it is abandoned and stops. Needs `self._wake`, a Condition."""

    def _init_watched(self, idle_timeout):
        self.idle_timeout = idle_timeout
        self._watchers = 0
        self._unwatched_since = time.monotonic()

    def attach(self):
        """A page (a browser session) watches this run now."""
        with self._wake:
            self._watchers += 1

    def detach(self):
        """A page stopped watching; with nobody left, the idle clock starts."""
        with self._wake:
            self._watchers = max(0, self._watchers - 1)
            if self._watchers == 0:
                self._unwatched_since = time.monotonic()
                self._wake.notify()  # a paused run must notice too

    @property
    def abandoned(self):
        """Nobody has watched this run for `idle_timeout` seconds."""
        return (self.idle_timeout is not None and self._watchers == 0
                and time.monotonic() - self._unwatched_since >= self.idle_timeout)

    @property
    def active(self):
        return self.status in ("running", "paused")

    def abandoned_message(self, step):
        return f"stopped at step {step}: nobody watched it for {self.idle_timeout:.0f} s"


class TrainingRun(Watched):
    def __init__(self, trainer: Trainer, max_seconds=None, panel_every=100, panel_texts=(),
                 num_samples=4, threads=1, idle_timeout=None, heldout_texts=(), heldout_every=50,
                 yield_to_users=None):
        self.trainer = trainer
        self.max_steps = trainer.config.steps
        self.max_seconds = max_seconds  # training time, pauses not counted; None = no limit
        self.panel_every = panel_every
        self.panel_texts = list(panel_texts)
        self.num_samples = num_samples
        self.threads = run_threads(threads)  # torch threads for this run (a shared CPU server: keep it low)
        # sit out between steps while pages serve clicks (None: on a small server only)
        self.yield_to_users = small_server() if yield_to_users is None else yield_to_users
        self.status = "idle"
        self.message = ""
        self.seconds = 0.0  # time spent training
        self._lock = threading.Lock()  # guards the model, the history and the status
        self._wake = threading.Condition(self._lock)
        self._init_watched(idle_timeout)
        self._metrics, self._panels, self._measurements = [], [], []
        # Training-batch numbers carry the run's knobs (word dropout above all), so runs compare on
        # fixed held-out sentences instead, and on as many training sentences measured the same
        # way: a large gap between the two means the corpus was learned by heart.
        self.heldout_every = heldout_every
        trained = trainer.trained
        self._heldout_ids = [ids for ids in trained.tokenizer.encode_batch(list(heldout_texts), trained.max_len)
                             if ids]
        self._train_ids = trainer.train_ids[: len(self._heldout_ids)]
        self._steps_requested = 0  # single steps asked for while paused
        self._stop_requested = False
        self._thread = None

    # controls (called from the page's thread)

    def start(self):
        """Start training in a new thread; raises RunnerBusy when the server is at its cap."""
        if self._thread is not None:
            raise RuntimeError("this run was started already; make a new TrainingRun")
        take_slot()
        live_runs.add(self)
        # A training thread runs Python between its (small) tensor operations and holds the GIL while
        # it does; a page's thread waits up to the switch interval (5 ms by default) for every one of
        # the hundreds of operations a decode takes. 0.5 ms lets the pages' threads in sooner.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self.status = "running"
        self._thread = threading.Thread(target=self._loop, name="vae-training-run", daemon=True)
        self._thread.start()

    def pause(self):
        with self._wake:
            if self.status == "running":
                self.status = "paused"
                self._wake.notify()  # a run sitting out clicks must notice too

    def resume(self):
        with self._wake:
            if self.status == "paused":
                self.status = "running"
                self._wake.notify()

    def step(self):
        """Train on one more batch, while paused."""
        with self._wake:
            if self.status == "paused":
                self._steps_requested += 1
                self._wake.notify()

    def stop(self, timeout=10.0):
        """Ask the thread to stop after its current batch and wait for it."""
        with self._wake:
            self._stop_requested = True
            self._wake.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    close = stop  # the release hook of whoever owns the run

    # what the page reads

    @property
    def working(self):
        """The thread is still going: an ended run measures and draws its last panel before it exits."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def steps_done(self):
        return self.trainer.step

    @property
    def latent_size(self):
        return self.trainer.model.config.latent_size

    def weights_are_finite(self):
        """False once a NaN reached the weights: then no step of this run is worth using."""
        with self._lock:
            return self.trainer.weights_are_finite()

    def has_usable_model(self):
        """Whether there is a model to use or download: the run is paused or over, and its weights
        hold no NaN (a run stopped by a NaN loss keeps its last good step: the bad one was not applied)."""
        return self.status in ("paused", "finished", "stopped") or (
            self.status == "failed" and self.weights_are_finite())

    def metrics(self, since=0):
        """The Trainer's metrics dicts (plus `seconds` of training), oldest first."""
        with self._lock:
            return [dict(m) for m in self._metrics[since:]]

    def measurements(self, since=0):
        """[{"step", "heldout": {elbo, recon, kl, active_units}, "train": {the same}}], oldest first;
        empty without held-out sentences."""
        with self._lock:
            return copy.deepcopy(self._measurements[since:])

    def panels(self, since=0):
        """[{"step", "reconstructions": [(sentence, decoded)], "samples": [decoded]}], oldest first."""
        with self._lock:
            return copy.deepcopy(self._panels[since:])

    def snapshot_model(self) -> TrainedModel:
        """A deep copy of the model as it is now, in eval mode; training does not change it."""
        with self._lock:  # never copy weights halfway through an optimiser step
            trained = self.trainer.trained
            model = copy.deepcopy(trained.model).eval()
            card = {**copy.deepcopy(trained.card), "steps": self.trainer.step}
        # the tokenizer is never changed by training, so the copy can share it
        return TrainedModel(model, trained.tokenizer, trained.max_len, card)

    # the thread

    def _loop(self):
        # torch.set_num_threads sets this thread's OpenMP team size and the default of threads started
        # later (Streamlit starts one per rerun); threads already running keep theirs
        torch.set_num_threads(self.threads)
        lower_priority(NICENESS)
        try:
            self._panel()  # what the untrained model writes: the "before" picture
            self._measure()
            while True:
                # deciding and stepping under one lock: once pause() or stop() returns, no new
                # batch starts
                with self._wake:
                    if not self._next_action():
                        break
                    single_step = self.status == "paused"  # Step pressed: show what it changed
                    started = time.perf_counter()
                    metrics = self.trainer.train_step()
                    self.seconds += time.perf_counter() - started
                    if metrics is not None:
                        self._metrics.append({**metrics, "seconds": round(self.seconds, 3)})
                # A lock is not fair: on two cores this thread took it straight back for the next step,
                # and a Pause, Stop or snapshot waiting for it could wait tens of seconds behind short
                # steps. A moment's sleep lets a waiting control in first.
                time.sleep(HANDOFF_S)
                if self.trainer.step % self.panel_every == 0:
                    self._panel()
                if single_step or self.trainer.step % self.heldout_every == 0:
                    self._measure()
                if self.yield_to_users and self.trainer.step < self.max_steps:  # a finished run frees its slot now
                    self._sit_out_clicks()
            self._measure()  # where the run ended (once per step: nothing new if measured already)
            self._panel()  # and what the model writes there (a Stop mid-way shows the last step, not an old one)
        except NonFiniteLoss as e:
            self._end("failed", str(e))
        except Exception as e:  # any error ends the run with its message, never a hung page
            self._end("failed", f"training failed at step {self.trainer.step + 1}: {type(e).__name__}: {e}")
        finally:
            free_slot()

    def _next_action(self):
        """Wait while paused; True when the next batch should run, False when the run is over.
        Called with the lock held (the wait releases it)."""
        while (self.status == "paused" and not self._steps_requested and not self._stop_requested
               and not self.abandoned):
            self._wake.wait(timeout=1.0 if self.idle_timeout is not None else None)
        if self._stop_requested:
            self.status, self.message = "stopped", f"stopped at step {self.trainer.step}"
            return False
        if self.abandoned:
            self.status, self.message = "stopped", self.abandoned_message(self.trainer.step)
            return False
        if self.trainer.step >= self.max_steps:
            self.status, self.message = "finished", f"finished: {self.trainer.step} steps"
            return False
        if self.max_seconds is not None and self.seconds >= self.max_seconds:
            self.status = "finished"
            self.message = (f"stopped at the time limit ({self.max_seconds:.0f} s of training) "
                            f"after {self.trainer.step} steps")
            return False
        if self._steps_requested:
            self._steps_requested -= 1
        return True

    def _sit_out_clicks(self):
        """Wait while a page serves a click (user_request() less than USER_QUIET_S ago), for at most
        MAX_YIELD_S; a stop, pause or step request ends the wait at once."""
        deadline = time.monotonic() + MAX_YIELD_S  # the wait's own clock, which never steps back
        with self._wake:
            while not (self._stop_requested or self.status != "running"):
                quiet_in = last_user_request() + USER_QUIET_S - time.time()  # the clicks' clock: a file's
                wait = min(quiet_in, deadline - time.monotonic())
                if wait <= 0:
                    return
                self._wake.wait(wait)

    def _end(self, status, message):
        with self._lock:
            self.status, self.message = status, message

    def _measure(self):
        if not self._heldout_ids:
            return
        model = self.trainer.model
        measured = {"step": self.trainer.step, "heldout": measure(model, self._heldout_ids),
                    "train": measure(model, self._train_ids)}
        with self._lock:
            if not self._measurements or self._measurements[-1]["step"] != measured["step"]:
                self._measurements.append(measured)

    def _panel(self):
        """Decode the fixed sentences and a few prior samples with the model in eval mode (no
        dropout), then put it back in train mode."""
        if not self.panel_texts and not self.num_samples:
            return
        if self._panels and self._panels[-1]["step"] == self.trainer.step:
            return  # this step's panel is drawn already
        model = self.trainer.model
        model.eval()
        try:
            recon = reconstruct(self.trainer.trained, self.panel_texts) if self.panel_texts else []
            # the same seed every time: the same z's and noise, so only the model changes
            samples = sample_prior(self.trainer.trained, self.num_samples, seed=0) if self.num_samples else []
        finally:
            model.train()
        panel = {"step": self.trainer.step,
                 "reconstructions": [(t, s.text) for t, s in zip(self.panel_texts, recon)],
                 "samples": [s.text for s in samples]}
        with self._lock:
            self._panels.append(panel)
