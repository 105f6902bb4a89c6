"""Held-out quality of a text VAE, measured the way the literature reports it.

- ELBO, reconstruction and KL in nats per sentence (one z sample per sentence);
- NLL by importance sampling with k samples from q(z|x) (Burda et al. 2016), and perplexity
  exp(total NLL / total tokens), tokens = words + one <eos> per sentence;
- mutual information I(x; z) and active units, as in He et al. 2019, and the KL of each dimension
  (also as a ranking of the dimensions by use, for walking them one at a time);
- reconstruction from the posterior mean, read back as the app does (read_back_decoding): exact match, token
  accuracy and BLEU (sacrebleu), overall and by sentence length;
- prior samples: distinct-1/2 (Li et al. 2016), the share copied from training data, the share of
  empty ones, and fluency as their perplexity under a language-model baseline;
- a cheap fluency proxy for any decoded text: the share of its word bigrams never seen in the
  training corpus (copies score 0, so it is always reported beside the share of copies).
"""

import math

import sacrebleu
import torch

from .data import sorted_batches, to_batch
from .decode import (
    InputError,
    check_texts,
    check_whole,
    encode_ids,
    encode_texts,
    read_back,
    sample_prior,
)
from .density import log_density
from .model import TrainedModel, gaussian_kl, gaussian_log_density
from .tokenizer import BOS_ID, EOS_ID


@torch.inference_mode()
def evaluate(trained: TrainedModel, texts, iw_samples=100, batch_size=64, seed=0, progress=None,
             mixture_prior=False):
    """Likelihood metrics on `texts`; `progress(done, total)` after each batch. With `mixture_prior`
    and a model with a fitted mixture, also `iw_nll_mixture_prior`: the NLL of the decoder with that
    mixture (the Sample page's default source of codes, at spread 1) in place of N(0, I) as the
    prior, from the same importance samples."""
    check_whole("iw_samples", iw_samples, 1, 10_000)
    check_whole("batch_size", batch_size, 1)
    if not any(trained.tokenizer.encode_batch(check_texts(texts), trained.max_len)):
        raise InputError("there is nothing to evaluate: no sentence has a word the model can read")
    model = trained.model.eval()
    cfg = model.config
    generator = torch.Generator(device=model.device).manual_seed(seed)  # its own: threads may evaluate at once
    ids_list = [x for x in trained.tokenizer.encode_batch(texts, trained.max_len) if x]
    mixture = trained.density if mixture_prior and not (cfg.autoencoder or cfg.language_model) else None
    priors = {"iw_nll": None, **({"iw_nll_mixture_prior": mixture} if mixture is not None else {})}
    totals = {"recon": 0.0, "kl": 0.0, **dict.fromkeys(priors, 0.0)}
    num_tokens, all_mu, all_logvar = 0, [], []
    kl_per_dim = torch.zeros(cfg.latent_size)
    batches = sorted_batches([len(x) for x in ids_list], batch_size)
    for n, batch in enumerate(batches):
        tokens, lengths = to_batch([ids_list[i] for i in batch], model.device)
        out = model(tokens, lengths, generator=generator)
        totals["recon"] += out["recon"].sum().item()
        totals["kl"] += out["kl"].sum().item()
        kl_per_dim += out["kl"].float().sum(0).cpu()
        if cfg.language_model:  # no latent: the NLL is exact
            totals["iw_nll"] += out["recon"].sum().item()
        elif not cfg.autoencoder:  # an AE defines no density, so it has no NLL
            nlls = iw_nll(model, tokens, lengths, out["mu"], out["logvar"], iw_samples, generator=generator,
                          priors=list(priors.values()))
            for name, nll in zip(priors, nlls):
                totals[name] += nll.sum().item()
        num_tokens += int(lengths.sum())
        all_mu.append(out["mu"].float().cpu())
        all_logvar.append(out["logvar"].float().cpu())
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
    mu, logvar = torch.cat(all_mu), torch.cat(all_logvar)
    result["kl_per_dim"] = [round(v, 4) for v in (kl_per_dim / N).tolist()]
    if cfg.autoencoder or cfg.language_model or N < 2:  # MI over one sentence means nothing (and its
        result["mi"] = result["mi_upper_bound"] = None       # covariance is undefined)
    else:
        result["mi"] = mutual_information(mu, logvar, generator=torch.Generator().manual_seed(seed))
        result["mi_upper_bound"] = mutual_information_upper_bound(mu, logvar)
    result["mi_estimator"] = (f"He et al. 2019 over all {N} sentences (at most log N = {math.log(max(N, 1)):.2f});"
                              " upper bound: mean KL - KL(moment-matched Gaussian of q(z) || p(z))")
    result["active_units"] = active_units(mu)
    result["latent_size"] = cfg.latent_size
    result["sentences"], result["tokens"] = N, num_tokens
    result["estimator"] = "exact (no latent)" if cfg.language_model else f"importance sampling, k={iw_samples}"
    return result


