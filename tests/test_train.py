import math

import pytest
import torch
from conftest import SENTENCES

from vae.objective import ObjectiveConfig
from vae.train import NonFiniteLoss, TrainConfig, Trainer, learning_rate, new_model


def small_trainer(**train):
    trained = new_model(SENTENCES, dict(embed_size=16, hidden_size=32, latent_size=4), min_freq=1)
    return Trainer(trained, SENTENCES, ObjectiveConfig(kl_warmup_steps=10),
                   TrainConfig(**{"batch_size": 8, "log_every": 5, **train}))


def test_metrics_arrive_every_log_every_steps_in_order():
    trainer = small_trainer(steps=20)
    seen = []
    trainer.add_callback(seen.append)
    trainer.run()
    assert [m["step"] for m in seen] == [5, 10, 15, 20]
    for key in ("epoch", "elbo", "recon", "kl", "kl_weight", "active_units", "tokens_per_s", "lr"):
        assert key in seen[-1]
    assert seen[-1]["kl_weight"] == 1.0  # the 10-step anneal is over


def test_training_lowers_the_loss():
    trainer = small_trainer(steps=60, lr=1e-2)
    seen = []
    trainer.add_callback(seen.append)
    trainer.run()
    assert seen[-1]["recon"] < seen[0]["recon"]


def test_batches_cover_an_epoch_without_repeats():
    trainer = small_trainer()
    indices = [i for batch in trainer._epoch_batches() for i in batch]
    assert sorted(indices) == list(range(len(SENTENCES)))


def test_a_nan_loss_stops_with_a_clear_error_and_is_not_applied():
    trainer = small_trainer()
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    with torch.no_grad():
        trainer.model.out_bias.fill_(math.nan)
    with pytest.raises(NonFiniteLoss, match="step 1"):
        trainer.train_step()
    assert trainer.step == 0
    after = dict(trainer.model.named_parameters())
    assert all(torch.equal(before[name], after[name]) for name in before if name != "out_bias")


def test_a_corpus_of_empty_lines_is_refused():
    trained = new_model(SENTENCES, dict(embed_size=16, hidden_size=32, latent_size=4), min_freq=1)
    with pytest.raises(ValueError, match="no sentences"):
        Trainer(trained, ["", "   "], ObjectiveConfig(), TrainConfig())


def test_cosine_learning_rate_falls_from_lr_to_lr_min_and_the_optimiser_uses_it():
    config = TrainConfig(steps=100, lr=1e-2, lr_schedule="cosine", lr_min=1e-4)
    rates = [learning_rate(step, config) for step in range(101)]
    assert rates[0] == pytest.approx(1e-2) and rates[50] == pytest.approx((1e-2 + 1e-4) / 2)
    assert rates[100] == pytest.approx(1e-4)
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    assert learning_rate(70, TrainConfig(lr=3e-3)) == 3e-3  # constant is the default
    trainer = small_trainer(steps=10, lr=1e-2, lr_schedule="cosine")
    seen = []
    trainer.add_callback(seen.append)
    trainer.run()
    assert seen[0]["lr"] == pytest.approx(learning_rate(4, trainer.config))  # step 5 used the 5th rate


def test_two_seeded_runs_in_concurrent_threads_are_bit_identical_to_each_other_and_to_a_lone_run():
    """Each Trainer draws its noise (dropout, word dropout, the noise of z) from its own generator,
    and new_model seeds the initial weights without touching torch's global generator."""
    import threading

    def run(results, key):
        trained = new_model(SENTENCES, dict(embed_size=16, hidden_size=32, latent_size=4, dropout=0.3),
                            min_freq=1, seed=7)
        trainer = Trainer(trained, SENTENCES, ObjectiveConfig(kl_warmup_steps=10, word_dropout=0.3),
                          TrainConfig(steps=30, batch_size=8, seed=7, log_every=30, precision="fp32"))
        trainer.run()
        results[key] = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}

    results = {}
    threads = [threading.Thread(target=run, args=(results, key)) for key in ("a", "b")]
    for thread in threads:
        thread.start()
    for _ in range(200):  # the main thread draws from the global generator meanwhile
        torch.rand(100)
    for thread in threads:
        thread.join()
    run(results, "alone")
    for name, weights in results["alone"].items():
        assert torch.equal(results["a"][name], weights) and torch.equal(results["b"][name], weights), name
    assert not torch.equal(results["a"]["embedding.weight"], new_model(
        SENTENCES, dict(embed_size=16, hidden_size=32, latent_size=4), min_freq=1, seed=7).model.embedding.weight)
