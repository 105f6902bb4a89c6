"""The background training runner: the controls, the history, the limits, and how it fails."""

import math
import time

import pytest
import torch
from conftest import SENTENCES, make_run, wait_until

from vae import runner
from vae.runner import RunnerBusy
from vae.train import new_model

pytestmark = pytest.mark.usefixtures("no_runs_left_behind")


def test_a_run_trains_to_its_step_limit_and_finishes():
    run = make_run(steps=20)
    assert run.status == "idle"
    run.start()
    wait_until(lambda: not run.active)
    assert run.status == "finished"
    assert run.steps_done == 20
    assert "20 steps" in run.message


def test_metrics_arrive_in_step_order():
    run = make_run(steps=30)
    run.start()
    wait_until(lambda: not run.active)
    metrics = run.metrics()
    assert [m["step"] for m in metrics] == [5, 10, 15, 20, 25, 30]
    assert all({"elbo", "recon", "kl", "kl_weight", "active_units", "tokens_per_s", "seconds"} <= m.keys()
               for m in metrics)
    assert [m["seconds"] for m in metrics] == sorted(m["seconds"] for m in metrics)
    assert [m["step"] for m in run.metrics(since=4)] == [25, 30]


def test_pause_holds_the_run_and_resume_continues_it():
    run = make_run(steps=10_000)
    run.start()
    wait_until(lambda: run.steps_done >= 3)
    run.pause()
    assert run.status == "paused"
    held = run.steps_done
    time.sleep(0.3)
    assert run.steps_done == held
    run.resume()
    assert run.status == "running"
    wait_until(lambda: run.steps_done > held + 3)


def clicked_run(monkeypatch, quiet_s=60.0, max_yield_s=60.0, steps=10_000):
    """A run that sits out clicks, started just after one (`quiet_s` and `max_yield_s` set the wait)."""
    monkeypatch.setattr(runner, "USER_QUIET_S", quiet_s)
    monkeypatch.setattr(runner, "MAX_YIELD_S", max_yield_s)
    run = make_run(steps=steps, yield_to_users=True)
    runner.user_request()
    run.start()
    return run


def sitting_out(run, quiet=0.3):
    """Waits until the run's step count has not moved for `quiet` seconds; returns it."""
    while True:
        held = run.steps_done
        time.sleep(quiet)
        if run.steps_done == held:
            return held


def test_a_run_sits_out_while_pages_serve_clicks_and_then_goes_on(monkeypatch):
    monkeypatch.setattr(runner, "USER_QUIET_S", 3.0)
    monkeypatch.setattr(runner, "MAX_YIELD_S", 60.0)
    run = make_run(steps=10_000, yield_to_users=True)
    run.start()
    wait_until(lambda: run.steps_done >= 3)
    clicked = time.monotonic()
    runner.user_request()
    held = sitting_out(run, quiet=0.5)
    assert time.monotonic() - clicked < 3.0  # it sat out within the quiet time
    wait_until(lambda: run.steps_done > held + 3)  # and trains on once the clicks are over
    assert time.monotonic() - clicked >= 3.0


def test_a_stream_of_clicks_slows_a_run_but_never_stops_it(monkeypatch):
    run = clicked_run(monkeypatch, max_yield_s=0.2)
    wait_until(lambda: run.steps_done >= 1)
    started, first = time.monotonic(), run.steps_done
    wait_until(lambda: run.steps_done >= first + 3)
    assert time.monotonic() - started >= 2 * 0.2  # at least two waits of MAX_YIELD_S between those steps


def test_stop_ends_a_runs_wait_for_quiet_at_once(monkeypatch):
    run = clicked_run(monkeypatch)
    sitting_out(run)
    started = time.monotonic()
    run.stop()
    assert run.status == "stopped" and time.monotonic() - started < 1.0


def test_pause_then_step_ends_a_runs_wait_for_quiet_and_steps_once(monkeypatch):
    run = clicked_run(monkeypatch)
    held = sitting_out(run)
    run.pause()
    run.step()
    wait_until(lambda: run.steps_done == held + 1, timeout=5.0)  # neither the pause nor the step sits out
    run.step()
    wait_until(lambda: run.steps_done == held + 2, timeout=5.0)


def test_a_run_at_its_step_limit_does_not_sit_out(monkeypatch):
    run = clicked_run(monkeypatch, steps=1)
    wait_until(lambda: not run.active, timeout=5.0)
    assert run.status == "finished"


def test_step_trains_one_batch_while_paused():
    run = make_run(steps=10_000)
    run.start()
    run.pause()
    held = run.steps_done
    run.step()
    wait_until(lambda: run.steps_done == held + 1)
    time.sleep(0.2)
    assert run.steps_done == held + 1
    assert run.status == "paused"


def test_step_does_nothing_while_running_or_finished():
    run = make_run(steps=5)
    run.step()  # idle: nothing to do, nothing queued
    run.start()
    wait_until(lambda: not run.active)
    run.step()
    time.sleep(0.1)
    assert run.steps_done == 5


