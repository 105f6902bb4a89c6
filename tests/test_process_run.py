"""Training runs in child processes, which leave the pages' clicks room: the same controls as a
thread's run, across a process boundary that a crash does not cross."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from conftest import SENTENCES, make_run, wait_until

from vae import runner
from vae.process_run import ProcessRun

pytestmark = pytest.mark.usefixtures("no_runs_left_behind")


def process_run(steps=10_000, **options):
    """The tiny model of conftest.make_run, trained in a child process."""
    trainer = make_run(steps).trainer
    return ProcessRun(trainer, **options)


def test_a_process_run_streams_its_history_and_trains_the_same_weights_as_a_thread():
    options = dict(panel_every=10, panel_texts=SENTENCES[:2], num_samples=2, heldout_texts=SENTENCES[:3],
                   heldout_every=10)
    run = process_run(steps=30, **options)
    run.start()
    assert run.status == "running" and runner.active_runs() == 1
    wait_until(lambda: not run.active, timeout=60)
    assert run.status == "finished" and run.steps_done == 30 and "30 steps" in run.message
    assert [m["step"] for m in run.metrics()] == [5, 10, 15, 20, 25, 30]
    assert [p["step"] for p in run.panels()] == [0, 10, 20, 30]
    assert [m["step"] for m in run.measurements()] == [0, 10, 20, 30]
    wait_until(lambda: runner.active_runs() == 0)

    thread = make_run(30, **options)
    thread.start()
    wait_until(lambda: not thread.active)
    weights = run.snapshot_model().model.state_dict()  # from the child's last save
    assert all(torch.equal(weights[k], v) for k, v in thread.snapshot_model().model.state_dict().items())
    assert run.panels() == thread.panels()


def test_pause_step_resume_and_stop_reach_the_child():
    run = process_run()
    run.start()
    run.pause()  # waits for the child, which starts by importing torch
    assert run.status == "paused" and run.has_usable_model()
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, run._process.pid) == min(19, mine + runner.NICENESS)  # low priority
    held = run.steps_done
    time.sleep(0.5)
    assert run.steps_done == held
    run.step()
    wait_until(lambda: run.steps_done == held + 1)
    assert run.snapshot_model().card["steps"] == held + 1  # what "Use this model" gets
    run.resume()
    assert run.status == "running"
    wait_until(lambda: run.steps_done > held + 3)
    run.stop()
    assert run.status == "stopped" and run._process.returncode == 0
    assert runner.active_runs() == 0


def test_a_killed_child_fails_its_run_only_and_leaves_its_last_saved_step():
    killed, other = process_run(), process_run()
    killed.start()
    other.start()
    wait_until(lambda: killed.steps_done > 2, timeout=60)
    killed.pause()  # which saves a step at once (else one is saved every SAVE_EVERY_S)
    killed.resume()
    os.kill(killed._process.pid, signal.SIGKILL)
    wait_until(lambda: not killed.active)
    assert killed.status == "failed" and "SIGKILL" in killed.message and "last saved step" in killed.message
    assert killed.has_usable_model()
    assert killed.snapshot_model().card["steps"] == killed.steps_done == killed.saved_step
    going = other.steps_done
    wait_until(lambda: other.steps_done > going + 3)  # the other run goes on
    assert other.status == "running" and runner.active_runs() == 1


def test_a_nan_loss_fails_the_run_with_its_message_and_offers_no_broken_model():
    run = process_run()
    with torch.no_grad():
        run._trainer.model.out_bias.fill_(math.nan)
    run.start()
    wait_until(lambda: not run.active, timeout=60)
    assert run.status == "failed" and "nan" in run.message.lower() and "learning rate" in run.message
    assert not run.has_usable_model()


def test_a_run_nobody_watches_stops_after_its_idle_timeout():
    run = process_run(idle_timeout=0.5)
    run.attach()
    run.start()
    run.pause()
    run.detach()
    wait_until(lambda: not run.active, timeout=10)
    assert run.status == "stopped" and "nobody watched it" in run.message


def test_process_and_thread_runs_share_the_servers_cap(monkeypatch):
    monkeypatch.setattr(runner, "MAX_RUNS", 2)
    first, second = make_run(10_000), process_run()
    first.start()
    second.start()
    with pytest.raises(runner.RunnerBusy):
        process_run().start()
    first.stop()
    assert runner.active_runs() == 1


def test_the_child_exits_when_its_parent_dies(tmp_path):
    """A server killed outright (no clean-up of its own) leaves no training process behind."""
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path[:0] = [{str(os.path.dirname(__file__))!r}]
        from conftest import make_run
        from vae.process_run import ProcessRun
        run = ProcessRun(make_run(10_000).trainer)
        run.start()
        run.pause()
        run.resume()
        print(run._process.pid, flush=True)
        time.sleep(600)
    """))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=root,
                              env={**os.environ, "PYTHONPATH": root})
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.kill()
    parent.wait()
    wait_until(lambda: not _alive(child), timeout=20)


