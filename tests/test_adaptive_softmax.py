"""The adaptive softmax output layer (ModelConfig.output_layer = "adaptive"; Grave et al. 2017): its
log-probabilities are a distribution over the whole vocabulary, the training loss is the same NLL,
a small model trains and decodes with it, checkpoints keep it, and old checkpoints still load tied."""

import json

import pytest
import torch
from conftest import SENTENCES

from vae.checkpoint import load_model, save_checkpoint
from vae.data import to_batch
from vae.decode import generate, pick_next, reads_back, reconstruct, sample_prior
from vae.model import ModelConfig, SentenceVAE, default_cutoffs
from vae.objective import ObjectiveConfig
from vae.tokenizer import BOS_ID, PAD_ID
from vae.train import TrainConfig, Trainer, new_model

TINY_CUTOFFS = [20, 50]  # SENTENCES have a vocabulary of 87 words: a head of 20 and two tails


def adaptive_model(vocab_size=300, cutoffs=(40, 120), seed=0):
    model = SentenceVAE(ModelConfig(vocab_size=vocab_size, embed_size=16, hidden_size=32, latent_size=4,
                                    output_layer="adaptive", adaptive_cutoffs=list(cutoffs)))
    model.reset_parameters(torch.Generator().manual_seed(seed))
    return model


def train_adaptive(steps=150, seed=0):
    """train_tiny (conftest.py) with the adaptive softmax: memorises SENTENCES."""
    trained = new_model(SENTENCES, dict(embed_size=32, hidden_size=64, latent_size=8, output_layer="adaptive",
                                        adaptive_cutoffs=TINY_CUTOFFS), min_freq=1, max_len=12, seed=seed)
    trainer = Trainer(trained, SENTENCES, ObjectiveConfig(kl_schedule="constant", beta=0.0),
                      TrainConfig(steps=steps, batch_size=len(SENTENCES), lr=1e-2, seed=seed, log_every=10))
    losses = []
    trainer.add_callback(lambda metrics: losses.append(metrics["recon"]))
    trainer.run()
    trained.model.eval()
    return trained, losses


@pytest.fixture(scope="module")
def adaptive_trained():
    return train_adaptive()


def test_log_probabilities_sum_to_one_over_the_vocabulary():
    model = adaptive_model()
    torch.manual_seed(0)
    for hidden in (torch.randn(7, 32), 5 * torch.randn(2, 3, 32)):  # any leading shape, large activations too
        log_probs = model.logits(hidden)
        assert log_probs.shape == (*hidden.shape[:-1], 300)
        torch.testing.assert_close(torch.logsumexp(log_probs, -1), torch.zeros(hidden.shape[:-1]), atol=1e-5, rtol=0)
        torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(hidden.shape[:-1]))
        # the same numbers as the library's own log_prob (fp32, no autocast)
        torch.testing.assert_close(log_probs, model.adaptive.log_prob(hidden.reshape(-1, 32)).view_as(log_probs))


def test_the_training_nll_is_the_full_distribution_at_the_targets():
    model = adaptive_model().eval()
    torch.manual_seed(1)
    # words from every cluster: the head (< 40), the first tail (40-119), the second (120-299)
    ids = [[5, 45, 130, 299], [39, 40, 119, 120, 7, 250, 3], [200], [4, 4, 60]]
    tokens, lengths = to_batch(ids)
    z = torch.randn(len(ids), 4)
    nll = model.reconstruction_nll(tokens, lengths, z)
    assert nll.shape == (len(ids),)
    inputs = torch.cat([torch.full((len(ids), 1), BOS_ID), tokens[:, :-1]], dim=1)
    hidden, _ = model.decoder_outputs(inputs, z, model.initial_state(z))
    gathered = -model.logits(hidden).gather(2, tokens[..., None])[..., 0]
    expected = gathered.masked_fill(tokens == PAD_ID, 0).sum(1)
    torch.testing.assert_close(nll, expected)


