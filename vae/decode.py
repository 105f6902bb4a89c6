"""Walks along the model's line: text -> ids -> (mu, logvar) -> z -> decoded text.

Used read-only by the app, the CLI and the tests; everything runs under torch.inference_mode().
"""

import math
import numbers
from dataclasses import dataclass

import torch

from .data import sorted_batches, to_batch
from .density import sample_density
from .model import TrainedModel, gaussian_log_density
from .tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID

STRATEGIES = ("greedy", "sample", "top-k", "top-p", "beam")
BEAM_WIDTH = 5  # beginnings kept per code by beam search
MAX_BEAM_WIDTH = 20
MAX_POSTERIOR_WEIGHT = 10.0  # beam_search's weight of log q(z|x): far beyond any that reads well
BEAM_ROWS = 1_000  # beginnings a beam search decodes at once (codes x width)
METHODS = ("linear", "spherical")  # interpolation paths
MAX_SAMPLES = 1_000  # sentences per call: a page draws at most 50, metrics draw in batches of 250
MAX_STEPS = 100  # points on an interpolation path: more than a page can show
MAX_DECODE_LEN = 500  # words per decoded sentence
MAX_SEED = 2**63 - 1
MAX_NOTED_WORDS = 10  # unknown words a notice names
SOURCES = ("prior", "mixture")  # where sample_prior draws z: N(0, I), or the fitted mixture (density.py)
# The Sample page's defaults, chosen by measurement (report.SAMPLE_SETTINGS, the card's table of
# sample fluency by source and decoding); a model without a mixture draws from N(0, I) instead.
SAMPLE_DEFAULTS = {"source": "mixture", "spread": 0.5, "strategy": "greedy", "temperature": 1.0,
                   "beam_width": BEAM_WIDTH, "posterior_weight": 0.0}


class InputError(ValueError):
    """Text the model cannot work with (e.g. empty), with a message for the user."""


# argument checks: bad values end with InputError and one sentence, not a torch error or garbage


def check_whole(name, value, low, high=None):
    """`value` as an int in [low, high]. Floats (even 2.0) and bools are refused: a float that slips
    through would reach range() or torch.topk and fail there."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be a whole number, not {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"from {low:,} to {high:,}" if high is not None else f"at least {low:,}"
        raise InputError(f"{name} must be {bounds}, not {value:,}")
    return int(value)


def check_real(name, value, low, high=math.inf, low_open=False):
    """`value` as a finite float in [low, high] ((low, high] if `low_open`); NaN and inf are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, not {value!r}")
    if value < low or value > high or (low_open and value == low):
        above = f"above {low:g}" if low_open else f"at least {low:g}"
        bounds = above if high == math.inf else f"{above} and at most {high:g}"
        raise InputError(f"{name} must be {bounds}, not {value:g}")
    return float(value)


def check_choice(name, value, choices):
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def check_texts(texts):
    """A list of sentences, each a str (a single str is refused: it would be read letter by letter)."""
    if isinstance(texts, (str, bytes)) or not hasattr(texts, "__iter__"):
        raise InputError(f"expected a list of sentences, not {type(texts).__name__}")
    texts = list(texts)
    for text in texts:
        if not isinstance(text, str):
            raise InputError(f"every sentence must be text, not {type(text).__name__}")
    return texts


def check_decoding(strategy, temperature, top_k, top_p, beam_width=BEAM_WIDTH, posterior_weight=0.0):
    check_choice("strategy", strategy, STRATEGIES)
    check_whole("beam_width", beam_width, 1, MAX_BEAM_WIDTH)
    check_real("posterior_weight", posterior_weight, 0, MAX_POSTERIOR_WEIGHT)
    check_real("temperature", temperature, 0)  # 0 means greedy
    check_whole("top_k", top_k, 1)
    check_real("top_p", top_p, 0, 1, low_open=True)


@dataclass
class Sample:
    text: str
    num_words: int
    logprob: float  # log p(sentence | z) under the model (temperature 1), <eos> included


# text -> mu, logvar


