"""Decoding a batch: a sentence that has ended leaves the batch, and nothing else changes."""

import torch
from conftest import SENTENCES

from vae.decode import encode_texts, generate


def test_a_batch_decodes_each_sentence_as_it_would_alone(tiny_trained):
    trained, _ = tiny_trained
    texts = [SENTENCES[3], SENTENCES[10], SENTENCES[7], SENTENCES[18]]  # 4 to 8 words: rows end apart
    mu = encode_texts(trained, texts)
    together = generate(trained, mu, strategy="greedy")
    alone = [generate(trained, mu[i:i + 1], strategy="greedy")[0] for i in range(len(texts))]
    assert [s.text for s in together] == [s.text for s in alone]
    assert [s.num_words for s in together] == [s.num_words for s in alone]
    for a, b in zip(together, alone):
        assert abs(a.logprob - b.logprob) < 1e-4


def test_a_sentence_cut_at_max_len_ends_there_beside_shorter_ones(tiny_trained):
    trained, _ = tiny_trained
    z = torch.randn(6, trained.model.config.latent_size, generator=torch.Generator().manual_seed(0)) * 3
    samples = generate(trained, z, strategy="sample", max_len=3, generator=torch.Generator().manual_seed(1))
    assert all(1 <= s.num_words <= 3 for s in samples)


def test_a_models_card_may_set_its_own_sample_defaults(tiny_trained):
    from dataclasses import replace

    from vae.decode import SAMPLE_DEFAULTS, default_sample_settings

    trained, _ = tiny_trained
    own = replace(trained, card={**trained.card, "sample_defaults": {"spread": 1.0, "strategy": 3, "what": "x"}})
    settings = default_sample_settings(own)
    assert settings["spread"] == 1.0  # the card's
    assert settings["strategy"] == SAMPLE_DEFAULTS["strategy"]  # not a strategy: ignored; unknown keys too
    assert "what" not in settings and settings["source"] == "prior"  # no mixture fitted
    assert default_sample_settings(trained)["spread"] == SAMPLE_DEFAULTS["spread"]