def iw_nll(model, tokens, lengths, mu, logvar, k, chunk=50, generator=None, priors=None):
    """-log p(x) per sentence (B,), estimated with k importance samples z ~ q(z|x):
    log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log k. Being the log of an
    unbiased estimate of p(x), it is a lower bound on log p(x) that tightens as k grows
    (Burda et al. 2016) and equals the ELBO's bound at k = 1.

    `priors`: a list of p(z), each None for N(0, I) or a fitted mixture (vae/density.py); then a list
    of estimates, one per prior, from the same samples (the decoder's pass, the costly part, is shared)."""
    B = tokens.size(0)
    listed = priors is not None
    priors = priors if listed else [None]
    log_w = [[] for _ in priors]
    for start in range(0, k, chunk):
        s = min(chunk, k - start)
        eps = torch.randn(s, *mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)  # (s, B, L)
        flat_z = z.reshape(s * B, -1)
        log_px_z = -model.reconstruction_nll(tokens.repeat(s, 1), lengths.repeat(s), flat_z).view(s, B)
        log_qz = gaussian_log_density(z, mu, logvar)
        for weights, prior in zip(log_w, priors):
            if prior is None:
                log_pz = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
            else:
                log_pz = log_density(prior, z.float()).to(z.dtype)
            weights.append(log_px_z + log_pz - log_qz)
    nlls = [-(torch.logsumexp(torch.cat(w), dim=0) - math.log(k)) for w in log_w]
    return nlls if listed else nlls[0]


def mutual_information(mu, logvar, chunk=256, generator=None):
    """I(x; z) under q over a whole evaluation set (He et al. 2019, eq. 4's estimator):
    E_x E_q(z|x) [log q(z|x)] - E_q(z) [log q(z)], q(z) being the mixture of all N posteriors.

    Taken over every sentence, not per batch: a batch of 64 caps the estimate at log 64 = 4.16 nats.
    Over N sentences it is still at most about log N, the entropy of the evaluation set itself."""
    N, L = mu.shape
    neg_entropy = (-0.5 * L * math.log(2 * math.pi) - 0.5 * (1 + logvar).sum(-1)).mean()
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)  # mu and logvar are on the CPU here
    z = mu + eps * torch.exp(0.5 * logvar)  # one z per x, (N, L)
    log_qz = torch.cat([torch.logsumexp(gaussian_log_density(z[i:i + chunk, None], mu[None], logvar[None]), dim=1)
                        for i in range(0, N, chunk)]) - math.log(N)
    return (neg_entropy - log_qz.mean()).item()


def mutual_information_upper_bound(mu, logvar):
    """I(x; z) = E_x KL(q(z|x) || p(z)) - KL(q(z) || p(z)) (Hoffman & Johnson 2016). Among densities
    with q(z)'s mean and covariance the Gaussian g has the most entropy, and E[log p(z)] depends on
    those moments only, so KL(q(z) || p) >= KL(g || p): subtracting KL(g || p) bounds I from above,
    with no log N cap."""
    mean_kl = gaussian_kl(mu, logvar).sum(-1).mean()
    m = mu.mean(0).double()
    cov = torch.cov(mu.T.double()) + torch.diag(logvar.exp().mean(0).double())  # total covariance of q(z)
    L = mu.size(1)
    kl_g = 0.5 * (torch.trace(cov) + m @ m - L - torch.logdet(cov))  # KL(N(m, cov) || N(0, I))
    return (mean_kl - kl_g).item()