def sentence_ids(trained: TrainedModel, text: str):
    """Token ids of one user sentence and notices about it; raises InputError if it is empty."""
    if text is not None and not isinstance(text, str):
        raise InputError(f"The sentence must be text, not {type(text).__name__}.")
    text = (text or "").strip()
    if not text:
        raise InputError("Type a sentence first: the text is empty.")
    ids = trained.tokenizer.encode(text)
    if not ids:
        raise InputError("The text has no words the model can read.")
    notes = []
    if len(ids) > trained.max_len:
        notes.append(f"The sentence has {len(ids)} tokens; only the first {trained.max_len} are used.")
        ids = ids[: trained.max_len]
    unknown = trained.tokenizer.unknown_words(text)
    if all(i == UNK_ID for i in ids):
        notes.append("None of these words is in the model's vocabulary, so it sees only <unk> tokens.")
    elif unknown:
        words = sorted(set(unknown))
        # a pasted page can hold hundreds: a notice that long would push the outcome out of view
        more = f" and {len(words) - MAX_NOTED_WORDS:,} more" if len(words) > MAX_NOTED_WORDS else ""
        notes.append(f"Not in the vocabulary (read as <unk>): {', '.join(words[:MAX_NOTED_WORDS])}{more}")
    return ids, notes


# Sentences per encoder batch: a step of the recurrence costs a Python round trip whatever the batch,
# so fewer, larger batches encode faster (5,000 sentences, one thread: 614 ms at 512, 582 at 1,024)
ENCODE_BATCH = 1024


@torch.inference_mode()
def encode_ids(trained: TrainedModel, ids_list, batch_size=ENCODE_BATCH, progress=None):
    """Posterior means and log-variances for token id lists: two (N, latent) CPU tensors, in input
    order. Batches are sorted by length so there is little padding. `progress(done, total)` is
    called after each batch."""
    check_whole("batch_size", batch_size, 1)
    model = trained.model
    mu = torch.empty(len(ids_list), model.config.latent_size)
    logvar = torch.empty_like(mu)
    lengths = [len(ids) for ids in ids_list]
    done = 0
    for batch in sorted_batches(lengths, batch_size):
        tokens, lens = to_batch([ids_list[i] for i in batch], model.device)
        m, lv = model.encode(tokens, lens)
        mu[batch], logvar[batch] = m.float().cpu(), lv.float().cpu()
        done += len(batch)
        if progress:
            progress(done, len(ids_list))
    return mu, logvar


def encode_texts(trained: TrainedModel, texts, batch_size=ENCODE_BATCH, progress=None):
    """Posterior means (N, latent) of sentences (truncated to max_len words)."""
    ids_list = trained.tokenizer.encode_batch(check_texts(texts), trained.max_len)
    return encode_ids(trained, ids_list, batch_size, progress)[0]


# z -> text