def test_the_training_nll_runs_under_bf16_autocast():
    """nn.AdaptiveLogSoftmaxWithLoss.forward fails there (fp32 and bf16 mixed); ours stays in fp32."""
    model = adaptive_model()
    tokens, lengths = to_batch([[5, 45, 130], [39, 200, 7, 3]])
    z = torch.randn(2, 4)
    exact = model.reconstruction_nll(tokens, lengths, z)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        nll = model.reconstruction_nll(tokens, lengths, z)
    nll.sum().backward()
    assert nll.dtype == torch.float32
    torch.testing.assert_close(nll, exact.detach(), rtol=0.05, atol=0.1)
    assert all(p.grad is not None for p in model.adaptive.parameters())


def test_a_tiny_model_trains_and_reads_its_sentences_back(adaptive_trained):
    trained, losses = adaptive_trained
    assert trained.model.adaptive is not None and not hasattr(trained.model, "out_bias")
    assert losses[-1] < 0.2 * losses[0], losses
    texts = SENTENCES[:8]
    back = reconstruct(trained, texts)
    assert all(reads_back(trained, t, s.text) for t, s in zip(texts, back)), [s.text for s in back]
    samples = sample_prior(trained, 5, seed=0)
    assert len(samples) == 5 and all(s.num_words >= 1 for s in samples)
    for strategy in ("top-k", "top-p"):
        assert all(s.text for s in sample_prior(trained, 3, seed=1, strategy=strategy, temperature=0.7))


def test_the_fast_decoding_step_matches_the_plain_one(adaptive_trained):
    model = adaptive_trained[0].model
    z = torch.randn(3, model.config.latent_size)
    ids = torch.tensor([2, 7, 60])
    with torch.no_grad():
        assert model._fast_inference()
        fast, fast_state = model.decoder_step(ids, z, model.initial_state(z))
    slow, slow_state = model.decoder_step(ids, z, model.initial_state(z))  # gradients on: nn.GRU
    torch.testing.assert_close(fast, slow.detach())
    torch.testing.assert_close(fast_state, slow_state.detach())


def test_sampling_from_log_probabilities_is_sampling_from_the_logits():
    """generate hands the adaptive layer's log-probabilities to pick_next as logits: a constant per row
    changes nothing, at any temperature, with top-k or top-p."""
    torch.manual_seed(0)
    logits = 3 * torch.randn(50, 300)
    log_probs = torch.log_softmax(logits, -1)
    for strategy, temperature in (("sample", 1.0), ("sample", 0.5), ("top-k", 0.8), ("top-p", 1.3), ("greedy", 1)):
        picks = [pick_next(x, strategy, temperature, 20, 0.9, torch.Generator().manual_seed(3))
                 for x in (logits, log_probs)]
        assert torch.equal(*picks), strategy


def test_save_and_load_give_identical_log_probabilities(adaptive_trained, tmp_path):
    trained, _ = adaptive_trained
    save_checkpoint(trained, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model"]["adaptive_cutoffs"] == TINY_CUTOFFS
    loaded = load_model(tmp_path, device="cpu")
    assert loaded.model.config == trained.model.config
    hidden = torch.randn(6, trained.model.config.hidden_size)
    with torch.no_grad():
        assert torch.equal(loaded.model.logits(hidden), trained.model.logits(hidden))
    z = torch.randn(4, trained.model.config.latent_size)
    assert [s.text for s in generate(loaded, z, strategy="greedy")] == \
           [s.text for s in generate(trained, z, strategy="greedy")]


def test_an_old_checkpoint_without_the_field_loads_tied(tiny_trained, tmp_path):
    trained, _ = tiny_trained
    save_checkpoint(trained, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    for key in ("output_layer", "adaptive_cutoffs", "adaptive_div_value"):
        del config["model"][key]  # as every config.json written before the adaptive softmax
    (tmp_path / "config.json").write_text(json.dumps(config))
    loaded = load_model(tmp_path, device="cpu")
    assert loaded.model.config.output_layer == "tied" and loaded.model.adaptive is None
    tokens, lengths = to_batch(trained.tokenizer.encode_batch(SENTENCES[:4]))
    z = torch.randn(4, trained.model.config.latent_size)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model.reconstruction_nll(tokens, lengths, z),
                                   trained.model.reconstruction_nll(tokens, lengths, z))


def test_a_bad_output_layer_in_config_json_is_one_sentence(tiny_model_dir, tmp_path):
    from vae.checkpoint import CheckpointError

    for name in ("model.safetensors", "tokenizer.json", "card.json"):
        (tmp_path / name).write_bytes((tiny_model_dir / name).read_bytes())
    config = json.loads((tiny_model_dir / "config.json").read_text())
    config["model"]["output_layer"] = "hierarchical"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="output_layer must be one of"):
        load_model(tmp_path)


