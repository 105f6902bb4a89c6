"""Held-out quality of a text VAE, measured the way the literature reports it.

- ELBO, reconstruction and KL in nats per sentence (one z sample per sentence);
- NLL by importance sampling with k samples from q(z|x) (Burda et al. 2016), and perplexity
  exp(total NLL / total tokens), tokens = words + one <eos> per sentence;
- mutual information I(x; z) and active units, as in He et al. 2019;
- reconstruction from the posterior mean: token accuracy and BLEU (sacrebleu);
- diversity of prior samples: distinct-1/2 (Li et al. 2016) and the share copied from training data.
"""

import math

import sacrebleu
import torch

from .checkpoint import TrainedModel
from .data import sorted_batches, to_batch
from .decode import encode_texts, generate, sample_prior
from .model import gaussian_log_density


@torch.inference_mode()
def evaluate(trained: TrainedModel, texts, iw_samples=100, batch_size=64, seed=0, progress=None):
    """Likelihood metrics on `texts`; `progress(done, total)` after each batch."""
    model = trained.model.eval()
    cfg = model.config
    torch.manual_seed(seed)
    ids_list = [x for x in trained.tokenizer.encode_batch(texts, trained.max_len) if x]
    totals = {"recon": 0.0, "kl": 0.0, "iw_nll": 0.0, "mi": 0.0}
    num_tokens, all_mu = 0, []
    batches = sorted_batches([len(x) for x in ids_list], batch_size)
    for n, batch in enumerate(batches):
        tokens, lengths = to_batch([ids_list[i] for i in batch], model.device)
        out = model(tokens, lengths)
        totals["recon"] += out["recon"].sum().item()
        totals["kl"] += out["kl"].sum().item()
        totals["mi"] += mutual_information(out["mu"], out["logvar"]) * len(batch)
        if cfg.language_model:  # no latent: the NLL is exact
            totals["iw_nll"] += out["recon"].sum().item()
        elif not cfg.autoencoder:  # an AE defines no density, so it has no NLL
            totals["iw_nll"] += iw_nll(model, tokens, lengths, out["mu"], out["logvar"], iw_samples).sum().item()
        num_tokens += int(lengths.sum())
        all_mu.append(out["mu"].float().cpu())
        if progress:
            progress(n + 1, len(batches))
    N = len(ids_list)
    result = {k: v / N for k, v in totals.items()}
    result["elbo"] = -(result["recon"] + result["kl"])
    if cfg.autoencoder:
        result["iw_nll"] = None
        result["ppl"] = None
    else:
        result["ppl"] = math.exp(totals["iw_nll"] / num_tokens)
    result["active_units"] = active_units(torch.cat(all_mu))
    result["latent_size"] = cfg.latent_size
    result["sentences"], result["tokens"] = N, num_tokens
    result["estimator"] = "exact (no latent)" if cfg.language_model else f"importance sampling, k={iw_samples}"
    return result


def iw_nll(model, tokens, lengths, mu, logvar, k, chunk=50):
    """-log p(x) per sentence (B,), estimated with k importance samples z ~ q(z|x):
    log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log k. Being the log of an
    unbiased estimate of p(x), it is a lower bound on log p(x) that tightens as k grows
    (Burda et al. 2016) and equals the ELBO's bound at k = 1."""
    B = tokens.size(0)
    log_w = []
    for start in range(0, k, chunk):
        s = min(chunk, k - start)
        z = mu + torch.randn(s, *mu.shape, device=mu.device) * torch.exp(0.5 * logvar)  # (s, B, L)
        flat_z = z.reshape(s * B, -1)
        log_px_z = -model.reconstruction_nll(tokens.repeat(s, 1), lengths.repeat(s), flat_z).view(s, B)
        log_pz = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
        log_qz = gaussian_log_density(z, mu, logvar)
        log_w.append(log_px_z + log_pz - log_qz)
    return -(torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k))


def mutual_information(mu, logvar):
    """I(x; z) under q on one batch (He et al. 2019, eq. 4's estimator):
    E_x E_q(z|x) [log q(z|x)] - E_q(z) [log q(z)], with q(z) approximated by the batch's mixture."""
    B, L = mu.shape
    neg_entropy = (-0.5 * L * math.log(2 * math.pi) - 0.5 * (1 + logvar).sum(-1)).mean()
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)  # one z per x, (B, L)
    log_q_all = gaussian_log_density(z[:, None], mu[None], logvar[None])  # (B z's, B posteriors)
    log_qz = torch.logsumexp(log_q_all, dim=1) - math.log(B)
    return (neg_entropy - log_qz.mean()).item()


def active_units(mu, threshold=0.01):
    """Dimensions whose posterior mean varies across the data: Cov_x(E_q[z_i]) > 0.01."""
    return int((mu.var(0) > threshold).sum()) if len(mu) > 1 else 0


@torch.inference_mode()
def reconstruction_quality(trained: TrainedModel, texts, batch_size=256):
    """Greedy decoding of each posterior mean vs the input: token accuracy and corpus BLEU.
    <unk> may be decoded here: a reference's rare words are <unk> to the model too."""
    tokenizer = trained.tokenizer
    references, hypotheses, correct, total = [], [], 0, 0
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        mu = encode_texts(trained, chunk)
        for text, sample in zip(chunk, generate(trained, mu, strategy="greedy", allow_unk=True)):
            ref = tokenizer.tokens(tokenizer.encode(text, trained.max_len))
            hyp = tokenizer.tokens(tokenizer.encode(sample.text))
            # position-wise match over the reference, counting the end of the sentence as a token
            ref_eos, hyp_eos = ref + ["<eos>"], hyp + ["<eos>"]
            correct += sum(r == h for r, h in zip(ref_eos, hyp_eos))
            total += len(ref_eos)
            references.append(" ".join(ref))
            hypotheses.append(" ".join(hyp))
    bleu = sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none").score
    return {"token_accuracy": correct / max(total, 1), "bleu": bleu, "sentences": len(texts)}


def distinct_n(sentences, n):
    """Distinct n-grams / all n-grams over a set of tokenised sentences (Li et al. 2016)."""
    grams = [tuple(words[i : i + n]) for words in sentences for i in range(len(words) - n + 1)]
    return len(set(grams)) / max(len(grams), 1)


def sample_diversity(trained: TrainedModel, n=1000, temperature=1.0, seed=0, train_texts=None, batch_size=250):
    """distinct-1/2 of n prior samples, and the fraction that copy a training sentence."""
    samples = []
    for start in range(0, n, batch_size):
        samples += sample_prior(trained, min(batch_size, n - start), seed=seed + start,
                                strategy="sample", temperature=temperature)
    words = [trained.tokenizer.tokens(trained.tokenizer.encode(s.text)) for s in samples]
    result = {"samples": n, "temperature": temperature,
              "distinct_1": distinct_n(words, 1), "distinct_2": distinct_n(words, 2),
              "mean_words": sum(map(len, words)) / max(n, 1)}
    if train_texts is not None:
        seen = {" ".join(trained.tokenizer.tokens(x)) for x in trained.tokenizer.encode_batch(train_texts)}
        result["copied_from_train"] = sum(" ".join(w) in seen for w in words) / max(n, 1)
    return result