@torch.inference_mode()
def generate(trained: TrainedModel, z, strategy="sample", temperature=1.0, top_k=20, top_p=0.9,
             max_len=None, generator=None, allow_unk=False, beam_width=BEAM_WIDTH, posterior_weight=0.0):
    """Decode a batch of latent codes z (B, latent) into Samples, one token at a time.

    `temperature` divides the decoder's logits before the softmax: < 1 sharpens the distribution
    (safer, more repetitive text), > 1 flattens it. "greedy" takes the most likely word; "beam"
    looks for the likeliest sentence (beam_search), and with a `posterior_weight` for one whose own
    code lies near z.
    <unk> stands for every rare word at once, so it is often the likeliest token of a small model;
    it is never chosen unless `allow_unk` (log-probabilities are still the model's own).
    Nor is <eos> as the first token, nor the corpus source's name (banned_ids)."""
    check_decoding(strategy, temperature, top_k, top_p, beam_width, posterior_weight)
    model = trained.model
    max_len = check_whole("max_len", trained.max_len if max_len is None else max_len, 1, MAX_DECODE_LEN)
    latent = model.config.latent_size
    if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.size(1) != latent or not 1 <= z.size(0) <= MAX_SAMPLES:
        raise InputError(f"z must be a tensor of shape (1 to {MAX_SAMPLES:,}, {latent}), "
                         f"not {tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__}")
    if not torch.isfinite(z).all():
        raise InputError("z holds NaN or infinite values")
    z = z.to(model.device)
    if strategy == "beam":
        # in chunks: the search holds a few (codes x width, vocabulary) tensors at a time, 300 MB each for
        # a walk's 1,000 codes with a beam of 5 and 15,000 words
        per_chunk = max(1, BEAM_ROWS // beam_width)
        return [s for chunk in z.split(per_chunk)
                for s in beam_search(trained, chunk, beam_width, max_len, allow_unk, posterior_weight)]
    B = z.size(0)
    state = model.initial_state(z)
    inputs = torch.full((B,), BOS_ID, dtype=torch.long, device=model.device)
    out = torch.full((B, max_len + 1), EOS_ID, dtype=torch.long, device=model.device)
    logprob = torch.zeros(B, device=model.device)
    # the rows still decoding: a sentence that has ended leaves the batch, so that a batch costs its
    # sentences' own lengths, not its longest one's times its size
    alive = torch.arange(B, device=model.device)
    banned_first = torch.tensor(banned_ids(trained, True, allow_unk), dtype=torch.long, device=model.device)
    banned = torch.tensor(banned_ids(trained, False, allow_unk), dtype=torch.long, device=model.device)
    for t in range(max_len + 1):
        logits, state = model.decoder_step(inputs, z, state)
        logits = logits.float()
        # the model's own numbers, before any ban (with the adaptive softmax the "logits" are already
        # log-probabilities, model.logits, and this changes nothing but rounding)
        log_probs = torch.log_softmax(logits, dim=-1)
        if t == max_len:  # out of room: end the sentence here
            inputs = torch.full_like(inputs, EOS_ID)
        else:
            # banned words are filled in place: these logits are this step's own, and a copy of a
            # (B, V) tensor per step costs as much as the step's small matmuls
            logits.index_fill_(1, banned_first if t == 0 else banned, -math.inf)
            inputs = pick_next(logits, strategy, temperature, top_k, top_p, generator)
        logprob[alive] += log_probs.gather(1, inputs[:, None])[:, 0]
        out[alive, t] = inputs
        going = inputs != EOS_ID
        if not going.any():
            break
        if not going.all():
            alive, inputs, z, state = alive[going], inputs[going], z[going], rows(state, going)
    samples = []
    for row, lp in zip(out[:, : t + 1].tolist(), logprob.tolist()):
        words = trained.tokenizer.tokens(row)
        samples.append(Sample(trained.tokenizer.decode(row), len(words), lp))
    return samples


def beam_search(trained: TrainedModel, z, beam_width, max_len, allow_unk, posterior_weight=0.0):
    """For each code, the likeliest sentence beam search finds: at every step keep the `beam_width`
    likeliest beginnings of all one word longer (Sutskever et al. 2014, "Sequence to Sequence Learning
    with Neural Networks", section 3.1), then take, among the ended ones, the best log-probability per
    token (without it the shortest sentences win). Greedy decoding is beam_width 1 without that choice.
    Beginnings that have ended stay in the beam as they are, and the decoder no longer runs for them.
    The bans are generate's.

    With a `posterior_weight`, the choice among the ended sentences x adds that weight times
    log q(z|x), the density of the code under each sentence's own posterior (the encoder read as the
    "channel model" of a noisy-channel reranking of an n-best list: Yee et al. 2019, "Simple and
    Effective Noisy Channel Modeling for Neural Machine Translation", section 2). The decoder alone
    prefers the sentences it has seen most, wherever the code lies; the encoder says which of them
    belongs at this code. Where the code is a typed sentence's own, that is the sentence read back, and
    both shipped models read back more of what people type with it; where it is not (samples, paths),
    it trades grammar for variety, so the cards use it for reading back only (read_back_decoding; the
    figures are in assets/training/README.md)."""
    model, B, K = trained.model, z.size(0), beam_width
    z = z.repeat_interleave(K, dim=0)  # row b * K + k: code b's k-th beginning
    state = model.initial_state(z)
    inputs = torch.full((B * K,), BOS_ID, dtype=torch.long, device=z.device)
    scores = torch.zeros(B, K, device=z.device)
    scores[:, 1:] = -math.inf  # the K beginnings start as one
    tokens = torch.empty(B, K, 0, dtype=torch.long, device=z.device)
    ended = torch.zeros(B, K, dtype=torch.bool, device=z.device)
    lengths = torch.zeros(B, K, device=z.device)  # tokens, <eos> included
    banned_first, banned = banned_ids(trained, True, allow_unk), banned_ids(trained, False, allow_unk)
    for t in range(max_len + 1):
        # only the beginnings still being written: the vocabulary projection of 50 rows was 70% of a
        # beam's time, and an ended sentence needs none (its one continuation is itself, at no cost)
        # (at the first step the K beginnings of a code are one and the same: it is decoded once)
        live = (~ended).flatten().nonzero()[:, 0] if t else torch.arange(B, device=z.device) * K
        logits, live_state = model.decoder_step(inputs[live], z[live], rows(state, live))
        log_probs = torch.full((B * K, logits.size(-1)), -math.inf, device=z.device)
        log_probs[live] = torch.log_softmax(logits.float(), dim=-1)
        log_probs = log_probs.view(B, K, -1)
        state = put_rows(state, live, live_state)
        if t == max_len:  # out of room: end every sentence here
            keep = log_probs[..., EOS_ID].clone()
            log_probs.fill_(-math.inf)
            log_probs[..., EOS_ID] = keep
        else:
            log_probs[..., banned_first if t == 0 else banned] = -math.inf
        log_probs[..., EOS_ID] = torch.where(ended, 0.0, log_probs[..., EOS_ID])
        scores, best = (scores[..., None] + log_probs).flatten(1).topk(K, dim=-1)
        parent, word = best // log_probs.size(-1), best % log_probs.size(-1)
        tokens = torch.cat([tokens.gather(1, parent[..., None].expand(-1, -1, t)), word[..., None]], dim=-1)
        was_ended = ended.gather(1, parent)
        lengths = lengths.gather(1, parent) + (~was_ended)
        ended = was_ended | (word == EOS_ID)
        state = rows(state, (torch.arange(B, device=z.device)[:, None] * K + parent).flatten())
        inputs = word.flatten()
        if ended.all():
            break
    choice = scores / lengths
    if posterior_weight and K > 1:
        # a beginning the search never had keeps its -inf score: its fit is finite
        choice = choice + posterior_weight * own_code_log_density(model, z, tokens.flatten(0, 1),
                                                                  lengths.flatten()).view(B, K)
    pick = choice.argmax(dim=1)
    samples = []
    for row, logprob in zip(tokens[torch.arange(B), pick].tolist(), scores[torch.arange(B), pick].tolist()):
        words = trained.tokenizer.tokens(row)
        samples.append(Sample(trained.tokenizer.decode(row), len(words), logprob))
    return samples


def own_code_log_density(model, z, tokens, lengths):
    """log q(z|x) of each code z (N, latent) under the posterior of its sentence x: `tokens` (N, T)
    as beam_search writes them (<eos> ends a sentence and fills the row after it), `lengths` (N,)
    its tokens with <eos>."""
    lengths = lengths.long()  # at least 1: every beginning holds a word
    tokens = tokens.masked_fill(torch.arange(tokens.size(1), device=tokens.device) >= lengths[:, None], PAD_ID)
    mu, logvar = model.encode(tokens[:, : int(lengths.max())], lengths)
    return gaussian_log_density(z.float(), mu.float(), logvar.float())


def banned_ids(trained: TrainedModel, first, allow_unk):
    """The words decoding never writes: <pad> and <bos> (a sentence's text leaves them out, so a model
    that wrote only them would write an empty sentence), <eos> as the `first` word (an empty sentence is
    never what anyone asked for), <unk> unless `allow_unk`, and the name of the corpus's source
    (LEFT_OUT in vae/tokenizer.py)."""
    return [PAD_ID, BOS_ID] + [EOS_ID] * first + [UNK_ID] * (not allow_unk) + trained.tokenizer.never_written


def put_rows(state, where, part):
    """`state` with its rows `where` set to `part` (the inverse of `rows`)."""
    if isinstance(state, tuple):
        return tuple(put_rows(whole, where, piece) for whole, piece in zip(state, part))
    state = state.clone()
    state[:, where] = part
    return state


def rows(state, keep):
    """The decoder state of the rows `keep` selects: (layers, B, H), or an LSTM's pair of them."""
    if isinstance(state, tuple):
        return tuple(part[:, keep] for part in state)
    return state[:, keep]


def pick_next(logits, strategy, temperature, top_k, top_p, generator):
    """Next token ids (B,) from logits (B, V)."""
    if strategy == "greedy" or temperature <= 0:
        return logits.argmax(dim=-1)
    if temperature != 1:
        logits = logits / temperature
    if strategy == "top-k":
        kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    elif strategy == "top-p":
        # nucleus sampling (Holtzman et al. 2020): keep the smallest set of words whose
        # probability adds up to top_p
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        probs = torch.softmax(sorted_logits, dim=-1)
        outside = probs.cumsum(-1) - probs > top_p  # the top word always stays
        sorted_logits = sorted_logits.masked_fill(outside, -math.inf)
        logits = torch.full_like(logits, -math.inf).scatter(1, order, sorted_logits)
    # Inverse-CDF sampling: one uniform number per row. torch.multinomial draws an exponential for
    # every word of the vocabulary, which made it the slowest part of a decoding step.
    cdf = torch.softmax(logits, dim=-1).cumsum(dim=-1)
    u = torch.rand(logits.size(0), 1, generator=generator, device=logits.device) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True)[:, 0].clamp_max(logits.size(-1) - 1)


