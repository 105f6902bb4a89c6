"""Held-out measurement: the same sentences, no dropout, a fixed noise draw, for every run."""

import torch
from conftest import SENTENCES

from vae.heldout import MIN_SENTENCES, measure, memorised, split_heldout

UNSEEN = ["the dog sat on the roof .", "my teacher reads the letter .", "a red boat is in the sea .",
          "the children went home at noon ."]  # words the tiny model knows, in lines it never saw


def ids(trained, texts):
    return trained.tokenizer.encode_batch(texts, trained.max_len)


def test_a_tenth_is_held_out_the_same_way_every_time():
    texts = [f"sentence number {i}" for i in range(100)]
    train, held = split_heldout(texts)
    assert len(held) == 10 and len(train) == 90
    assert sorted(train + held) == sorted(texts) and not set(train) & set(held)
    assert split_heldout(texts) == (train, held)


def test_a_small_corpus_keeps_every_line_for_training():
    texts = [f"line {i}" for i in range(MIN_SENTENCES - 1)]
    assert split_heldout(texts) == (texts, [])


def test_measure_is_repeatable_and_leaves_the_run_as_it_was(tiny_trained):
    model = tiny_trained[0].model
    model.train()
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = measure(model, ids(tiny_trained[0], SENTENCES))
    assert torch.equal(torch.rand(3), expected_next)  # the global random state is untouched
    assert model.training
    model.eval()
    assert measure(model, ids(tiny_trained[0], SENTENCES)) == first
    assert abs(first["elbo"] + first["recon"] + first["kl"]) < 1e-6
    assert 0 <= first["active_units"] <= 8


def test_a_memorised_corpus_is_recognised(tiny_trained):
    model = tiny_trained[0].model  # trained with the KL off until it reads SENTENCES back word for word
    seen = measure(model, ids(tiny_trained[0], SENTENCES))
    unseen = measure(model, ids(tiny_trained[0], UNSEEN))
    assert memorised(seen["recon"], unseen["recon"])
    assert not memorised(seen["recon"], seen["recon"] + 1.0)
