"""A sentence VAE in the style of Bowman et al. 2016, "Generating Sentences from a Continuous Space".

    tokens -> embedding -> (bi)RNN encoder -> mu, logvar -> z = mu + sigma * eps
    z -> initial decoder state, and z concatenated to every decoder input -> RNN -> logits

A batch is `tokens` (B, T): the words of each sentence followed by <eos>, right-padded with <pad>,
and `lengths` (B,): words + 1. The encoder reads `tokens`; the decoder reads <bos> + tokens[:-1]
and predicts `tokens` (teacher forcing).
"""

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from .tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, WordTokenizer


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 (or AMX): bf16 dot products in hardware, so bf16 matmuls pay on this CPU."""
    return torch.cpu._is_avx512_bf16_supported()


# Encoding's recurrent matmul (two thirds of its time) in bf16 where the CPU has native bf16 dot
# products (AVX512-BF16 or AMX): the matmul runs 2.2x faster, encoding 7,900 -> 10,700 sentences/s on
# one thread of an AMD EPYC, and of 1,500 held-out sentences one read back differently (posterior
# means moved by at most 0.003, their spread is 0.7). The state and the gates stay fp32; elsewhere, fp32.
ENCODE_IN_BF16 = cpu_has_native_bf16()


@dataclass
class ModelConfig:
    vocab_size: int
    embed_size: int = 256
    hidden_size: int = 256
    latent_size: int = 32
    num_layers: int = 1
    dropout: float = 0.0  # on embeddings and decoder outputs (word dropout is in the objective)
    rnn_type: str = "gru"  # "gru" or "lstm"
    bidirectional: bool = True  # encoder only; the decoder is autoregressive
    autoencoder: bool = False  # deterministic AE: z = mu, no KL term
    language_model: bool = False  # baseline: the decoder alone, z is all zeros and unused
    bag_of_words: bool = False  # a z -> vocabulary head for the bag-of-words loss (Zhao et al. 2017)
    # the decoder's output layer: "tied" (a full softmax over the embedding matrix, Press & Wolf 2017)
    # or "adaptive" (Grave et al. 2017's adaptive softmax, see ADAPTIVE_CUTOFFS). A config.json saved
    # before this field existed has no such key, so an old checkpoint loads with the default, "tied".
    output_layer: str = "tied"
    # the adaptive softmax's cluster boundaries (word ids, increasing, each below vocab_size). None for
    # the tied layer; for the adaptive one None means default_cutoffs(vocab_size), resolved here so
    # that config.json records the cutoffs a model was built with, whatever later defaults become.
    adaptive_cutoffs: list[int] | None = None
    adaptive_div_value: float = 4.0  # each tail cluster's projection is this many times narrower than the last

    def __post_init__(self):
        if self.output_layer not in OUTPUT_LAYERS:
            raise ValueError(f"output_layer must be one of {', '.join(OUTPUT_LAYERS)}, not {self.output_layer!r}")
        if self.output_layer == "adaptive":
            cutoffs = default_cutoffs(self.vocab_size) if self.adaptive_cutoffs is None else self.adaptive_cutoffs
            self.adaptive_cutoffs = [int(c) for c in cutoffs]  # a list, as config.json gives it back


OUTPUT_LAYERS = ("tied", "adaptive")

# The adaptive softmax's default clusters (Grave et al. 2017, "Efficient softmax approximation for GPUs",
# section 4): a head of the most frequent words plus one entry per tail cluster, computed for every
# token; the tails only for the tokens that fall in them, through projections div_value (4) and
# div_value^2 (16) times narrower than the hidden state. Word ids are ordered by frequency (the
# WordLevel trainer puts the specials first, then the words by count), so a cutoff is a rank.
# Measured on the Tatoeba training split (assets/corpora/train.txt.gz, 465,869 sentences, 4,033,369
# target tokens with <eos>) with the shipped 15,000-word tokenizer, the share of target tokens the
# first N ids cover: 500: 84.2%, 1,000: 90.0%, 1,500: 92.6%, 2,000: 94.3%, 3,000: 96.1%, 4,000: 97.2%,
# 6,000: 98.4%, 8,000: 99.1%, 10,000: 99.5%. With [2000, 6000] the head predicts 94.3% of the tokens
# alone, the first tail (ids 2,000-5,999) 4.2% and the second (6,000 and up) 1.6%: the rare words, the
# ones a narrow projection serves least well, are few. The output layer's forward and backward for 704
# targets (64 sentences of 10 words) at the shipped size (hidden 384, 15,000 words), one thread on a
# 2-core AMD EPYC with a training job on the other core: [1000, 4000] 25 ms, [2000, 6000] 47 ms,
# [2000, 8000] 59 ms, [4000, 10000] 111 ms; the tied full softmax 344 ms. [1000, 4000] is cheaper still
# but sends 10% of the tokens through the narrow tails: which NLL each gives is to be measured by
# training runs. A cutoff at or above the vocabulary is dropped (a 5,000-word vocabulary gets [2000]).
ADAPTIVE_CUTOFFS = (2000, 6000)


def output_layer_for(vocab_size):
    """"auto"'s choice of output layer for a vocabulary of `vocab_size` words: the adaptive softmax where
    it has tails to gain from (more words than its head), else the tied full softmax. At the reference
    configuration it trained to a lower NLL after equal training time on both corpora measured (2,000
    steps, bench/README.md: Tatoeba 44.68 against 46.44 nats, PTB 124.78 against 131.09)."""
    return "adaptive" if vocab_size > ADAPTIVE_CUTOFFS[0] else "tied"


def default_cutoffs(vocab_size):
    """The default cutoffs for a vocabulary of `vocab_size` words: ADAPTIVE_CUTOFFS below it. A
    vocabulary no larger than the head has nothing to gain from the adaptive softmax: ValueError."""
    cutoffs = [c for c in ADAPTIVE_CUTOFFS if c < vocab_size]
    if not cutoffs:
        raise ValueError(f"a vocabulary of {vocab_size:,} words is too small for the adaptive softmax, whose "
                         f"head alone holds {ADAPTIVE_CUTOFFS[0]:,} words: use the tied output layer, or give "
                         "cutoffs below the vocabulary size")
    return cutoffs


class SentenceVAE(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.rnn_type not in ("gru", "lstm"):
            raise ValueError(f"rnn_type must be 'gru' or 'lstm', not {config.rnn_type!r}")
        self.config = config
        rnn = nn.GRU if config.rnn_type == "gru" else nn.LSTM
        dirs = 2 if config.bidirectional else 1

        self.embedding = nn.Embedding(config.vocab_size, config.embed_size, padding_idx=PAD_ID)
        self.encoder = rnn(config.embed_size, config.hidden_size, config.num_layers,
                           batch_first=True, bidirectional=config.bidirectional)
        self.to_mu_logvar = nn.Linear(dirs * config.hidden_size, 2 * config.latent_size)

        self.latent_to_state = nn.Linear(config.latent_size, config.num_layers * config.hidden_size)
        self.decoder = rnn(config.embed_size + config.latent_size, config.hidden_size,
                           config.num_layers, batch_first=True)
        if config.output_layer == "tied":
            # Output layer tied to the input embedding (Press & Wolf 2017): hidden -> embed space, then
            # a dot product with every word vector. It halves the parameters (the file ships in the
            # repo) and usually helps small models.
            self.to_embed = nn.Linear(config.hidden_size, config.embed_size)
            self.out_bias = nn.Parameter(torch.zeros(config.vocab_size))
            self.adaptive = None
        else:
            # Adaptive softmax (Grave et al. 2017, "Efficient softmax approximation for GPUs"): a full
            # softmax over the head (the frequent words and one entry per tail cluster), and each tail's
            # softmax only for the tokens in it (reconstruction_nll). Untied, the standard form: the
            # head's word rows could share the embedding's (through a hidden -> embed projection, as
            # the tied layer does), which saves parameters and may help or hurt the NLL; to be measured
            # by training runs before it is tried.
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(config.hidden_size, config.vocab_size,
                                                          config.adaptive_cutoffs, config.adaptive_div_value,
                                                          head_bias=True)
        # Zhao et al. 2017, section 3.3: predicting the sentence's words from z alone, in no order,
        # makes z hold the content words. Used only in training; decoding never reads it.
        self.bag_of_words = nn.Linear(config.latent_size, config.vocab_size) if config.bag_of_words else None

    # q(z|x)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator):
        """Draw every weight from `generator`, with PyTorch's own default initialisations: word
        vectors N(0, 1) with a zero <pad> row; recurrent layers U(-1/sqrt(H), 1/sqrt(H)); linear
        layers U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias (what kaiming_uniform_ with
        a = sqrt(5) gives); the output bias zeros. The layers' own initialisers draw from torch's
        global generator, which other threads share, so a seeded model is initialised here."""
        nn.init.normal_(self.embedding.weight, generator=generator)
        self.embedding.weight[PAD_ID].zero_()
        for rnn in (self.encoder, self.decoder):
            bound = 1 / math.sqrt(rnn.hidden_size)
            for weight in rnn.parameters():
                nn.init.uniform_(weight, -bound, bound, generator=generator)
        linears = [self.to_mu_logvar, self.latent_to_state]
        if self.adaptive is None:
            linears.append(self.to_embed)
            self.out_bias.zero_()
        else:  # the head and each tail's two projections (the tails' have no bias)
            linears += [self.adaptive.head] + [linear for tail in self.adaptive.tail for linear in tail]
        if self.bag_of_words is not None:
            linears.append(self.bag_of_words)
        for linear in linears:
            bound = 1 / math.sqrt(linear.in_features)
            nn.init.uniform_(linear.weight, -bound, bound, generator=generator)
            if linear.bias is not None:
                nn.init.uniform_(linear.bias, -bound, bound, generator=generator)

    def dropout(self, x, generator=None):
        """Dropout (Srivastava et al. 2014) with its mask drawn from `generator`, so that a training
        run's noise is its own: two runs in two threads never draw from each other's stream (and
        torch's global generator is left to everyone else). Identity in eval mode."""
        p = self.config.dropout
        if not self.training or p == 0:
            return x
        keep = torch.empty_like(x).bernoulli_(1 - p, generator=generator)
        return x * keep / (1 - p)

    def encode(self, tokens, lengths, generator=None):
        """(B, T) tokens -> mu, logvar, each (B, latent)."""
        if self._fast_inference():
            h_last = self._encode_fast(tokens, lengths)
        else:
            emb = self.dropout(self.embedding(tokens), generator)
            if self.config.bidirectional:
                packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
                _, state = self.encoder(packed)
                h = state[0] if self.config.rnn_type == "lstm" else state  # (layers * 2, B, H)
                h_last = h[-2:].transpose(0, 1).reshape(tokens.size(0), -1)  # top layer, both directions
            else:
                # A forward-only encoder's output at a sentence's last word never sees the padding after
                # it, so it runs over the padded batch: nn.GRU then projects every step's input in one
                # matmul, where a packed batch does it step by step (1.12x the training tokens/s at the
                # reference configuration, bench/README.md).
                out, _ = self.encoder(emb)
                h_last = out[torch.arange(tokens.size(0), device=out.device), lengths.to(out.device) - 1]
        mu, logvar = self.to_mu_logvar(h_last).chunk(2, dim=-1)
        if self.config.language_model:
            mu, logvar = torch.zeros_like(mu), torch.zeros_like(logvar)
        return mu, logvar

    def reparameterize(self, mu, logvar, deterministic=False, generator=None):
        """z = mu + sigma * eps, eps ~ N(0, I): a sample that gradients can flow through
        (Kingma & Welling 2014, section 2.4). The AE and the LM use no noise."""
        if deterministic or self.config.autoencoder or self.config.language_model:
            return mu
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + eps * torch.exp(0.5 * logvar)

    # p(x|z)

    def initial_state(self, z):
        """The decoder's first hidden state, from z: (layers, B, H) (a pair of them for an LSTM)."""
        B = z.size(0)
        h = torch.tanh(self.latent_to_state(z)).view(B, self.config.num_layers, -1)
        h = h.transpose(0, 1).contiguous()
        return (h, torch.zeros_like(h)) if self.config.rnn_type == "lstm" else h

    def decoder_outputs(self, inputs, z, state, generator=None):
        """Run the decoder over input ids (B, T) given z (B, latent); returns hidden (B, T, H)."""
        emb = self.dropout(self.embedding(inputs), generator)
        z_seq = z.unsqueeze(1).expand(-1, inputs.size(1), -1)
        out, state = self.decoder(torch.cat([emb, z_seq], dim=-1), state)
        return self.dropout(out, generator), state

    def logits(self, hidden):
        """Hidden states (..., H) -> logits over the vocabulary (..., V): what every caller that needs the
        whole distribution uses (decoder_step, so generate and pick_next; the fast path too).

        With the adaptive softmax these are the exact log-probabilities of every word (each tail word's
        is its cluster's head entry plus its log-probability within the cluster), already normalised.
        Log-probabilities serve as logits: softmax(log p) = p, and a row's softmax is unchanged by a
        constant, so log_softmax, temperature (p^(1/T), renormalised), top-k, top-p and argmax all
        give what they give with the unnormalised logits of the same distribution."""
        if self.adaptive is None:
            return F.linear(self.to_embed(hidden), self.embedding.weight, self.out_bias)
        return self.adaptive_log_prob(hidden)

    def adaptive_log_prob(self, hidden):
        """log p(w | hidden) for every word, (..., V), from the adaptive softmax's head and tails.

        nn.AdaptiveLogSoftmaxWithLoss.log_prob computes the same, but its log_softmax runs in bf16 under
        the CPU's autocast; here the softmaxes are taken in fp32 (as F.cross_entropy is under autocast)."""
        asm, shortlist = self.adaptive, self.adaptive.shortlist_size
        head = torch.log_softmax(asm.head(hidden).float(), dim=-1)
        parts = [head[..., :shortlist]]
        for i, tail in enumerate(asm.tail):
            parts.append(torch.log_softmax(tail(hidden).float(), dim=-1) + head[..., shortlist + i, None])
        return torch.cat(parts, dim=-1)

    def adaptive_nll(self, hidden, targets):
        """-log p(target | hidden) per row, (N,), from (N, H) and (N,): the head for every row, each tail
        only for the rows whose target is in it (Grave et al. 2017). What
        nn.AdaptiveLogSoftmaxWithLoss.forward computes, but in fp32 under bf16 autocast (its forward
        mixes the dtypes there and fails), and per row rather than only as a mean."""
        asm, shortlist = self.adaptive, self.adaptive.shortlist_size
        bounds = torch.tensor(asm.cutoffs[:-1], device=targets.device)
        cluster = torch.bucketize(targets, bounds, right=True)  # 0 in the head, i in the i-th tail
        head_targets = torch.where(cluster == 0, targets, shortlist + cluster - 1)
        nll = F.cross_entropy(asm.head(hidden).float(), head_targets, reduction="none")
        for i, low in enumerate(asm.cutoffs[:-1]):  # tail i holds the words from cutoffs[i] up to the next
            rows = (cluster == i + 1).nonzero()[:, 0]
            if len(rows):
                inside = F.cross_entropy(asm.tail[i](hidden[rows]).float(), targets[rows] - low, reduction="none")
                nll = nll.index_add(0, rows, inside)
        return nll

    def decoder_step(self, input_ids, z, state):
        """One decoding step: (B,) ids -> (B, V) logits (log-probabilities with the adaptive softmax,
        see `logits`) and the next state."""
        if self._fast_inference():
            return self._decoder_step_fast(input_ids, z, state)
        out, state = self.decoder_outputs(input_ids.unsqueeze(1), z, state)
        return self.logits(out[:, 0]), state

    def reconstruction_nll(self, tokens, lengths, z, word_dropout=0.0, generator=None):
        """-log p(x|z) per sentence, (B,), summed over words and <eos>.

        The vocabulary projection -- the most expensive matmul -- runs only on real positions,
        never on padding."""
        B, T = tokens.shape
        bos = torch.full((B, 1), BOS_ID, dtype=tokens.dtype, device=tokens.device)
        inputs = torch.cat([bos, tokens[:, :-1]], dim=1)
        if word_dropout > 0:
            # Bowman et al. 2016, section 3.1: hide some of the previous words from the decoder
            # (replace them with <unk>) so that it has to rely on z.
            drop = torch.rand(inputs.shape, generator=generator, device=inputs.device) < word_dropout
            drop[:, 0] = False
            inputs = inputs.masked_fill(drop & (inputs != PAD_ID), UNK_ID)
        hidden, _ = self.decoder_outputs(inputs, z, self.initial_state(z), generator)
        mask = tokens != PAD_ID
        if self.adaptive is None:
            nll_real = F.cross_entropy(self.logits(hidden[mask]), tokens[mask], reduction="none")
        else:  # exact too: the same numbers as self.logits(hidden[mask]) gathered at the targets
            nll_real = self.adaptive_nll(hidden[mask], tokens[mask])
        nll = torch.zeros(B, T, dtype=nll_real.dtype, device=tokens.device)
        nll[mask] = nll_real
        return nll.sum(dim=1)

    def bag_of_words_nll(self, tokens, z):
        """-sum_w log softmax(W z)[w] over the sentence's words, (B,) (Zhao et al. 2017, eq. 5)."""
        log_probs = torch.log_softmax(self.bag_of_words(z).float(), dim=-1)  # (B, V)
        words = (tokens != PAD_ID) & (tokens != EOS_ID)
        return -(log_probs.gather(1, tokens) * words).sum(dim=1)

    def forward(self, tokens, lengths, word_dropout=0.0, deterministic=False, generator=None, encoder_input=None):
        """Everything the objective needs: per-sentence recon NLL (B,), per-dimension KL (B, latent),
        and the bag-of-words NLL (B,) when the model has that head. `deterministic` uses z = mu (the
        autoencoder pre-training of Li et al. 2019). `encoder_input`: (tokens, lengths) the encoder
        reads instead of the sentence itself (a noisy copy, objective.delete_words); the decoder
        still reconstructs `tokens`. Every random draw (dropout, word dropout, the noise of z) comes
        from `generator` (default: torch's global one)."""
        mu, logvar = self.encode(*(encoder_input or (tokens, lengths)), generator)
        z = self.reparameterize(mu, logvar, deterministic, generator)
        recon = self.reconstruction_nll(tokens, lengths, z, word_dropout, generator)
        if self.config.autoencoder or self.config.language_model:
            kl = torch.zeros_like(mu)
        else:
            kl = gaussian_kl(mu.float(), logvar.float())
        out = {"recon": recon, "kl": kl, "mu": mu, "logvar": logvar, "z": z}
        if self.bag_of_words is not None:
            out["bag_of_words"] = self.bag_of_words_nll(tokens, z)
        return out

    # fast inference: the same functions as above, for a GRU of one layer in eval mode without
    # gradients (decoding and encoding in the app). Same weights, same fp32 arithmetic, up to rounding.

    def _fast_inference(self):
        c = self.config
        return not self.training and not torch.is_grad_enabled() and c.rnn_type == "gru" and c.num_layers == 1

    def _tables(self):
        """What inference reuses across calls, rebuilt whenever a weight changes (an optimiser step or
        a load bumps the tensor's version):
          word_gates (dirs * V, 3H): the encoder's input-to-hidden projection of every word, plus the
              hidden biases of the r and z gates (b_hn stays apart: it is multiplied by r); the
              backward direction's rows follow the forward's. A sentence's input projection is then
              a row lookup instead of a matmul.
          w_hh (dirs, 3H, H), b_hn (dirs, 1, H): the encoder's recurrent weights, stacked so that
              both directions step in one batched matmul (w_hh_t_bf16: transposed, in bf16, added by
              the first encoding that uses it, see ENCODE_IN_BF16).
          output_t (E, V): the output matrix transposed; (B, E) @ (E, V) runs ~2.7x faster at batch
              10 than the product with the (V, E) weight transposed (one thread, this CPU). The tied
              layer only: the adaptive softmax's decoding step goes through `logits`."""
        enc, H = self.encoder, self.config.hidden_size
        suffixes = ["_l0"] + (["_l0_reverse"] if self.config.bidirectional else [])
        sources = [self.embedding.weight] + [getattr(enc, name + sfx) for sfx in suffixes
                                             for name in ("weight_ih", "bias_ih", "weight_hh", "bias_hh")]
        key = tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in sources)
        cached = self.__dict__.get("_inference_tables")
        if cached is None or cached[0] != key:
            words = self.embedding.weight
            gates, w_hh, b_hn = [], [], []
            for sfx in suffixes:
                b_hh = getattr(enc, "bias_hh" + sfx)
                bias = getattr(enc, "bias_ih" + sfx) + torch.cat([b_hh[: 2 * H], torch.zeros_like(b_hh[2 * H:])])
                gates.append(F.linear(words, getattr(enc, "weight_ih" + sfx), bias))  # (V, 3H)
                w_hh.append(getattr(enc, "weight_hh" + sfx))
                b_hn.append(b_hh[2 * H:])
            b_h = torch.stack(b_hn)[:, None]
            cached = (key, {"word_gates": torch.cat(gates), "w_hh": torch.stack(w_hh),
                            "b_h": torch.cat([torch.zeros_like(b_h), torch.zeros_like(b_h), b_h], -1),
                            "output_t": words.t().contiguous() if self.adaptive is None else None})
            self.__dict__["_inference_tables"] = cached  # not a buffer: never saved, never copied to a device
        return cached[1]

    def _encode_fast(self, tokens, lengths):
        """The encoder's last hidden states (B, dirs * H), like nn.GRU over a packed batch.

        Rows are sorted longest first, so at step t the sentences still being read are a prefix of the
        batch (as in a packed sequence). The backward direction reads each sentence reversed within
        its own length, so both directions step together: one batched matmul per step. Each step
        looks up its own input rows: a (T, B, 3H) tensor of them all is tens of MB, and allocating
        that much memory costs more here than the lookups."""
        H, V = self.config.hidden_size, self.config.vocab_size
        tables = self._tables()
        lengths = lengths.to(tokens.device)
        order = torch.argsort(lengths, descending=True)
        tokens, lengths = tokens[order], lengths[order]
        B, T = tokens.shape
        steps = torch.arange(T, device=tokens.device)
        ids = tokens.t()[:, None]  # (T, dirs, B)
        if self.config.bidirectional:
            reverse = tokens.gather(1, (lengths[:, None] - 1 - steps).clamp_min(0))  # each sentence backwards
            ids = torch.stack([tokens.t(), reverse.t() + V], 1)
        w_hh_t, b_h = tables["w_hh"].transpose(1, 2), tables["b_h"]
        in_bf16 = ENCODE_IN_BF16 and tokens.device.type == "cpu"
        if in_bf16:
            w_hh_t = tables.setdefault("w_hh_t_bf16", w_hh_t.bfloat16())
        h = torch.zeros(ids.size(1), B, H, device=tokens.device)
        active = (lengths[None, :] > steps[:, None]).sum(1).tolist()  # sentences still going, per step
        for t, n in enumerate(active):
            if n == 0:
                break
            h_prev = h[:, :n]
            gates_x = F.embedding(ids[t, :, :n], tables["word_gates"])  # (dirs, n, 3H)
            # h starts at zero, so the first step's recurrent term is its bias alone: one matmul fewer
            # of the dozen or so a batch takes, and the same numbers
            if t == 0:
                gates_h = b_h.expand(-1, n, -1)
            elif in_bf16:
                gates_h = torch.bmm(h_prev.bfloat16(), w_hh_t).float().add_(b_h)
            else:
                gates_h = torch.baddbmm(b_h, h_prev, w_hh_t)
            h[:, :n] = gru_cell(gates_x, gates_h, h_prev)
        h_last = torch.empty_like(h)
        h_last[:, order] = h
        return h_last.transpose(0, 1).reshape(B, -1)

    def _decoder_step_fast(self, input_ids, z, state):
        dec = self.decoder
        h = state[0]  # (B, H): one layer
        gates_x = F.linear(torch.cat([self.embedding(input_ids), z], dim=-1), dec.weight_ih_l0, dec.bias_ih_l0)
        h = gru_cell(gates_x, F.linear(h, dec.weight_hh_l0, dec.bias_hh_l0), h)
        if self.adaptive is not None:
            return self.logits(h), h[None]
        logits = torch.addmm(self.out_bias, self.to_embed(h), self._tables()["output_t"])
        return logits, h[None]

    @property
    def device(self):
        return self.embedding.weight.device

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())