def make_generator(trained: TrainedModel, seed):
    return torch.Generator(device=trained.device).manual_seed(check_whole("seed", seed, 0, MAX_SEED))


# the pages' walks


def default_sample_settings(trained: TrainedModel):
    """The Sample page's (and the CLI's) default source and decoding for this model: SAMPLE_DEFAULTS,
    with what the model's card measured best for it ("sample_defaults", e.g. a wider spread for a model
    whose samples at 0.5 repeat each other), from the prior where the model has no fitted mixture."""
    settings = dict(SAMPLE_DEFAULTS)
    own = trained.card.get("sample_defaults") if isinstance(trained.card, dict) else None
    if isinstance(own, dict):
        settings.update({k: v for k, v in own.items() if k in SAMPLE_DEFAULTS and type(v) is type(settings[k])})
    for key, fine in (("strategy", settings["strategy"] in STRATEGIES),
                      ("beam_width", 1 <= settings["beam_width"] <= MAX_BEAM_WIDTH),
                      ("posterior_weight", 0 <= settings["posterior_weight"] <= MAX_POSTERIOR_WEIGHT)):
        if not fine:  # a card's bad value would break the page's radio or slider
            settings[key] = SAMPLE_DEFAULTS[key]
    if settings["source"] == "mixture" and trained.density is None:
        settings["source"] = "prior"
    return settings