def test_stop_ends_the_thread_and_frees_its_slot():
    run = make_run(steps=10_000)
    run.start()
    assert runner.active_runs() == 1
    wait_until(lambda: run.steps_done >= 2)
    asked = time.monotonic()
    run.stop()
    assert time.monotonic() - asked < 2.0  # its steps take milliseconds (it once waited 49 s for the lock)
    assert run.status == "stopped"
    assert not run._thread.is_alive()
    assert runner.active_runs() == 0
    steps = run.steps_done
    time.sleep(0.1)
    assert run.steps_done == steps


def test_stop_while_paused_ends_the_run():
    run = make_run(steps=10_000)
    run.start()
    run.pause()
    run.stop()
    assert run.status == "stopped"
    assert runner.active_runs() == 0


def test_a_time_limit_ends_the_run_with_a_message():
    run = make_run(steps=1_000_000, max_seconds=0.3)
    run.start()
    wait_until(lambda: not run.active)
    assert run.status == "finished"
    assert "time limit" in run.message


def test_a_watched_run_goes_on_past_its_idle_timeout():
    run = make_run(steps=10_000)
    run.idle_timeout = 0.2
    run.attach()
    run.start()
    time.sleep(0.5)
    assert run.status == "running"


def test_a_run_nobody_watches_stops_after_its_idle_timeout():
    run = make_run(steps=10_000_000)  # never finishes on its own, however long a loaded machine stalls the test
    run.idle_timeout = 0.2
    run.attach()
    run.start()
    run.attach()  # a reload: the new page watches before the old one is released
    run.detach()
    time.sleep(0.4)
    assert run.status == "running"
    run.detach()
    wait_until(lambda: not run.active)
    assert run.status == "stopped" and "nobody watched it" in run.message
    assert run.abandoned


def test_a_paused_run_nobody_watches_stops_too():
    run = make_run(steps=10_000)
    run.idle_timeout = 0.2
    run.attach()
    run.start()
    run.pause()
    run.detach()
    wait_until(lambda: not run.active, timeout=5)
    assert "nobody watched it" in run.message
    assert runner.active_runs() == 0


def test_a_nan_loss_stops_the_run_and_says_why():
    run = make_run(steps=10_000)
    with torch.no_grad():
        run.trainer.model.out_bias.fill_(math.nan)
    run.start()
    wait_until(lambda: not run.active)
    assert run.status == "failed"
    assert "nan" in run.message.lower() and "learning rate" in run.message
    assert runner.active_runs() == 0


def test_an_exception_in_training_surfaces_as_a_message(monkeypatch):
    run = make_run(steps=10_000)
    calls = []

    def broken_step():
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("out of cheese")
        return None

    monkeypatch.setattr(run.trainer, "train_step", broken_step)
    run.start()
    wait_until(lambda: not run.active)
    assert run.status == "failed"
    assert "RuntimeError: out of cheese" in run.message
    assert runner.active_runs() == 0


def test_the_server_wide_cap_refuses_a_run_too_many(monkeypatch):
    monkeypatch.setattr(runner, "MAX_RUNS", 2)
    first, second, third = make_run(steps=10_000), make_run(steps=10_000), make_run(steps=10_000)
    first.start()
    second.start()
    with pytest.raises(RunnerBusy, match="busy.*[Tt]ry again"):
        third.start()
    assert third.status == "idle"
    first.stop()
    third.start()  # a slot came free
    assert third.status == "running"


def test_panels_decode_fixed_sentences_and_prior_samples():
    run = make_run(steps=20, panel_every=10, panel_texts=SENTENCES[:2], num_samples=3)
    run.start()
    wait_until(lambda: not run.active)
    panels = run.panels()
    assert [p["step"] for p in panels] == [0, 10, 20]
    assert [s for s, _ in panels[-1]["reconstructions"]] == SENTENCES[:2]
    assert len(panels[-1]["samples"]) == 3
    assert run.trainer.model.training  # decoding put the model back in train mode


def test_the_snapshot_is_a_frozen_copy_in_eval_mode():
    run = make_run(steps=10_000)
    run.start()
    wait_until(lambda: run.steps_done >= 2)
    snapshot = run.snapshot_model()
    frozen = {k: v.clone() for k, v in snapshot.model.state_dict().items()}
    wait_until(lambda: run.steps_done >= snapshot.card["steps"] + 3)
    run.stop()
    assert not snapshot.model.training
    assert snapshot.model is not run.trainer.model
    assert all(torch.equal(frozen[k], v) for k, v in snapshot.model.state_dict().items())
    assert not all(torch.equal(frozen[k], v) for k, v in run.trainer.model.state_dict().items())


def test_heldout_sentences_skip_unknown_words_and_odd_lengths():
    trained = new_model(SENTENCES, dict(embed_size=16, hidden_size=32, latent_size=4), min_freq=1)
    candidates = ["the cat", "the zebra sat on the mat .", "the cat sat on the mat .", "a dog ran in the park ."]
    assert runner.heldout_sentences(trained.tokenizer, candidates, n=1) == ["the cat sat on the mat ."]