def gru_cell(gates_x, gates_h, h):
    """One GRU step, as nn.GRU computes it (Cho et al. 2014), from the two projections (..., 3H):
    r, u = sigmoid(x_r + h_r), sigmoid(x_z + h_z); n = tanh(x_n + r * h_n); h' = (1 - u) n + u h."""
    H = h.size(-1)
    r, u = (gates_x[..., : 2 * H] + gates_h[..., : 2 * H]).sigmoid_().chunk(2, dim=-1)
    n = torch.addcmul(gates_x[..., 2 * H:], r, gates_h[..., 2 * H:]).tanh_()
    return torch.lerp(n, h, u)


def gaussian_kl(mu, logvar):
    """KL(N(mu, sigma^2) || N(0, I)) per dimension, (B, latent).
    Kingma & Welling 2014, appendix B: -1/2 * (1 + log sigma^2 - mu^2 - sigma^2)."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def gaussian_log_density(z, mu, logvar):
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)


@dataclass
class TrainedModel:
    """What every page, command and test works with: the network, its vocabulary, its card."""

    model: SentenceVAE
    tokenizer: WordTokenizer
    max_len: int = 30  # longest sentence, in words, that is encoded or generated
    card: dict = field(default_factory=dict)
    density: dict | None = None  # tensors of a Gaussian mixture over training codes, if one was fitted

    @property
    def device(self):
        return self.model.device


class DeviceError(ValueError):
    """A device this machine does not have, or a name that is not a device."""


def pick_device(device=None):
    """The given device, else CUDA, then Apple's MPS, then the CPU. Raises DeviceError for a
    device this machine does not have."""
    if device is not None:
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError):
            raise DeviceError(f"{device!r} is not a device: use cpu, cuda or mps") from None
        has = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
        if not has.get(device.type, False):
            raise DeviceError(f"this machine has no {device.type} device to load the model onto")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