def active_units(mu, threshold=0.01):
    """Dimensions whose posterior mean varies across the data: Cov_x(E_q[z_i]) > 0.01."""
    return int((mu.var(0) > threshold).sum()) if len(mu) > 1 else 0


def rank_dimensions(trained: TrainedModel, texts):
    """[(dimension, use)] for every latent dimension, the most used first: its KL(q(z_i|x) || N(0, 1))
    in nats, averaged over `texts` (the figure evaluate reports as kl_per_dim). A dimension the model
    ignores keeps q(z_i|x) = p(z_i) for every x, so its KL is near 0 (posterior collapse).
    An autoencoder has no posterior variance and no KL; there `use` is the variance of mu_i over
    `texts`, the statistic behind active units."""
    ids_list = [ids for ids in trained.tokenizer.encode_batch(check_texts(texts), trained.max_len) if ids]
    if not ids_list:
        raise InputError("there is nothing to rank the dimensions by: no sentence has a word the model can read")
    mu, logvar = encode_ids(trained, ids_list)
    if trained.model.config.autoencoder:
        use = mu.var(0, correction=0)
    else:
        use = gaussian_kl(mu, logvar).mean(0)
    order = torch.argsort(use, descending=True, stable=True)
    return [(int(dim), float(use[dim])) for dim in order]


LENGTH_BUCKETS = {"<=8 words": (1, 8), "9-12 words": (9, 12), "13-15 words": (13, 15)}


def num_words(tokens):
    """Words in a token list, punctuation not counted ("i love it ." has 3)."""
    return sum(any(c.isalnum() for c in t) for t in tokens)


@torch.inference_mode()
def reconstructions(trained: TrainedModel, texts, allow_unk=False, batch_size=256):
    """[(input tokens, tokens read back)] from each posterior mean, decoded as the app decodes it
    (decode.read_back_decoding; with allow_unk=False <unk> is never chosen, as in the app)."""
    tokenizer = trained.tokenizer
    pairs = []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        mu = encode_texts(trained, chunk)
        for text, sample in zip(chunk, read_back(trained, mu, allow_unk=allow_unk)):
            pairs.append((tokenizer.tokens(tokenizer.encode(text, trained.max_len)),
                          tokenizer.tokens(tokenizer.encode(sample.text))))
    return pairs


def reconstruction_scores(pairs):
    """Exact match, token accuracy and corpus BLEU of [(reference tokens, hypothesis tokens)]."""
    correct = total = exact = 0
    for ref, hyp in pairs:
        # position-wise match over the reference, counting the end of the sentence as a token
        ref_eos, hyp_eos = ref + ["<eos>"], hyp + ["<eos>"]
        correct += sum(r == h for r, h in zip(ref_eos, hyp_eos))
        total += len(ref_eos)
        exact += ref == hyp
    hypotheses = [" ".join(h) for _, h in pairs]
    references = [" ".join(r) for r, _ in pairs]
    bleu = sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none", force=True).score if pairs else 0.0
    return {"exact_match": exact / max(len(pairs), 1), "token_accuracy": correct / max(total, 1),
            "bleu": bleu, "sentences": len(pairs)}


def reconstruction_quality(trained: TrainedModel, texts, allow_unk=False, batch_size=256, buckets=LENGTH_BUCKETS):
    """Reconstruction scores overall and by length (`buckets` of words; a sentence outside them counts
    in none of them)."""
    texts = check_texts(texts)
    if not texts:
        raise InputError("there is nothing to reconstruct: the list of sentences is empty")
    pairs = reconstructions(trained, texts, allow_unk, batch_size)
    result = {**reconstruction_scores(pairs), "allow_unk": allow_unk, "by_length": {}}
    for name, (low, high) in buckets.items():
        bucket = [p for p in pairs if low <= num_words(p[0]) <= high]
        result["by_length"][name] = reconstruction_scores(bucket)
    short = [p for p in pairs if num_words(p[0]) <= 12]
    result["up_to_12_words"] = reconstruction_scores(short)
    return result


