import copy
import dataclasses

import pytest
import torch
from conftest import SENTENCES

from vae.data import to_batch
from vae.decode import InputError, encode_texts, sample_prior
from vae.density import fit_latent_density
from vae.metrics import (
    active_units,
    distinct_n,
    evaluate,
    iw_nll,
    mutual_information,
    rank_dimensions,
    reconstruction_quality,
    sample_diversity,
)
from vae.train import new_model


def test_importance_weighted_nll_is_below_the_negative_elbo(tiny_trained):
    trained, _ = tiny_trained
    model = trained.model
    torch.manual_seed(0)
    tokens, lengths = to_batch(trained.tokenizer.encode_batch(SENTENCES))
    with torch.no_grad():
        mu, logvar = model.encode(tokens, lengths)
        # the ELBO's expectation, estimated well with many single samples
        neg_elbo = torch.stack([model(tokens, lengths)["recon"] for _ in range(200)]).mean(0)
        neg_elbo = neg_elbo + model(tokens, lengths)["kl"].sum(-1)
        nll = iw_nll(model, tokens, lengths, mu, logvar, k=200)
    assert (nll <= neg_elbo + 1e-3).all()


def test_a_mixture_prior_of_one_standard_gaussian_gives_the_nll_under_n01(tiny_trained):
    trained, _ = tiny_trained
    model, latent = trained.model, trained.model.config.latent_size
    standard = {"weights": torch.ones(1), "means": torch.zeros(1, latent), "scale_tril": torch.eye(latent)[None]}
    tokens, lengths = to_batch(trained.tokenizer.encode_batch(SENTENCES))
    with torch.no_grad():
        mu, logvar = model.encode(tokens, lengths)
        alone = iw_nll(model, tokens, lengths, mu, logvar, k=20, generator=torch.Generator().manual_seed(3))
        both = iw_nll(model, tokens, lengths, mu, logvar, k=20, generator=torch.Generator().manual_seed(3),
                      priors=[None, standard])
    torch.testing.assert_close(both[0], alone)  # the same importance samples serve every prior
    torch.testing.assert_close(both[1], alone, rtol=1e-4, atol=1e-3)


def test_evaluate_reports_the_nll_under_the_fitted_mixture_when_asked(tiny_trained):
    trained = copy.copy(tiny_trained[0])
    assert "iw_nll_mixture_prior" not in evaluate(trained, SENTENCES, iw_samples=10, mixture_prior=True)
    trained.density = fit_latent_density(encode_texts(trained, SENTENCES), components=2)
    result = evaluate(trained, SENTENCES, iw_samples=10, mixture_prior=True)
    assert result["iw_nll"] == evaluate(trained, SENTENCES, iw_samples=10)["iw_nll"]  # unchanged by the option
    # fitted to these very codes, the mixture sits where they are; N(0, I) does not
    assert result["iw_nll_mixture_prior"] < result["iw_nll"]


def test_evaluate_reports_all_metrics(tiny_trained):
    trained, _ = tiny_trained
    result = evaluate(trained, SENTENCES, iw_samples=10)
    for key in ("recon", "kl", "elbo", "iw_nll", "ppl", "mi", "active_units"):
        assert key in result
    assert result["estimator"] == "importance sampling, k=10"
    assert result["sentences"] == 20
    assert result["tokens"] == sum(len(s.split()) + 1 for s in SENTENCES)
    assert result["elbo"] == -(result["recon"] + result["kl"])


def test_reconstruction_of_memorised_sentences_is_perfect(tiny_trained):
    trained, _ = tiny_trained
    result = reconstruction_quality(trained, SENTENCES)
    assert result["token_accuracy"] == 1.0
    assert result["bleu"] > 99.9


def test_active_units_counts_dimensions_that_vary():
    mu = torch.zeros(100, 4)
    mu[:, 0] = torch.randn(100)
    mu[:, 1] = 0.01 * torch.randn(100)  # variance 1e-4: inactive
    assert active_units(mu) == 1


def test_dimensions_are_ranked_by_the_kl_that_evaluate_reports(tiny_trained):
    trained, _ = tiny_trained
    ranked = rank_dimensions(trained, SENTENCES)
    assert sorted(dim for dim, _ in ranked) == list(range(trained.model.config.latent_size))
    assert [kl for _, kl in ranked] == sorted((kl for _, kl in ranked), reverse=True)
    kl_per_dim = evaluate(trained, SENTENCES, iw_samples=1)["kl_per_dim"]
    assert [kl for _, kl in sorted(ranked)] == pytest.approx(kl_per_dim, abs=1e-3)


def test_a_dimension_the_model_ignores_ranks_last(tiny_trained):
    trained, _ = tiny_trained
    collapsed = dataclasses.replace(trained, model=copy.deepcopy(trained.model))
    latent = trained.model.config.latent_size
    with torch.no_grad():  # q(z_3 | x) = N(0, 1) = p(z_3) for every x: mu_3 = 0, logvar_3 = 0
        for row in (3, latent + 3):
            collapsed.model.to_mu_logvar.weight[row] = 0.0
            collapsed.model.to_mu_logvar.bias[row] = 0.0
    assert rank_dimensions(collapsed, SENTENCES)[-1] == (3, 0.0)


def test_an_autoencoders_dimensions_are_ranked_by_the_variance_of_mu():
    trained = new_model(SENTENCES, dict(embed_size=16, hidden_size=16, latent_size=4, autoencoder=True), min_freq=1)
    mu = encode_texts(trained, SENTENCES)
    variance = mu.var(0, correction=0)
    assert rank_dimensions(trained, SENTENCES) == [(dim, pytest.approx(float(variance[dim]))) for dim in
                                                   torch.argsort(variance, descending=True).tolist()]


def test_ranking_dimensions_needs_a_readable_sentence(tiny_trained):
    trained, _ = tiny_trained
    with pytest.raises(InputError):
        rank_dimensions(trained, ["", "   "])


def test_mutual_information_is_zero_when_the_posterior_ignores_x():
    mu, logvar = torch.zeros(64, 4), torch.zeros(64, 4)
    assert abs(mutual_information(mu, logvar)) < 0.5  # Monte Carlo noise only; log(64) = 4.16 is the max


def test_mutual_information_grows_with_distinct_posteriors():
    torch.manual_seed(0)
    mu, logvar = 5 * torch.randn(64, 4), torch.full((64, 4), -4.0)
    assert mutual_information(mu, logvar) > 3.0  # close to log(64) = 4.16 when codes separate


def test_distinct_n():
    sentences = [["a", "b", "a"], ["a", "b"]]
    assert distinct_n(sentences, 1) == 2 / 5
    assert distinct_n(sentences, 2) == 2 / 3


def test_sample_diversity_counts_copies(tiny_trained):
    trained, _ = tiny_trained
    result = sample_diversity(trained, n=20, train_texts=SENTENCES)
    samples = [s.text for s in sample_prior(trained, 20, seed=0, strategy="sample", temperature=1.0)]
    # the same 20 draws: counted against themselves every one is a copy, against a disjoint corpus none is
    assert sample_diversity(trained, n=20, train_texts=samples)["copied_from_train"] == 1.0
    assert sample_diversity(trained, n=20, train_texts=["zebra quantum"])["copied_from_train"] == 0.0
    words = {" ".join(trained.tokenizer.tokens(trained.tokenizer.encode(s))) for s in SENTENCES}
    copies = sum(" ".join(trained.tokenizer.tokens(trained.tokenizer.encode(s))) in words for s in samples)
    assert result["copied_from_train"] == copies / 20
    assert 0 < result["distinct_1"] <= 1