def test_default_cutoffs_follow_the_vocabulary():
    assert default_cutoffs(15_000) == [2000, 6000]
    assert default_cutoffs(10_000) == [2000, 6000]
    assert default_cutoffs(5_000) == [2000]
    assert ModelConfig(vocab_size=15_000, output_layer="adaptive").adaptive_cutoffs == [2000, 6000]
    assert ModelConfig(vocab_size=15_000).adaptive_cutoffs is None  # the tied layer has none
    with pytest.raises(ValueError, match="too small for the adaptive softmax"):
        ModelConfig(vocab_size=90, output_layer="adaptive")
    with pytest.raises(ValueError, match="output_layer must be one of"):
        ModelConfig(vocab_size=90, output_layer="hierarchical")
    with pytest.raises(ValueError):  # the library refuses cutoffs out of order or beyond the vocabulary
        SentenceVAE(ModelConfig(vocab_size=90, output_layer="adaptive", adaptive_cutoffs=[50, 20]))


def test_the_cli_passes_the_output_layer(tmp_path, capsys):
    from vae.cli import build_parser, main

    args = build_parser().parse_args(["train", "--corpus", "c.txt", "--out", "o", "--output-layer", "adaptive"])
    assert args.output_layer == "adaptive"
    assert build_parser().parse_args(["train", "--corpus", "c.txt", "--out", "o"]).output_layer == "auto"
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("\n".join(SENTENCES))
    code = main(["train", "--corpus", str(corpus), "--out", str(tmp_path / "run"), "--steps", "1",
                 "--output-layer", "adaptive", "--min-freq", "1"])
    assert code == 2
    assert "too small for the adaptive softmax" in capsys.readouterr().err
    # the default, auto, gives this small vocabulary the tied layer
    assert main(["train", "--corpus", str(corpus), "--out", str(tmp_path / "auto"), "--steps", "1",
                 "--min-freq", "1", "--embed", "8", "--hidden", "16", "--latent", "4"]) == 0
    assert json.loads((tmp_path / "auto" / "config.json").read_text())["model"]["output_layer"] == "tied"


def test_auto_picks_the_adaptive_softmax_where_the_vocabulary_has_tails():
    from vae.model import ADAPTIVE_CUTOFFS, output_layer_for

    many = [f"w{i} w{i + 1} w{i + 2} w{i + 3}" for i in range(0, ADAPTIVE_CUTOFFS[0] + 500, 2)]  # > the head's words
    config = dict(embed_size=8, hidden_size=16, latent_size=4, output_layer="auto")
    large = new_model(many, config, vocab_size=10_000, min_freq=1)
    assert len(large.tokenizer) > ADAPTIVE_CUTOFFS[0] and large.model.config.output_layer == "adaptive"
    small = new_model(SENTENCES, config, min_freq=1)
    assert small.model.config.output_layer == "tied" and small.model.adaptive is None
    assert output_layer_for(ADAPTIVE_CUTOFFS[0]) == "tied" and output_layer_for(ADAPTIVE_CUTOFFS[0] + 1) == "adaptive"


def test_bench_flops_count_the_head_and_the_tails_by_their_share():
    from bench.training import flops_per_token, tail_shares

    config = ModelConfig(vocab_size=100, embed_size=4, hidden_size=16, latent_size=3, output_layer="adaptive",
                         adaptive_cutoffs=[10, 40])
    assert tail_shares(config, [[5, 12], [50, 99, 7]]) == [1 / 7, 2 / 7]  # 7 targets with the two <eos>
    flops = flops_per_token(config, [0.25, 0.125])
    head = 2 * 16 * (10 + 2)  # the shortlist and one entry per cluster
    tails = 0.25 * 2 * (16 * 4 + 4 * 30) + 0.125 * 2 * (16 * 1 + 1 * 60)  # widths 16/4 and 16/16
    assert flops["output"] == pytest.approx(head + tails)