def distinct_n(sentences, n):
    """Distinct n-grams / all n-grams over a set of tokenised sentences (Li et al. 2016)."""
    grams = [tuple(words[i : i + n]) for words in sentences for i in range(len(words) - n + 1)]
    return len(set(grams)) / max(len(grams), 1)


def sample_diversity(trained: TrainedModel, n=1000, temperature=1.0, seed=0, train_texts=None, batch_size=250,
                     source="prior", lm: TrainedModel = None, strategy="sample", **decoding):
    """n samples from `source` ("prior" or "mixture"), decoded with `strategy` at `temperature`
    (sampling at 1 unless told): distinct-1/2, the share of empty samples, the share copied from
    `train_texts`, and with a language model `lm` their perplexity under it (fluency)."""
    check_whole("n", n, 1, 100_000)
    samples = []
    for start in range(0, n, batch_size):
        samples += sample_prior(trained, min(batch_size, n - start), seed=seed + start, source=source,
                                strategy=strategy, temperature=temperature, **decoding)
    words = [trained.tokenizer.tokens(trained.tokenizer.encode(s.text)) for s in samples]
    result = {"samples": n, "source": source, "strategy": strategy, "temperature": temperature, **decoding,
              "distinct_1": distinct_n(words, 1), "distinct_2": distinct_n(words, 2),
              "empty": sum(not w for w in words) / max(n, 1),
              "mean_words": sum(map(num_words, words)) / max(n, 1)}
    if train_texts is not None:
        seen = {" ".join(trained.tokenizer.tokens(x)) for x in trained.tokenizer.encode_batch(train_texts)}
        result["copied_from_train"] = sum(" ".join(w) in seen for w in words) / max(n, 1)
    if lm is not None:
        result["lm_perplexity"] = lm_perplexity(lm, [s.text for s in samples])
    return result


class TrainingText:
    """What decoded sentences are compared with: the training corpus's sentences (to count copies)
    and its word bigrams, sentence ends included (to count bigrams it never has)."""

    def __init__(self, tokenizer, train_texts):
        self.tokenizer = tokenizer
        ids_list = tokenizer.encode_batch(train_texts)
        self.sentences = {tuple(ids) for ids in ids_list}
        self.bigrams = {pair for ids in ids_list for pair in self.pairs(ids)}

    @staticmethod
    def pairs(ids):
        ends = [BOS_ID, *ids, EOS_ID]
        return zip(ends, ends[1:])

    def measure(self, texts):
        """Share of `texts` that copy a training sentence, share of their bigrams never seen in
        training, and distinct-2."""
        ids_list = self.tokenizer.encode_batch(texts)
        pairs = [pair for ids in ids_list for pair in self.pairs(ids)]
        return {"sentences": len(texts),
                "copied_from_train": sum(tuple(ids) in self.sentences for ids in ids_list) / max(len(texts), 1),
                "unseen_bigrams": sum(pair not in self.bigrams for pair in pairs) / max(len(pairs), 1),
                "distinct_2": distinct_n([self.tokenizer.tokens(ids) for ids in ids_list], 2),
                "empty": sum(not ids for ids in ids_list) / max(len(texts), 1)}


@torch.inference_mode()
def lm_perplexity(lm: TrainedModel, texts, batch_size=256):
    """exp(total NLL / total tokens) of `texts` under a language model (a model trained with
    --mode lm, whose NLL is exact). An empty text still costs its <eos>."""
    ids_list = lm.tokenizer.encode_batch(texts, lm.max_len)
    total_nll, num_tokens = 0.0, 0
    for batch in sorted_batches([len(x) for x in ids_list], batch_size):
        tokens, lengths = to_batch([ids_list[i] for i in batch], lm.model.device)
        z = torch.zeros(len(batch), lm.model.config.latent_size, device=lm.model.device)
        total_nll += lm.model.reconstruction_nll(tokens, lengths, z).sum().item()
        num_tokens += int(lengths.sum())
    return math.exp(total_nll / max(num_tokens, 1))
