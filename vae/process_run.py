"""A training run in a child process: the server's pages keep their interpreter, and a crash or an
out-of-memory kill stays in the child.

    run = ProcessRun(trainer, max_seconds=600, panel_texts=[...])  # TrainingRun's arguments
    run.start()   # the Trainer goes to a private folder at step 0; `python -m vae.process_run` trains it
    ...           # then the same controls and reads as vae.runner.TrainingRun

The parent writes the Trainer with `Trainer.save` (safetensors and JSON: nothing is pickled), and the
child resumes it bit for bit and trains it in a `TrainingRun` of its own, on one torch thread, at the
lowest CPU priority, and on a small server sitting out the server's clicks as a thread's run does (it
reads their time off a file that the server touches: `runner.user_request`). They talk in JSON lines
over a socket pair: commands go down (pause, resume, step, stop, save), and the child sends its
status, metrics, held-out measurements and panels up as they come.
The parent mirrors them in a reader thread, so the page's reads never wait for the child.

Weights come back as checkpoints written atomically by `save_checkpoint`: one on request ("Use this
model", "Download"), and every few seconds the latest one with finite weights, which is what a run
that died (SIGKILL, out of memory) still offers. The child exits when the run ends or when its socket
closes, which is also what happens when the server goes away, however it goes.
"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .checkpoint import CheckpointError, load_model, save_checkpoint
from .paths import ROOT
from .runner import NICENESS, Watched, clicks_file, free_slot, live_runs, run_threads, take_slot, watch_clicks

START = "start"  # the Trainer at step 0, written by the parent
LATEST = "latest"  # the latest checkpoint with finite weights, written by the child every SAVE_EVERY_S
SNAPSHOTS = "snapshots"  # one folder per "save" command, read once by the parent
SAVE_EVERY_S = 5.0  # what a killed run loses at most, in seconds of training
COMMAND_TIMEOUT_S = 60.0  # a child starting up imports torch first: a pause right after Start waits for that
PUMP_S = 0.1  # how often the child sends what is new


# the parent's side


class ProcessRun(Watched):
    def __init__(self, trainer, max_seconds=None, panel_every=100, panel_texts=(), num_samples=4, threads=1,
                 idle_timeout=None, heldout_texts=(), heldout_every=50, yield_to_users=None):
        self._trainer = trainer  # until start() writes it out; the parent keeps no model while training
        self.max_steps = trainer.config.steps
        self.latent_size = trainer.model.config.latent_size
        self._options = dict(max_seconds=max_seconds, panel_every=panel_every, panel_texts=list(panel_texts),
                             num_samples=num_samples, threads=run_threads(threads),
                             heldout_texts=list(heldout_texts), heldout_every=heldout_every,
                             yield_to_users=yield_to_users)
        self.status, self.message = "idle", ""
        self.seconds, self.steps_done = 0.0, trainer.step
        self.saved_step = None  # the step of the latest checkpoint with finite weights, in LATEST
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._init_watched(idle_timeout)
        self._metrics, self._panels, self._measurements = [], [], []
        self._answers = {}  # command number -> the child's answer, until its sender takes it
        self._waiting = set()  # the numbers whose senders still wait (a late answer is dropped)
        self._commands = 0
        self._folder = None  # a TemporaryDirectory: removed by close(), or at exit
        self._process = self._socket = self._reader = None
        self._send_lock = threading.Lock()  # two tabs may watch one run, and the reader sends too
        self._abandoned = False
        self._stopping = False  # stop() was asked: an exit after it is a stop, even a forced one
        self._over = False  # the reader has seen the child's end: no command will be answered
        self._error = ""  # what broke the reader, if anything did

    # controls

    def start(self):
        """Write the Trainer out and start the child; raises RunnerBusy when the server is at its cap."""
        if self._trainer is None:
            raise RuntimeError("this run was started already; make a new ProcessRun")
        take_slot()
        parent_end = child_end = None
        try:
            self._folder = tempfile.TemporaryDirectory(prefix="text-vae-run-")
            folder = Path(self._folder.name)
            trainer, self._trainer = self._trainer, None
            trainer.save(folder / START)
            (folder / "train_ids.json").write_text(json.dumps(trainer.train_ids))
            (folder / "run.json").write_text(json.dumps({**self._options, "clicks_file": clicks_file()}))
            del trainer
            spare = take_spare()
            if spare is not None:  # started ahead (prepare_spare): it only has to load the run
                try:
                    spare[1].sendall(json.dumps({"folder": str(folder)}).encode() + b"\n")
                    self._process, parent_end = spare
                except OSError:  # it died since take_spare looked: end it, and start a fresh child
                    end_spare(spare)
                    spare = None
            if spare is None:
                parent_end, child_end = socket.socketpair()
                with open(folder / "child.log", "wb") as log:
                    self._process = start_child([str(folder), str(child_end.fileno())], child_end,
                                                stdout=log, stderr=subprocess.STDOUT)
                child_end.close()
        except BaseException:
            free_slot()
            for end in (parent_end, child_end):
                if end is not None:
                    end.close()
            if self._folder is not None:
                self._folder.cleanup()
            raise
        self._socket = parent_end
        live_runs.add(self)
        self.status = "running"
        self._reader = threading.Thread(target=self._read, name="vae-process-run", daemon=True)
        self._reader.start()

    def pause(self):
        if self.status == "running":
            self._command("pause")

    def resume(self):
        if self.status == "paused":
            self._command("resume")

    def step(self):
        """Train on one more batch, while paused."""
        if self.status == "paused":
            self._command("step", wait=False)

    def stop(self, timeout=10.0):
        """Ask the child to stop after its current batch and wait for it to exit (a child still busy
        after `timeout` s, at the lowest priority on a busy server, is ended: the run is stopped all
        the same, at its last saved step)."""
        if self._process is None:
            return
        self._stopping = True
        self._command("stop", wait=False)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._reader is not threading.current_thread():
            self._reader.join(timeout)

    def close(self):
        """Stop the run and delete its folder (the release hook of whoever owns the run)."""
        self.stop()
        if self._folder is not None:
            self._folder.cleanup()
        with self._wake:
            self.saved_step = None  # its checkpoints are gone with the folder

    # what the page reads

    def metrics(self, since=0):
        with self._lock:
            return [dict(m) for m in self._metrics[since:]]

    def measurements(self, since=0):
        with self._lock:
            return list(self._measurements[since:])  # the reader never changes an item once added

    def panels(self, since=0):
        with self._lock:
            return list(self._panels[since:])

    def has_usable_model(self):
        """A paused or ended run whose child saved a step (one killed mid-way offers its last save;
        the child saves only finite weights)."""
        return self.status in ("paused", "finished", "stopped", "failed") and self.saved_step is not None

    def snapshot_model(self):
        """The model as it is now (a live child saves it for this), or as last saved; in eval mode."""
        if self._process is not None and self._process.poll() is None:
            answer = self._command("save")
            if answer and answer.get("path"):
                path = Path(answer["path"])
                try:
                    return load_model(path)
                finally:
                    shutil.rmtree(path, ignore_errors=True)
        if self.saved_step is None:
            raise CheckpointError("this run has no saved step to use (none yet, or the run was closed)")
        return load_model(Path(self._folder.name) / LATEST)

    # talking to the child

    def _command(self, name, wait=True):
        """Send a command; with `wait`, return the child's answer once its state reflects it (None if
        the child ends first, or takes over COMMAND_TIMEOUT_S). Never called with `wait` from the
        reader thread, which would wait for itself."""
        with self._wake:
            self._commands += 1
            number = self._commands
            if wait:
                self._waiting.add(number)
        try:
            with self._send_lock:
                self._socket.sendall((json.dumps({"command": name, "id": number}) + "\n").encode())
        except OSError:  # the child is gone; the reader says why
            with self._wake:
                self._waiting.discard(number)
            return None
        if not wait:
            return None
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        with self._wake:
            while number not in self._answers and not self._over and time.monotonic() < deadline:
                self._wake.wait(deadline - time.monotonic())
            self._waiting.discard(number)
            return self._answers.pop(number, None)

    def _read(self):
        """The reader thread: mirror what the child sends, watch the idle clock, note the child's end."""
        buffer = b""
        try:
            while True:
                # select's timeout, not the socket's: that one would apply to the commands' sends too
                readable, _, _ = select.select([self._socket], [], [], 1.0)
                if readable:
                    chunk = self._socket.recv(1 << 16)
                    if not chunk:
                        break
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        self._receive(json.loads(line))
                if self.abandoned and not self._abandoned and self.active:
                    self._abandoned = True
                    self._command("stop", wait=False)
        except Exception as e:  # a broken message or a lost socket: the run ends with what it was
            self._error = f"{type(e).__name__}: {e}"
            self._process.kill()
        finally:
            self._socket.close()
            code = self._process.wait()
            free_slot()
            self._ended(code)

    def _receive(self, event):
        with self._wake:
            kind = event["type"]
            if kind == "state":
                self.status, self.message = event["status"], event["message"]
                self.steps_done, self.seconds = event["steps"], event["seconds"]
                if self._abandoned and self.status == "stopped":  # the stop the reader sent, and why
                    self.message = self.abandoned_message(self.steps_done)
            elif kind == "saved":
                self.saved_step = event["step"]
            elif kind == "panels":  # JSON has no tuples: (sentence, decoded) pairs as TrainingRun gives them
                self._panels.extend({**p, "reconstructions": [tuple(r) for r in p["reconstructions"]]}
                                    for p in event["items"])
            elif kind == "metrics":
                self._metrics.extend(event["items"])
            elif kind == "measurements":
                self._measurements.extend(event["items"])
            elif kind == "ack":
                if event["id"] in self._waiting:
                    self._answers[event["id"]] = event
            self._wake.notify_all()

    def _ended(self, code):
        with self._wake:
            self._over = True
            if self.active and self._stopping:  # ended by stop() after its timeout
                self.status, self.message = "stopped", f"stopped at step {self.steps_done:,}"
            elif self.active:  # the child exited without saying why: killed, or crashed in native code
                reached = self.steps_done
                self.status, self.message = "failed", f"the training process ended at step {reached:,} ({_exit(code)})"
                if self.saved_step is not None:
                    self.steps_done = self.saved_step
                    self.message += f"; its last saved step, {self.saved_step:,}, is kept"
                tail = self._error or _log_tail(Path(self._folder.name) / "child.log")
                if tail:
                    self.message += f": {tail}"
            self._wake.notify_all()


