"""The knobs of the shipped recipe: bf16 autocast, autoencoder pre-training, the bag-of-words loss."""

import pytest
import torch
from conftest import SENTENCES

from vae.metrics import evaluate
from vae.model import ModelConfig, SentenceVAE
from vae.objective import ObjectiveConfig, kl_weight, loss_terms
from vae.train import TrainConfig, Trainer, autocast_dtype, new_model


def trainer_for(objective, steps=120, precision="fp32", bag_of_words=False, seed=0):
    trained = new_model(SENTENCES, dict(embed_size=32, hidden_size=64, latent_size=8, bag_of_words=bag_of_words),
                        min_freq=1, max_len=12, seed=seed)
    return Trainer(trained, SENTENCES, objective, TrainConfig(steps=steps, batch_size=10, lr=1e-2, seed=seed,
                                                              log_every=steps, precision=precision))


def test_the_kl_anneal_starts_after_autoencoder_pretraining():
    objective = ObjectiveConfig(kl_schedule="linear", kl_warmup_steps=10, ae_pretrain_steps=5)
    assert [kl_weight(step, objective) for step in (0, 4, 5, 10, 15, 40)] == [0.0, 0.0, 0.0, 0.5, 1.0, 1.0]


def test_pretraining_steps_use_the_posterior_mean():
    model = SentenceVAE(ModelConfig(vocab_size=20, embed_size=8, hidden_size=8, latent_size=4))
    tokens, lengths = torch.randint(4, 20, (3, 5)), torch.tensor([5, 5, 5])
    out = model(tokens, lengths, deterministic=True)
    assert torch.equal(out["z"], out["mu"])
    assert not torch.equal(model(tokens, lengths)["z"], out["mu"])


def test_the_bag_of_words_loss_counts_every_word_of_the_sentence_once():
    model = SentenceVAE(ModelConfig(vocab_size=20, embed_size=8, hidden_size=8, latent_size=4, bag_of_words=True))
    with torch.no_grad():
        model.bag_of_words.weight.zero_()
        model.bag_of_words.bias.zero_()  # a uniform prediction: each word costs log 20
    tokens = torch.tensor([[5, 6, 7, 3, 0]])  # three words, <eos>, <pad>
    nll = model.bag_of_words_nll(tokens, torch.zeros(1, 4))
    assert nll.item() == pytest.approx(3 * torch.log(torch.tensor(20.0)).item(), rel=1e-5)


def test_the_bag_of_words_weight_adds_to_the_loss_and_is_reported():
    out = {"recon": torch.tensor([10.0]), "kl": torch.ones(1, 4), "bag_of_words": torch.tensor([6.0])}
    loss, stats = loss_terms(out, kl_weight=1.0, bag_of_words=0.5)
    assert loss.item() == pytest.approx(10 + 4 + 3) and stats["bag_of_words"] == 6.0
    assert stats["elbo"] == -14.0  # the ELBO itself never includes the auxiliary loss


def test_a_model_with_a_bag_of_words_head_trains():
    trainer = trainer_for(ObjectiveConfig(kl_schedule="constant", beta=0.0, bag_of_words=1.0), bag_of_words=True)
    metrics = trainer.run()
    assert trainer.model.bag_of_words is not None and metrics["recon"] < 20


def test_auto_precision_is_bf16_only_where_the_hardware_has_it():
    assert autocast_dtype("fp32", "cpu") is None
    assert autocast_dtype("bf16", "cpu") is torch.bfloat16
    assert autocast_dtype("auto", "cpu") in (None, torch.bfloat16)
    with pytest.raises(ValueError):
        autocast_dtype("fp8", "cpu")


def test_bf16_training_reaches_the_same_held_out_nll_as_fp32():
    """Same recipe, seeds and steps: NLL within 0.5 nats (the bar for bf16 training, on a tiny model). Averaged
    over three seeds: one tiny run's NLL moves by more than that with any change of rounding."""
    results = {}
    for precision in ("fp32", "bf16"):
        nlls = []
        for seed in range(3):
            trainer = trainer_for(ObjectiveConfig(kl_schedule="linear", kl_warmup_steps=40, free_bits=0.5),
                                  steps=150, precision=precision, seed=seed)
            trainer.run()
            nlls.append(evaluate(trainer.trained, SENTENCES, iw_samples=20)["iw_nll"])
        results[precision] = sum(nlls) / len(nlls)
    assert abs(results["bf16"] - results["fp32"]) < 0.5, results
