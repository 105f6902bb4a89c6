"""A VAE as a compressor: its bits per sentence next to gzip's, bz2's and lzma's for the same text.

Bits-back coding (Hinton & van Camp 1993; BB-ANS, Townsend et al. 2019) turns a latent-variable model
into a lossless code. The sender decodes z ~ q(z|x) from bits already in the stream (taking back
about -log q(z|x) bits), then codes z under the prior (-log p(z)) and x under p(x|z). The net length
is E_q[-log p(x|z) + log q(z|x) - log p(z)] = -ELBO: the distortion -E log p(x|z) plus the rate
KL(q(z|x) || p(z)). The importance-weighted NLL estimates -log p(x) itself, what an ideal code under
this model costs; bits-back with many importance samples comes closer to it than the -ELBO
(Ruan et al. 2021).

What the figures leave out: the model (weights, vocabulary) is shared ahead, as a compressor's
code is; BB-ANS needs some initial bits for the first sentence and codes z discretised, both small
over many sentences. The model codes a sentence as it reads it (lower case, punctuation split,
at most max_len words, a rare word as <unk>), so each compressor gets that same text, UTF-8.
"""

import bz2
import gzip
import lzma
import math

from .decode import check_texts
from .metrics import evaluate
from .model import TrainedModel
from .tokenizer import detokenize

COMPRESSORS = {  # name -> bytes -> compressed bytes, each in its usual file format
    "gzip": lambda data: gzip.compress(data, mtime=0),  # no timestamp: the same text, the same size
    "bz2": bz2.compress,
    "lzma": lzma.compress,  # .xz
}


def compressed_bits(text: str) -> dict:
    """Bits of `text` as plain UTF-8 and compressed by each of COMPRESSORS."""
    data = text.encode("utf-8")
    return {"utf8": 8 * len(data), **{name: 8 * len(compress(data)) for name, compress in COMPRESSORS.items()}}


def as_read(trained: TrainedModel, texts) -> list[str]:
    """The sentences as the model reads them, one string each; those with no word left out (as
    evaluate leaves them out)."""
    tokenizer = trained.tokenizer
    # lower case, as the model reads them: decode would add the capitals of vae/casing.py, which gzip pays for
    return [detokenize(tokenizer.tokens(ids)) for ids in tokenizer.encode_batch(check_texts(texts), trained.max_len)
            if ids]


def mean_bits(texts) -> dict:
    """Compressed_bits of each text on its own, averaged over the texts."""
    sizes = [compressed_bits(text) for text in texts]
    return {name: sum(size[name] for size in sizes) / len(sizes) for name in sizes[0]}


def compression(trained: TrainedModel, texts, evaluation=None, iw_samples=100, seed=0) -> dict:
    """Bits per sentence of `texts`: the VAE's -ELBO, split into rate (KL) and distortion
    (reconstruction), and its importance-weighted NLL (None for an autoencoder, which defines no
    p(x)); beside them UTF-8, gzip, bz2 and lzma, each sentence compressed on its own ("alone") and
    the whole list as one text, a sentence a line ("together", its size divided by the sentences).
    `empty_file` is each format's size for no text at all: its header, which a sentence stored alone
    pays in full. `evaluation` is evaluate()'s result on the same texts, when there is one already;
    otherwise evaluate runs here (with `iw_samples` and `seed`)."""
    if evaluation is None:
        evaluation = evaluate(trained, texts, iw_samples, seed=seed)  # raises InputError if nothing to read
    read = as_read(trained, texts)
    if evaluation["sentences"] != len(read):
        raise ValueError(f"the evaluation is of {evaluation['sentences']} sentences, not these {len(read)}")
    in_bits = 1 / math.log(2)  # evaluate's figures are in nats
    vae = None
    if not trained.model.config.autoencoder:
        vae = {"neg_elbo": -evaluation["elbo"] * in_bits, "rate": evaluation["kl"] * in_bits,
               "distortion": evaluation["recon"] * in_bits, "iw_nll": evaluation["iw_nll"] * in_bits}
    together = compressed_bits("\n".join(read) + "\n")
    return {"sentences": len(read), "unit": "bits per sentence", "vae": vae, "estimator": evaluation["estimator"],
            "alone": mean_bits(read), "together": {name: bits / len(read) for name, bits in together.items()},
            "empty_file": compressed_bits(""),
            "text": "each sentence as the model reads it (lower case, at most max_len words, rare words as <unk>)",
            "coding": "a VAE with bits-back coding (Hinton & van Camp 1993; Townsend et al. 2019) compresses "
                      "at about its -ELBO"}


def sentence_bits(trained: TrainedModel, text: str, iw_samples=100, seed=0) -> dict:
    """compression() of one sentence, flat: {rate_bits, distortion_bits, neg_elbo_bits, iw_nll_bits}
    (None for an autoencoder) and {utf8_bits, gzip_bits, bz2_bits, lzma_bits} of the text as the model
    reads it (the sentence alone, header included). The rate is exact; the distortion, like evaluate's,
    comes from one z drawn with `seed`, so the same sentence always gets the same figures."""
    figures = compression(trained, [text], iw_samples=iw_samples, seed=seed)
    vae = figures["vae"] or dict.fromkeys(("rate", "distortion", "neg_elbo", "iw_nll"))
    return {**{f"{name}_bits": bits for name, bits in vae.items()},
            **{f"{name}_bits": bits for name, bits in figures["alone"].items()}}