def sample_prior(trained: TrainedModel, n, seed=0, source="prior", spread=1.0, **decoding):
    """n sentences decoded from z ~ p(z) = N(0, I), or from the Gaussian mixture fitted to the
    training codes (source="mixture"; see vae/density.py). `spread` scales the noise: z = spread * eps
    from the prior, mean + spread * L eps from the mixture (below 1: a reduced temperature)."""
    if source not in SOURCES:
        raise InputError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    n = check_whole("the number of samples", n, 1, MAX_SAMPLES)
    spread = check_real("spread", spread, 0)
    generator = make_generator(trained, seed)
    if source == "mixture":
        if trained.density is None:
            raise InputError("This model has no fitted mixture of training codes; sample from the prior.")
        z = sample_density(trained.density, n, generator, trained.device, spread)
    else:
        z = spread * torch.randn(n, trained.model.config.latent_size, generator=generator, device=trained.device)
    return generate(trained, z, generator=generator, **decoding)


def sample_near(trained: TrainedModel, text, n, spread=1.0, seed=0, **decoding):
    """n sentences decoded from z = mu + spread * sigma * eps around the posterior of `text`."""
    n = check_whole("the number of samples", n, 1, MAX_SAMPLES)
    spread = check_real("spread", spread, 0)
    ids, _ = sentence_ids(trained, text)
    mu, logvar = encode_ids(trained, [ids])
    generator = make_generator(trained, seed)
    eps = torch.randn(n, mu.size(1), generator=generator, device=trained.device)
    z = mu.to(trained.device) + spread * torch.exp(0.5 * logvar.to(trained.device)) * eps
    return generate(trained, z, generator=generator, **decoding)


def code_decoding(card: dict):
    """How the app writes the sentence of one given code (paths, walks, arithmetic, offsets), as
    generate's arguments: greedy, unless the model's `card` names the decoding measured better for it
    ("code_decoding": {"strategy": "beam", "beam_width": 5}; a blind reader judged smooth's samples
    and path midpoints more often grammatical with a beam, assets/model_smooth/card.json). Arguments a
    caller passes win over it."""
    return beam_settings(card, "code_decoding") or {"strategy": "greedy"}


def read_back_decoding(card: dict):
    """How the app writes the sentence of a typed sentence's own code (reading back, and the ends of a
    path): the card's "read_back_decoding" where it has one (e.g. a beam of 5 with a posterior_weight:
    a code that is a sentence's own has that sentence among the beam's, and log q(z|x) tells which),
    else code_decoding."""
    return beam_settings(card, "read_back_decoding") or code_decoding(card)


