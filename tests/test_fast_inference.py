"""The fast inference path (vae/model.py: word tables, both encoder directions in one batched
matmul, the output matrix transposed) computes what nn.GRU computes, so decoding gives the same
sentences; and its tables follow the weights when they change."""


import pytest
import torch
from conftest import SENTENCES

import vae.model as model_module
from vae.checkpoint import load_model
from vae.data import to_batch
from vae.decode import encode_texts, reads_back, reconstruct, sample_prior
from vae.model import ModelConfig, SentenceVAE
from vae.paths import EVERYDAY_SENTENCES as EVERYDAY
from vae.paths import SHIPPED_MODEL as SHIPPED


def reference_path(monkeypatch):
    """The plain nn.GRU path, as training runs it."""
    monkeypatch.setattr(SentenceVAE, "_fast_inference", lambda self: False)


@pytest.fixture(autouse=True)
def encode_in_fp32(monkeypatch):
    """The fast path's arithmetic is the reference's up to fp32 rounding; its bf16 matmul (on CPUs with
    native bf16) has a test of its own, below."""
    monkeypatch.setattr(model_module, "ENCODE_IN_BF16", False)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_fast_encoder_matches_nn_gru(bidirectional):
    torch.manual_seed(0)
    model = SentenceVAE(ModelConfig(vocab_size=40, embed_size=8, hidden_size=16, latent_size=4,
                                    bidirectional=bidirectional)).eval()
    tokens, lengths = to_batch([[5, 6, 7], [8, 9], [10, 11, 12, 13, 14], [20]])
    with torch.no_grad():
        fast = model.encode(tokens, lengths)
    slow = model.encode(tokens, lengths)  # gradients on: the nn.GRU path
    for a, b in zip(fast, slow):
        torch.testing.assert_close(a, b.detach())


def test_fast_decoder_step_matches_nn_gru():
    torch.manual_seed(0)
    model = SentenceVAE(ModelConfig(vocab_size=40, embed_size=8, hidden_size=16, latent_size=4)).eval()
    z = torch.randn(3, 4)
    ids = torch.tensor([2, 7, 9])
    with torch.no_grad():
        fast_logits, fast_state = model.decoder_step(ids, z, model.initial_state(z))
    slow_logits, slow_state = model.decoder_step(ids, z, model.initial_state(z))
    torch.testing.assert_close(fast_logits, slow_logits.detach())
    torch.testing.assert_close(fast_state, slow_state.detach())


def test_tables_follow_the_weights_when_they_change(tiny_trained):
    trained, _ = tiny_trained
    model = SentenceVAE(trained.model.config)
    model.load_state_dict(trained.model.state_dict())
    model.eval()
    tokens, lengths = to_batch(trained.tokenizer.encode_batch(SENTENCES[:3]))
    with torch.no_grad():
        before = model.encode(tokens, lengths)[0]
        model.embedding.weight.mul_(0.5)  # an in-place change, as an optimiser step makes
        after = model.encode(tokens, lengths)[0]
    with torch.enable_grad():
        expected = model.encode(tokens, lengths)[0].detach()
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, expected)


def test_to_batch_pads_after_eos():  # the batch builder encoding uses (one numpy fill)
    ids = [[5, 6, 7], [8], [9, 10, 11, 12, 13]]
    tokens, lengths = to_batch(ids)
    assert torch.equal(tokens, torch.tensor([[5, 6, 7, 3, 0, 0], [8, 3, 0, 0, 0, 0], [9, 10, 11, 12, 13, 3]]))
    assert torch.equal(lengths, torch.tensor([4, 2, 6]))


def test_tiny_model_decodes_the_same_on_both_paths(tiny_trained, monkeypatch):
    trained, _ = tiny_trained
    fast = [s.text for s in reconstruct(trained, SENTENCES)]
    samples = [(s.text, s.logprob) for s in sample_prior(trained, 20, seed=3)]
    reference_path(monkeypatch)
    assert [s.text for s in reconstruct(trained, SENTENCES)] == fast
    slow = [(s.text, s.logprob) for s in sample_prior(trained, 20, seed=3)]
    assert [t for t, _ in slow] == [t for t, _ in samples]
    assert [lp for _, lp in slow] == pytest.approx([lp for _, lp in samples], abs=1e-3)


@pytest.mark.skipif(not (SHIPPED / "model.safetensors").is_file(), reason="no shipped model")
def test_shipped_model_reads_back_everyday_sentences_the_same_on_both_paths(monkeypatch):
    trained = load_model(SHIPPED, "cpu")
    texts = [line.strip() for line in EVERYDAY.read_text().splitlines() if line.strip()] + SENTENCES
    fast_mu = encode_texts(trained, texts)
    fast = [s.text for s in reconstruct(trained, texts)]
    reference_path(monkeypatch)
    torch.testing.assert_close(encode_texts(trained, texts), fast_mu, atol=1e-4, rtol=1e-4)
    assert [s.text for s in reconstruct(trained, texts)] == fast


@pytest.mark.skipif(not (SHIPPED / "model.safetensors").is_file(), reason="no shipped model")
def test_encoding_with_a_bf16_recurrent_matmul_reads_back_the_everyday_sentences_as_fp32_does(monkeypatch):
    trained = load_model(SHIPPED, "cpu")
    texts = [line.strip() for line in EVERYDAY.read_text().splitlines() if line.strip()] + SENTENCES
    fp32_mu = encode_texts(trained, texts)
    fp32 = [reads_back(trained, text, s.text) for text, s in zip(texts, reconstruct(trained, texts))]
    monkeypatch.setattr(model_module, "ENCODE_IN_BF16", True)  # on any CPU: slower without native bf16
    bf16_mu = encode_texts(trained, texts)
    assert (bf16_mu - fp32_mu).abs().max() < 0.01  # the codes spread about 0.7 a dimension
    # the same sentences come back exactly (a sentence that does not may come back otherwise wrong)
    assert [reads_back(trained, text, s.text) for text, s in zip(texts, reconstruct(trained, texts))] == fp32