def _exit(code):
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:  # a real-time signal has no name
            return f"killed by signal {-code}"
        return f"killed by {name}" + (", perhaps for lack of memory" if name == "SIGKILL" else "")
    return f"exit status {code}"


def _log_tail(path):
    """The last line the child wrote (a traceback's ends with the error), at most 300 characters."""
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    return text.splitlines()[-1][-300:] if text else ""


# the child's side


def child_main(folder: Path, fd: int):
    """Train the run in `folder`, answering the parent on socket `fd`, until the run ends or the parent goes."""
    import torch

    from .runner import TrainingRun
    from .train import Trainer

    channel = socket.socket(fileno=fd)
    options = json.loads((folder / "run.json").read_text())
    watch_clicks(options.pop("clicks_file"))  # it sits out the server's clicks, as a thread's run does
    torch.set_num_threads(options["threads"])
    trainer = Trainer.resume(folder / START, [], train_ids=json.loads((folder / "train_ids.json").read_text()))
    run = TrainingRun(trainer, **options)
    run.start()
    _Pump(run, channel, folder).serve()


# A spare child: started before its run (the Train page asks for one when it opens), it spends the
# largest part of a child's start-up, Python importing torch and the trainer (1.7 s of the 2.6 s from
# Start to the first chart point here), while nobody waits, then waits for its run's folder.
_spare = None  # (Popen, the parent's end of its socket), or None
_spare_lock = threading.Lock()