def describe_decoding(decoding, explain=False) -> str:
    """How generate's arguments `decoding` write a code's sentence, in words for a caption or a card:
    "greedily", "with a beam of 5", "with a beam of 5 and the encoder's check"; what that means when
    `explain`."""
    if decoding.get("strategy") != "beam":
        return "greedily" + (" (the likeliest word at every step)" if explain else "")
    width = decoding.get("beam_width", BEAM_WIDTH)
    if decoding.get("posterior_weight", 0.0) > 0:
        return f"with a beam of {width} and the encoder's check" + (
            " (a beam search finds the likeliest whole sentences; of them it keeps the one that best fits the code: "
            "likely, and with its own code near it)" if explain else "")
    return f"with a beam of {width}" + (" (the likeliest whole sentence a beam search finds)" if explain else "")


def beam_settings(card, key):
    """generate's arguments for the card's beam under `key`, or None where it names none that is valid."""
    own = card.get(key) if isinstance(card, dict) else None
    if isinstance(own, dict) and own.get("strategy") == "beam":
        width, weight = own.get("beam_width", BEAM_WIDTH), own.get("posterior_weight", 0.0)
        if type(width) is int and 1 <= width <= MAX_BEAM_WIDTH:
            fine = type(weight) in (int, float) and 0 <= weight <= MAX_POSTERIOR_WEIGHT
            return {"strategy": "beam", "beam_width": width, "posterior_weight": float(weight) if fine else 0.0}
    return None


def decode_codes(trained: TrainedModel, z, **decoding):
    """The Samples of codes z (N, latent), any N, written as the app writes the sentence of a given code:
    the model's code_decoding, unless the caller's arguments say otherwise."""
    decoding = {**code_decoding(trained.card), **decoding}
    # generate takes at most MAX_SAMPLES codes at once; a walk of 32 dimensions of 100 steps is 3,200
    return [s for chunk in z.split(MAX_SAMPLES) for s in generate(trained, chunk, **decoding)]


def reconstruct(trained: TrainedModel, texts, **decoding):
    """Decode each sentence's posterior mean (read_back_decoding unless told otherwise)."""
    texts = check_texts(texts)
    if not texts:
        raise InputError("there are no sentences to reconstruct")
    return read_back(trained, encode_texts(trained, texts), **decoding)


def read_back(trained: TrainedModel, mu, **decoding):
    """The Samples of posterior means mu (N, latent), written as the app reads a sentence back."""
    return decode_codes(trained, mu, **{**read_back_decoding(trained.card), **decoding})


def lerp(z_a, z_b, t):
    return (1 - t) * z_a + t * z_b


def slerp(z_a, z_b, t):
    """Spherical interpolation (Shoemake 1985; White 2016 for latent spaces): follows the arc
    between the two codes, so the path does not cut through the low-density middle of N(0, I)."""
    cos = torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-4:  # nearly parallel: the arc is a straight line
        return lerp(z_a, z_b, t)
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def interpolation_path(z_a, z_b, steps, method="linear"):
    """`steps` codes (steps, latent) from z_a to z_b, both included."""
    check_choice("method", method, METHODS)
    steps = check_whole("steps", steps, 2, MAX_STEPS)
    mix = slerp if method == "spherical" else lerp
    return torch.stack([mix(z_a, z_b, t) for t in torch.linspace(0, 1, steps).tolist()])


def interpolate(trained: TrainedModel, text_a, text_b, steps=8, method="linear", **decoding):
    """The sentences along the path between two sentences' posterior means (code_decoding unless told
    otherwise; its two ends are the sentences read back, read_back_decoding)."""
    check_choice("method", method, METHODS)
    steps = check_whole("steps", steps, 2, MAX_STEPS)
    ids_a, _ = sentence_ids(trained, text_a)
    ids_b, _ = sentence_ids(trained, text_b)
    mu, _ = encode_ids(trained, [ids_a, ids_b])
    path = interpolation_path(mu[0], mu[1], steps, method)
    ends = read_back(trained, mu, **decoding)  # mu itself: a spherical path's ends differ in the last bits
    return [ends[0], *(decode_codes(trained, path[1:-1], **decoding) if steps > 2 else []), ends[1]]


TRAVERSE_SPAN = 3.0  # a walk along a dimension goes from -3 to +3 prior standard deviations


