"""A second source of codes for sampling: a Gaussian mixture fitted to the encoded training set.

A VAE that reads sentences back needs a high rate, and the higher the rate the less the aggregate
posterior q(z) = E_x q(z|x) looks like the prior N(0, I): codes drawn from N(0, I) land in holes that
no training sentence maps to, and decode to word salad. Ghosh et al. 2020 ("From variational to
deterministic autoencoders", section 4) fix this after training ("ex-post density estimation"): fit
a simple density to the training codes and sample from it instead. scikit-learn's GaussianMixture
(installed with umap-learn) does the fitting; the fitted mixture is stored as plain tensors.
"""

import torch

FIT_SENTENCES = 50_000  # training codes the mixture is fitted to: more changes its samples little, its time a lot


def fit_latent_density(codes, components=32, seed=0):
    """Fit a full-covariance Gaussian mixture to codes (N, latent), the posterior means of training
    sentences (vae.decode.encode_texts); returns its tensors, rounded to fp16 as a checkpoint stores
    them (so what is measured is what ships)."""
    from sklearn.mixture import GaussianMixture  # imported here: only fitting needs scikit-learn

    mu = codes.double().numpy()
    gmm = GaussianMixture(components, covariance_type="full", random_state=seed, reg_covar=1e-4)
    gmm.fit(mu)
    tensors = {"weights": torch.from_numpy(gmm.weights_), "means": torch.from_numpy(gmm.means_),
               "scale_tril": torch.linalg.cholesky(torch.from_numpy(gmm.covariances_))}
    return {name: value.half().float() for name, value in tensors.items()}


def sample_density(density, n, generator, device, spread=1.0):
    """n codes (n, latent) from the mixture: pick a component by weight, then mean + spread * L @ eps.
    A spread below 1 samples each component at a reduced temperature (Kingma & Dhariwal 2018, Glow,
    section 5): codes stay nearer the dense middle of the training codes, where the decoder writes
    fluent sentences."""
    weights, means, scale_tril = (density[k].to(device) for k in ("weights", "means", "scale_tril"))
    component = torch.multinomial(weights, n, replacement=True, generator=generator)
    eps = torch.randn(n, means.size(1), 1, generator=generator, device=device)
    return means[component] + spread * (scale_tril[component] @ eps)[..., 0]


def log_density(density, z):
    """log q_mix(z) of codes z (..., latent) under the fitted mixture, with torch.distributions'
    mixture of full-covariance Gaussians (normalised, so it can stand in for the prior in an NLL)."""
    weights, means, scale_tril = (density[k].to(z.device, z.dtype) for k in ("weights", "means", "scale_tril"))
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(probs=weights),
        torch.distributions.MultivariateNormal(means, scale_tril=scale_tril), validate_args=False)
    return mixture.log_prob(z)