def prepare_spare():
    """Have a spare child ready for the next ProcessRun.start() (one at a time; no-op if one is alive)."""
    global _spare
    with _spare_lock:
        if _spare is not None and _spare[0].poll() is None:
            return
        if _spare is not None:
            end_spare(_spare)
            _spare = None
        parent_end, child_end = socket.socketpair()
        try:
            process = start_child(["--spare", str(child_end.fileno())], child_end,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        _spare = (process, parent_end)


def take_spare():
    """The spare child and its socket, if one is alive; None otherwise. It is the caller's from then on."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is None:
        return None
    if spare[0].poll() is None:
        return spare
    end_spare(spare)
    return None


def end_spare(spare):
    process, parent_end = spare
    parent_end.close()
    process.kill()
    process.wait()


def spare_main(fd: int):
    """A spare child: import what a run needs, then wait for the run's folder (one JSON line on socket
    `fd`) and train it as child_main does; exit if the parent goes first."""
    import torch  # noqa: F401  (the slow imports, done before anyone waits for them)

    from . import runner, train  # noqa: F401

    channel = socket.socket(fileno=fd)
    line = b""
    while not line.endswith(b"\n"):  # byte by byte: the parent's first command must stay unread
        byte = channel.recv(1)
        if not byte:
            return  # the parent went away before it had a run for this child
        line += byte
    fd = channel.detach()
    folder = Path(json.loads(line)["folder"])
    log = open(folder / "child.log", "ab")  # where a fresh child writes: the parent shows its last line
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    child_main(folder, fd)


def start_child(arguments, child_end, **popen):
    """`python -m vae.process_run *arguments`, handed the socket `child_end`, its priority lowered right
    after it starts, before its imports. The parent lowers it: a child that lowered its own did so only
    after importing torch, which took over 3 s on a busy machine, while the pages waited for the CPU.
    (Linux sets these per thread; the child has no other thread yet, and those it starts inherit them.)"""
    process = subprocess.Popen([sys.executable, "-m", "vae.process_run", *arguments], pass_fds=[child_end.fileno()],
                               stdin=subprocess.DEVNULL, cwd=ROOT, **popen)
    try:  # the whole process (its threads inherit it): the server's threads get the CPU first
        os.setpriority(os.PRIO_PROCESS, process.pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICENESS))
    except (AttributeError, OSError):  # it has ended already, or no such call here
        pass
    try:
        # Linux's SCHED_IDLE: it runs only on a core that nothing else wants. A niceness of 19 still takes
        # a share of a busy core, and on two cores that share slowed the pages' clicks (the load
        # benchmark, bench/app.py: Sample clicks while training runs). Elsewhere, niceness alone.
        os.sched_setscheduler(process.pid, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    return process


class _Pump:
    """The child's main thread: commands in, what is new out, the latest good weights to disk."""

    def __init__(self, run, channel, folder):
        self.run, self.channel, self.folder = run, channel, folder
        self.sent = {"metrics": 0, "panels": 0, "measurements": 0}
        self.state = None
        self.saved_step, self.saved_at = None, time.monotonic()
        self.buffer = b""
        self.snapshots = 0

    def serve(self):
        while True:
            readable, _, _ = select.select([self.channel], [], [], PUMP_S)
            if readable and not self.read_commands():
                self.run.stop()  # the parent is gone, and nobody will read a save: leave nothing behind
                shutil.rmtree(self.folder, ignore_errors=True)
                return
            if not self.run.active and not self.run.working:
                self.save(LATEST)  # where it ended (not at all if a NaN reached the weights) ...
                self.send_news(ended=True)  # ... before the parent hears that it ended
                return
            self.send_news()
            if self.run.active and time.monotonic() - self.saved_at >= SAVE_EVERY_S:
                self.save(LATEST)

    def read_commands(self):
        chunk = self.channel.recv(1 << 16)
        if not chunk:
            return False
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            command = json.loads(line)
            answer = {}
            name = command["command"]
            if name in ("pause", "resume", "step", "stop"):
                getattr(self.run, name)()
                if name == "pause":
                    self.save(LATEST)  # a paused run offers its model at once
            elif name == "save":
                self.snapshots += 1
                path = self.folder / SNAPSHOTS / str(self.snapshots)
                save_checkpoint(self.run.snapshot_model(), path)
                answer["path"] = str(path)
            self.send_news()  # the state after the command, before its answer
            self.send({"type": "ack", "id": command["id"], **answer})
        return True

    def send_news(self, ended=False):
        """New metrics, panels and measurements, and the state if it changed; an ended run's state
        only once `ended` (its thread still measures and draws a last panel after it says so)."""
        run = self.run
        for kind in self.sent:
            items = getattr(run, kind)(since=self.sent[kind])
            if items:
                self.sent[kind] += len(items)
                self.send({"type": kind, "items": items})
        state = {"status": run.status, "message": run.message, "steps": run.steps_done,
                 "seconds": round(run.seconds, 3)}
        if state != self.state and (run.active or ended):
            self.state = state
            self.send({"type": "state", **state})

    def save(self, name):
        """The model as it is now into `name`, if it moved since the last save and its weights are finite."""
        self.saved_at = time.monotonic()
        step = self.run.steps_done
        if step == self.saved_step or not self.run.weights_are_finite():
            return
        save_checkpoint(self.run.snapshot_model(), self.folder / name)
        self.saved_step = step
        self.send({"type": "saved", "step": step})

    def send(self, event):
        try:
            self.channel.sendall((json.dumps(event) + "\n").encode())
        except OSError:
            pass  # the parent is gone; the next read says so


if __name__ == "__main__":
    if sys.argv[1] == "--spare":
        spare_main(int(sys.argv[2]))
    else:
        child_main(Path(sys.argv[1]), int(sys.argv[2]))