def traversal_offsets(steps=7):
    """`steps` evenly spaced values of t from -TRAVERSE_SPAN to +TRAVERSE_SPAN, both included."""
    steps = check_whole("steps", steps, 2, MAX_STEPS)
    return torch.linspace(-TRAVERSE_SPAN, TRAVERSE_SPAN, steps).tolist()


def traverse(trained: TrainedModel, text, dims, steps=7, **decoding):
    """Walk latent dimensions one at a time from a sentence: for each dimension i in `dims`, decode
    z = mu + t * e_i for the `steps` values of t in traversal_offsets(steps), mu being the sentence's
    posterior mean and e_i the unit vector of dimension i. Every other coordinate stays at mu.

    t is in units of the prior's standard deviation (1 in every dimension), so +-3 spans 99.7% of
    what p(z) puts along that axis. Not the posterior's sigma_i: in a dimension the model uses it is
    small (that is what a large KL means), and +-3 sigma_i would hardly leave the sentence.
    code_decoding unless told otherwise. Returns one row of `steps` Samples per dimension, in `dims` order."""
    latent = trained.model.config.latent_size
    if isinstance(dims, (str, bytes)) or not hasattr(dims, "__iter__"):
        raise InputError(f"dims must be a list of dimensions, not {type(dims).__name__}")
    dims = [check_whole("dimension", dim, 0, latent - 1) for dim in dims]
    if not dims:
        raise InputError("name at least one dimension to walk")
    if len(set(dims)) < len(dims):
        raise InputError(f"each dimension may be walked once: {dims} repeats one")
    offsets = torch.tensor(traversal_offsets(steps))
    ids, _ = sentence_ids(trained, text)
    mu, _ = encode_ids(trained, [ids])
    z = mu.repeat(len(dims), len(offsets), 1)  # (dims, steps, latent)
    for row, dim in enumerate(dims):
        z[row, :, dim] += offsets
    samples = decode_codes(trained, z.flatten(0, 1), **decoding)
    return [samples[row * len(offsets):(row + 1) * len(offsets)] for row in range(len(dims))]


def walk_origin(trained: TrainedModel, text) -> str:
    """What the sentence's posterior mean decodes to as a walk's steps are decoded (code_decoding): what
    each step is compared with. It can differ from the sentence read back (read_back_decoding)."""
    ids, _ = sentence_ids(trained, text)
    return decode_codes(trained, encode_ids(trained, [ids])[0])[0].text


def dimensions_by_change(trained: TrainedModel, text, steps=5):
    """[(dimension, words changed)] for every latent dimension, the one whose walk changes the sentence
    most first: the words of each step's sentence that differ from what mu itself decodes to
    (vae.word_diff), summed over the walk. Unlike the KL of a dimension, this separates dimensions
    even when free bits give them all the same KL, and it is about this sentence."""
    from .word_diff import changed_words

    # decoded as the walks on the page are (code_decoding), mu too: ranked by greedy sentences, only 4-6 of
    # the ten dimensions that changed smooth's beam-searched sentences most were among the top ten. It costs
    # more (64 dimensions: 0.8 s greedy, 3.5 s with a beam of 5, one thread); the page keeps the result.
    reference = walk_origin(trained, text)
    walks = traverse(trained, text, range(trained.model.config.latent_size), steps)
    changes = [sum(changed for row in walk for _, changed in changed_words(reference, row.text)) for walk in walks]
    return sorted(enumerate(changes), key=lambda pair: (-pair[1], pair[0]))


def arithmetic(trained: TrainedModel, text_a, text_b, text_c, **decoding):
    """"a is to b as c is to ?": decode z_c + (z_b - z_a) from the three posterior means (the
    analogy of word vectors, as Optimus (Li et al. 2020) and denoising text autoencoders (Shen et al.
    2020) show it for sentences). code_decoding unless told otherwise."""
    ids = [sentence_ids(trained, text)[0] for text in (text_a, text_b, text_c)]
    mu, _ = encode_ids(trained, ids)
    return decode_codes(trained, (mu[2] + mu[1] - mu[0])[None], **decoding)[0]


def reads_back(trained: TrainedModel, typed, decoded):
    """Whether `decoded` is `typed` as the model reads it: the same words, once both are tokenized
    (case, spacing and words beyond max_len do not count)."""
    tokens = trained.tokenizer.tokens(trained.tokenizer.encode(typed, trained.max_len))
    return tokens == trained.tokenizer.tokens(trained.tokenizer.encode(decoded))
