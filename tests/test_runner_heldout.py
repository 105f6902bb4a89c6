"""A run measures fixed held-out sentences as it trains, the same way for every run."""

import time

import pytest
import torch
from conftest import SENTENCES

from vae import runner
from vae.objective import ObjectiveConfig
from vae.runner import TrainingRun
from vae.train import TrainConfig, Trainer, new_model

HELDOUT = ["the dog sat on the roof .", "my teacher reads the letter .", "a red boat is in the sea ."]


def make_run(steps=40, heldout_texts=HELDOUT, heldout_every=10, word_dropout=0.3):
    torch.manual_seed(0)
    trained = new_model(SENTENCES, dict(embed_size=16, hidden_size=32, latent_size=4), min_freq=1, max_len=12)
    config = TrainConfig(steps=steps, batch_size=8, log_every=5, seed=0)
    trainer = Trainer(trained, SENTENCES, ObjectiveConfig(kl_warmup_steps=10, word_dropout=word_dropout), config)
    return TrainingRun(trainer, panel_every=1000, num_samples=0, heldout_texts=heldout_texts,
                       heldout_every=heldout_every)


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def no_runs_left_behind():
    yield
    runner.stop_all()
    wait_until(lambda: runner.active_runs() == 0)


def test_held_out_sentences_are_measured_before_training_and_every_n_steps():
    run = make_run(steps=25)
    run.start()
    wait_until(lambda: not run.active)
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
