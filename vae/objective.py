"""The training objective: ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)), and the knobs that keep
a text VAE from ignoring its latent code ("posterior collapse"):

- KL annealing: the KL weight rises from 0 (Bowman et al. 2016), once or in cycles (Fu et al. 2019);
- beta: the final KL weight (Higgins et al. 2017); 1 gives the true ELBO;
- word dropout: applied in the model's decoder inputs (Bowman et al. 2016);
- free bits: each latent dimension's KL below `free_bits` nats costs nothing, so the optimiser has
  no reason to push it to zero (Kingma et al. 2016; "KL thresholding" in Li et al. 2019). It sets
  the rate: with free bits f and L latent dimensions, the KL settles near f * L nats or above;
- autoencoder pre-training: the first steps use z = mu and no KL, so the encoder learns a useful
  code before the KL term pulls on it (Li et al. 2019);
- a bag-of-words loss: z must also predict the sentence's words in no order (Zhao et al. 2017);
- word deletion in the encoder's input: the encoder reads a damaged copy of the sentence and the
  decoder must still write the whole of it, so that sentences that differ by a few words must share
  a neighbourhood, and the space between codes decodes to sentences too (Shen et al. 2020, ICML,
  "Educating Text Autoencoders: Latent Representation Guidance via Denoising", section 4; their
  DAAE deletes each word with probability 0.3).
"""

import math
from dataclasses import dataclass

import torch

from .tokenizer import EOS_ID, PAD_ID

SCHEDULES = ("constant", "linear", "sigmoid", "cyclical")


@dataclass
class ObjectiveConfig:
    kl_schedule: str = "linear"  # one of SCHEDULES
    kl_warmup_steps: int = 2000  # length of the anneal; for "cyclical", the length of one cycle
    beta: float = 1.0  # the KL weight reached at the end of the anneal
    word_dropout: float = 0.0  # probability of replacing a decoder input word with <unk>
    free_bits: float = 0.0  # nats per latent dimension that are free (0 = off)
    ae_pretrain_steps: int = 0  # first steps as a deterministic autoencoder; the KL anneal starts after
    bag_of_words: float = 0.0  # weight of the bag-of-words loss (needs a model with that head)
    word_deletion: float = 0.0  # probability of deleting each word of the encoder's input (0 = off)


def kl_weight(step, config: ObjectiveConfig):
    """The weight of the KL term at training step `step` (0-based)."""
    step -= config.ae_pretrain_steps
    if step < 0:
        return 0.0
    n = max(config.kl_warmup_steps, 1)
    if config.kl_schedule == "constant":
        ramp = 1.0
    elif config.kl_schedule == "linear":
        ramp = min(step / n, 1.0)
    elif config.kl_schedule == "sigmoid":
        # logistic curve centred on the middle of the warm-up, ~0.0025 at the start and ~0.9975 at the end
        ramp = 1.0 / (1.0 + math.exp(-12.0 * (step / n - 0.5)))
    elif config.kl_schedule == "cyclical":
        # Fu et al. 2019: in each cycle, rise linearly over the first half, then hold at 1
        ramp = min((step % n) / (0.5 * n), 1.0)
    else:
        raise ValueError(f"kl_schedule must be one of {SCHEDULES}, not {config.kl_schedule!r}")
    return config.beta * ramp


def loss_terms(out, kl_weight, free_bits=0.0, bag_of_words=0.0):
    """Training loss (a scalar to minimise) and honest per-sentence statistics from model output.

    The loss uses the weighted, thresholded KL; the reported `elbo` always uses the true KL with
    weight 1, so runs with different knobs can be compared on the same scale."""
    recon = out["recon"].mean()  # nats per sentence
    kl_per_dim = out["kl"].mean(0)  # (latent,), averaged over the batch
    kl = kl_per_dim.sum()
    if free_bits > 0:
        kl_for_loss = torch.clamp(kl_per_dim, min=free_bits).sum()
    else:
        kl_for_loss = kl
    loss = recon + kl_weight * kl_for_loss
    stats = {"recon": recon.item(), "kl": kl.item(), "elbo": -(recon + kl).item()}
    if bag_of_words > 0 and "bag_of_words" in out:
        bow = out["bag_of_words"].mean()
        loss = loss + bag_of_words * bow
        stats["bag_of_words"] = bow.item()
    return loss, stats


def delete_words(tokens, lengths, probability, generator=None):
    """The encoder's noisy input: each word deleted with `probability`, <eos> always kept, the rest
    moved left in order (Shen et al. 2020, section 4, "word dropout" by deletion). Returns tokens
    (B, T') and lengths (B,) in the batch's own form; a sentence may lose every word but <eos>."""
    real = tokens != PAD_ID
    drop = torch.rand(tokens.shape, generator=generator, device=tokens.device) < probability
    keep = real & ~(drop & (tokens != EOS_ID))
    # a stable sort of "not kept" brings the kept tokens to the front in their order
    order = torch.sort((~keep).to(torch.uint8), dim=1, stable=True).indices
    new_lengths = keep.sum(dim=1)
    noisy = tokens.gather(1, order)
    positions = torch.arange(tokens.size(1), device=tokens.device)
    noisy = noisy.masked_fill(positions >= new_lengths[:, None], PAD_ID)
    return noisy[:, : int(new_lengths.max())], new_lengths