def _alive(pid):
    """Whether `pid` runs (a zombie waiting for its reaper does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_process_run_sits_out_the_servers_clicks():
    run = process_run(yield_to_users=True)
    run.start()
    wait_until(lambda: run.steps_done >= 3, timeout=60)
    clicking_until = time.monotonic() + 3.0
    runner.user_request()
    time.sleep(0.5)  # the step under way ends, and its news arrives
    held = run.steps_done
    while time.monotonic() < clicking_until:  # a stream of clicks
        runner.user_request()
        time.sleep(0.2)
    assert run.steps_done <= held + 2  # a step at most every MAX_YIELD_S (2 s) while clicks go on
    wait_until(lambda: run.steps_done > held + 5)  # and on it trains once they stop


def can_set_idle_priority():
    """Whether this machine lets a process put its child under SCHED_IDLE (start_child tries, and goes on
    without it where it cannot)."""
    if not hasattr(os, "SCHED_IDLE"):
        return False
    probe = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10)"])
    try:
        os.sched_setscheduler(probe.pid, os.SCHED_IDLE, os.sched_param(0))
        return True
    except OSError:
        return False
    finally:
        probe.kill()
        probe.wait()


def test_a_spare_child_started_ahead_trains_the_next_run_the_same_and_logs_in_its_folder():
    from vae import process_run as module

    module.prepare_spare()
    module.prepare_spare()  # one at a time: the same child
    spare_pid = module._spare[0].pid
    time.sleep(3)  # the page was open for a moment before Start: the child has imported torch
    run = process_run(steps=20, panel_every=10, panel_texts=SENTENCES[:2], num_samples=2)
    run.start()
    assert run._process.pid == spare_pid and module.take_spare() is None  # the run took it
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, spare_pid) == min(19, mine + runner.NICENESS)
    if can_set_idle_priority():
        assert os.sched_getscheduler(spare_pid) == os.SCHED_IDLE  # set by the parent, before the child's imports
    wait_until(lambda: not run.active, timeout=60)
    thread = make_run(20, panel_every=10, panel_texts=SENTENCES[:2], num_samples=2)
    thread.start()
    wait_until(lambda: not thread.active)
    assert run.status == "finished" and run.panels() == thread.panels()
    assert (run._process.wait(timeout=30)) == 0
    from pathlib import Path

    assert (Path(run._folder.name) / "child.log").is_file()  # where a crash's last line would be read
    run.close()
    wait_until(lambda: runner.active_runs() == 0)


def test_a_spare_child_exits_when_the_server_goes_away():
    from vae import process_run as module

    module.prepare_spare()
    process, parent_end = module.take_spare()
    parent_end.close()
    assert process.wait(timeout=60) == 0


def test_a_run_whose_spare_child_died_starts_a_fresh_one():
    from vae import process_run as module

    module.prepare_spare()
    module._spare[0].kill()
    module._spare[0].wait()
    run = process_run(steps=10)
    run.start()
    wait_until(lambda: not run.active, timeout=60)
    assert run.status == "finished" and module._spare is None
    run.close()
