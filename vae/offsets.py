"""Offsets: move a sentence's code by the mean difference between two kinds of sentence.

The offset from kind A to kind B is mean(mu of B sentences) - mean(mu of A sentences), over training
sentences labelled by their words; adding it to a typed sentence's code and decoding asks the model
for "this sentence, but of kind B". Shen et al. 2020 (ICML, "Educating Text Autoencoders", section
5.3) show that such vector arithmetic changes tense or sentiment and keeps the rest of the sentence
only in a space shaped by denoising: it tests whether the geometry means something.
"""

import random
import re

import torch

from .decode import InputError, decode_codes, encode_ids, encode_texts, read_back, sentence_ids

WORD = re.compile(r"\w+(?:'\w+)?")
NEGATIONS = {"not", "never", "no", "nobody", "nothing", "cannot"}
PRESENT = {"is", "are", "am", "do", "does", "has", "have", "i'm", "it's", "he's", "she's", "we're", "they're",
           "you're", "that's", "there's"}
PAST = {"was", "were", "did", "had", "went", "saw", "came", "told", "said", "bought", "ate", "made", "took",
        "got", "gave", "found", "knew", "thought", "left", "met", "lost", "felt", "wrote", "ran", "sat", "began",
        "brought", "caught", "drank", "drove", "fell", "forgot", "heard", "kept", "paid", "read", "sold", "sent",
        "slept", "spoke", "spent", "stood", "taught", "understood", "won", "yesterday", "ago"}
FUTURE = {"will", "won't", "i'll", "you'll", "he'll", "she'll", "we'll", "they'll", "it'll", "tomorrow"}


def words(text):
    return {w.lower() for w in WORD.findall(text.replace("\u2019", "'"))}


def is_question(text):
    return text.rstrip().endswith("?")


def is_statement(text):
    return text.rstrip().endswith(".")


def is_negative(text):
    found = words(text)
    return bool(found & NEGATIONS) or any(w.endswith("n't") for w in found)


def tense(text):
    """"past", "present" or None (future, both or neither), by the words a sentence uses."""
    found = words(text)
    past = bool(found & PAST) or any(w.endswith("ed") and len(w) > 4 for w in found)
    present = bool(found & PRESENT) and not found & FUTURE
    if past and not present and not found & FUTURE:
        return "past"
    if present and not past:
        return "present"
    return None


def affirmative_statement(text):
    return is_statement(text) and not is_negative(text)


# name: (caption, is this sentence of the kind the offset starts from, ... of the kind it goes to)
OFFSETS = {
    "statement → question": ("a statement becomes a question",
                             affirmative_statement, lambda t: is_question(t) and not is_negative(t)),
    "affirmative → negative": ("a sentence becomes its negation",
                               affirmative_statement, lambda t: is_statement(t) and is_negative(t)),
    "present → past": ("the present becomes the past",
                       lambda t: affirmative_statement(t) and tense(t) == "present",
                       lambda t: affirmative_statement(t) and tense(t) == "past"),
}


def fit_offsets(trained, train_texts, per_kind=5_000, seed=0):
    """{name: offset (latent,)} from up to `per_kind` training sentences of each kind, drawn with
    `seed`. Raises InputError when a corpus has too few sentences of a kind (fewer than 20)."""
    rng = random.Random(seed)
    offsets = {}
    for name, (_, source_kind, target_kind) in OFFSETS.items():
        groups = []
        for kind in (source_kind, target_kind):
            group = [t for t in train_texts if kind(t)]
            if len(group) < 20:
                raise InputError(f"the corpus has {len(group)} sentences of one kind of {name!r}; an offset needs 20")
            groups.append(rng.sample(group, min(per_kind, len(group))))
        source, target = (encode_texts(trained, group).mean(dim=0) for group in groups)
        offsets[name] = target - source
    return offsets


@torch.inference_mode()
def apply_offset(trained, text, offset, scale=1.0):
    """The sentence decoded from mu(text) + scale * offset (as the model's code_decoding says; at
    scale 0 the code is the sentence's own, and it is read back, read_back_decoding)."""
    ids, _ = sentence_ids(trained, text)
    mu, _ = encode_ids(trained, [ids])
    if offset.shape != mu[0].shape:
        raise InputError(f"the offset has {offset.numel()} dimensions; this model's codes have {mu.size(1)}")
    if scale == 0:
        return read_back(trained, mu)[0]
    return decode_codes(trained, mu + scale * offset.to(mu))[0]
