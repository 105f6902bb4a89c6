"""A run measures fixed held-out sentences as it trains, the same way for every run."""

import pytest
import torch
from conftest import make_run as make_any_run
from conftest import wait_until

pytestmark = pytest.mark.usefixtures("no_runs_left_behind")

HELDOUT = ["the dog sat on the roof .", "my teacher reads the letter .", "a red boat is in the sea ."]


def make_run(steps=40, heldout_texts=HELDOUT, heldout_every=10, word_dropout=0.3):
    return make_any_run(steps, heldout_texts=heldout_texts, heldout_every=heldout_every, word_dropout=word_dropout)


def test_held_out_sentences_are_measured_before_training_and_every_n_steps():
    run = make_run(steps=25)
    run.start()
    # the last measurement follows the status "finished" by a moment (the thread measures, then exits)
    wait_until(lambda: not run.active and run.measurements()[-1]["step"] == 25)
    measured = run.measurements()
    assert [m["step"] for m in measured] == [0, 10, 20, 25]  # 25: where the run ended
    for m in measured:
        for side in ("heldout", "train"):
            assert {"elbo", "recon", "kl", "active_units"} <= m[side].keys()
            assert m[side]["elbo"] == pytest.approx(-(m[side]["recon"] + m[side]["kl"]))
    assert measured[-1]["heldout"]["recon"] != measured[0]["heldout"]["recon"]


def test_a_single_step_is_measured_at_once():
    run = make_run(steps=10_000, heldout_every=1_000)
    run.start()
    run.pause()
    wait_until(lambda: run.status == "paused" and run.measurements())
    before = run.steps_done
    run.step()
    wait_until(lambda: run.measurements()[-1]["step"] == before + 1)
    assert run.measurements()[-1]["heldout"] != run.measurements()[0]["heldout"]


def test_measuring_does_not_change_the_training():
    runs = []
    for heldout_texts in (HELDOUT, ()):  # one after the other: training draws from torch's global generator
        run = make_run(steps=20, heldout_texts=heldout_texts, heldout_every=3)
        run.start()
        wait_until(lambda run=run: not run.active)
        runs.append(run)
    measured, plain = runs
    assert plain.measurements() == []
    for a, b in zip(measured.trainer.model.parameters(), plain.trainer.model.parameters()):
        assert torch.equal(a, b)
