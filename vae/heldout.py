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
    units of their posterior means. Leaves the model in the mode it was in and the global random
    state as it was (a run resumed from a checkpoint must draw the same noise as one that never
    stopped)."""
    was_training = model.training
    model.eval()
    totals = {"recon": 0.0, "kl": 0.0}
    mus = []
    try:
        with torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else []):
            torch.manual_seed(seed)
            for batch in sorted_batches([len(ids) for ids in ids_list], batch_size):
                tokens, lengths = to_batch([ids_list[i] for i in batch], model.device)
                out = model(tokens, lengths)  # no word dropout
                totals["recon"] += out["recon"].float().sum().item()
                totals["kl"] += out["kl"].float().sum().item()
                mus.append(out["mu"].float().cpu())
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
