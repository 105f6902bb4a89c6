"""Held-out measurements taken while a model trains, so that runs compare honestly.

A training batch's numbers carry the run's own knobs: word dropout hides input words from the
decoder, so a run with dropout reports a worse reconstruction on its batches than its model really
has, and a run without it looks better than it is. Here every run is measured the same way: on the
same sentences it never trains on, in eval mode (no dropout of any kind), with the true ELBO
(KL weight 1, no free bits) and one fixed draw of the noise, so only the model changes.
"""

import random

import torch

from .data import sorted_batches, to_batch
from .metrics import active_units
from .model import gaussian_kl

MIN_SENTENCES = 20  # below this, holding any out leaves too little to learn from
MEMORISED_RATIO = 2.0  # held-out reconstruction this many times the training one (and...)
MEMORISED_NATS = 5.0  # ...this many nats worse per sentence): the model learned the lines by heart


def split_heldout(texts, fraction=0.1, max_heldout=200, seed=0):
    """(training texts, held-out texts): a fixed random `fraction` (at most `max_heldout`) set aside;
    nothing is held out of a corpus smaller than MIN_SENTENCES."""
    if len(texts) < MIN_SENTENCES:
        return list(texts), []
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    n = min(max(1, round(fraction * len(texts))), max_heldout)
    held = set(order[:n])
    return [t for i, t in enumerate(texts) if i not in held], [texts[i] for i in sorted(held)]


@torch.inference_mode()
def measure(model, ids_list, seed=0, batch_size=256):
    """Per-sentence averages over `ids_list` (token id lists): elbo, recon, kl (nats), and the active
    units of their posterior means. One draw z = mu + sigma * eps per sentence, with eps from a
    generator of its own: torch's global one belongs to the training run (a run resumed from a
    checkpoint must draw the same noise as one that never stopped). Leaves the model in its mode."""
    was_training = model.training
    model.eval()
    generator = torch.Generator(device=model.device).manual_seed(seed)
    totals = {"recon": 0.0, "kl": 0.0}
    mus = []
    try:
        for batch in sorted_batches([len(ids) for ids in ids_list], batch_size):
            tokens, lengths = to_batch([ids_list[i] for i in batch], model.device)
            mu, logvar = model.encode(tokens, lengths)
            if model.config.autoencoder or model.config.language_model:
                z, kl = mu, torch.zeros_like(mu)
            else:
                eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
                z, kl = mu + eps * torch.exp(0.5 * logvar), gaussian_kl(mu.float(), logvar.float())
            totals["recon"] += model.reconstruction_nll(tokens, lengths, z).float().sum().item()  # no word dropout
            totals["kl"] += kl.float().sum().item()
            mus.append(mu.float().cpu())
    finally:
        model.train(was_training)
    n = max(len(ids_list), 1)
    recon, kl = totals["recon"] / n, totals["kl"] / n
    return {"elbo": -(recon + kl), "recon": recon, "kl": kl,
            "active_units": active_units(torch.cat(mus)) if mus else 0}


def memorised(train_recon, heldout_recon):
    """True when held-out sentences reconstruct far worse than training ones (both measured by
    `measure`): the model has learned its lines by heart rather than how sentences go."""
    return (heldout_recon > MEMORISED_RATIO * train_recon
            and heldout_recon - train_recon > MEMORISED_NATS)
