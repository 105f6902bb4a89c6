import pytest
import torch
from torch.distributions import Normal, kl_divergence

from vae.model import gaussian_kl
from vae.objective import ObjectiveConfig, kl_weight, loss_terms


def test_kl_matches_torch_distributions():
    mu, logvar = torch.randn(5, 7), torch.randn(5, 7)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(gaussian_kl(mu, logvar), kl_divergence(q, p))


def test_constant_schedule_is_beta_from_the_start():
    assert kl_weight(0, ObjectiveConfig("constant", beta=0.5)) == 0.5


def test_linear_schedule_rises_to_beta_then_holds():
    config = ObjectiveConfig("linear", kl_warmup_steps=100, beta=1.0)
    assert kl_weight(0, config) == 0.0
    assert kl_weight(50, config) == pytest.approx(0.5)
    assert kl_weight(100, config) == 1.0
    assert kl_weight(10_000, config) == 1.0


def test_sigmoid_schedule_is_monotone_and_centred():
    config = ObjectiveConfig("sigmoid", kl_warmup_steps=100)
    weights = [kl_weight(s, config) for s in range(0, 101, 10)]
    assert weights == sorted(weights)
    assert weights[0] < 0.01 and weights[-1] > 0.99
    assert kl_weight(50, config) == pytest.approx(0.5)


def test_cyclical_schedule_restarts_each_cycle():
    config = ObjectiveConfig("cyclical", kl_warmup_steps=100)
    assert kl_weight(0, config) == 0.0
    assert kl_weight(25, config) == pytest.approx(0.5)
    assert kl_weight(60, config) == 1.0  # held for the second half
    assert kl_weight(100, config) == 0.0  # next cycle
    assert kl_weight(125, config) == pytest.approx(0.5)


def test_unknown_schedule_is_an_error():
    with pytest.raises(ValueError, match="kl_schedule"):
        kl_weight(0, ObjectiveConfig("exponential"))


def fake_output(kl_per_dim):
    kl = torch.tensor([kl_per_dim, kl_per_dim], requires_grad=True)
    return {"recon": torch.tensor([10.0, 20.0]), "kl": kl}


def test_loss_is_recon_plus_weighted_kl_and_elbo_uses_true_kl():
    out = fake_output([1.0, 2.0])
    loss, stats = loss_terms(out, kl_weight=0.5)
    assert loss.item() == pytest.approx(15.0 + 0.5 * 3.0)
    assert stats == {"recon": 15.0, "kl": 3.0, "elbo": -18.0}


def test_free_bits_give_no_gradient_below_the_threshold():
    out = fake_output([0.1, 2.0])
    loss, stats = loss_terms(out, kl_weight=1.0, free_bits=0.5)
    assert loss.item() == pytest.approx(15.0 + 0.5 + 2.0)  # the small dimension counts as 0.5
    loss.backward()
    assert out["kl"].grad[:, 0].abs().sum() == 0  # below the threshold: free
    assert out["kl"].grad[:, 1].abs().sum() > 0
    assert stats["kl"] == pytest.approx(2.1)  # reported KL is the real one
