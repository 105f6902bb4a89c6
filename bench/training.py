"""Trainer throughput in non-pad tokens/s, the FLOPs behind each token, and the share of the matmul
ceiling that this adds up to.

Two configurations, both on the same fixed slice of the shipped corpus:
  shipped: the shipped model's own architecture, vocabulary, batch size and objective (from its card);
  ptb:     the sentence-VAE literature's small setting (GRU, embedding 256, hidden 256, latent 32,
           batch 32, vocabulary 10k), the one the issue's reference implementation was measured on;
           with the tied full softmax, and with the adaptive softmax (the output-layer speed-up).
"""

import statistics

from vae.checkpoint import load_model
from vae.model import ModelConfig
from vae.objective import ObjectiveConfig
from vae.train import TrainConfig, Trainer, autocast_dtype, new_model

PTB_MODEL = dict(embed_size=256, hidden_size=256, latent_size=32, rnn_type="gru")
PTB_BATCH, PTB_VOCAB, PTB_MAX_LEN = 32, 10_000, 30


# helpers


def rnn_flops(input_size, hidden_size, gates, num_layers=1, dirs=1):
    """Forward FLOPs per token of a stacked (bi)RNN: each gate is W_x x + W_h h, i.e.
    2 * (input + hidden) * hidden FLOPs (a multiply and an add per weight); the element-wise gate
    arithmetic is O(hidden) and left out. Layers above the first read the layer below (dirs * hidden)."""
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else dirs * hidden_size
        total += dirs * gates * 2 * (layer_input + hidden_size) * hidden_size
    return total


def flops_per_token(config: ModelConfig, tail_shares=None):
    """Training FLOPs per real (non-pad) token: forward FLOPs of the encoder RNN (both directions),
    the decoder RNN (input = embedding + z) and the output projection (hidden -> embedding, then the
    tied embedding -> vocabulary), times 3 for forward + backward (the backward pass costs about
    twice the forward: one matmul for the input gradient, one for the weight gradient).
    Per-sentence work (mu/logvar, z -> initial state) is left out: it is not per token.

    With the adaptive softmax the output is its head (hidden -> shortlist + one entry per cluster) for
    every token, plus each tail cluster's two projections (hidden -> hidden / div^(i+1) -> its words)
    for the share of tokens in it: `tail_shares`, one per cluster (default: none, the head alone)."""
    gates = 3 if config.rnn_type == "gru" else 4
    dirs = 2 if config.bidirectional else 1
    E, H = config.embed_size, config.hidden_size
    encoder = rnn_flops(E, H, gates, config.num_layers, dirs)
    decoder = rnn_flops(E + config.latent_size, H, gates, config.num_layers)
    if config.output_layer == "adaptive":
        cutoffs = config.adaptive_cutoffs + [config.vocab_size]
        output = 2 * H * (cutoffs[0] + len(cutoffs) - 1)
        for i, share in enumerate(tail_shares or [0.0] * (len(cutoffs) - 1)):
            width = int(H // config.adaptive_div_value ** (i + 1))  # as nn.AdaptiveLogSoftmaxWithLoss sizes it
            output += share * 2 * (H * width + width * (cutoffs[i + 1] - cutoffs[i]))
    else:
        output = 2 * H * E + 2 * E * config.vocab_size
    forward = encoder + decoder + output
    return {"encoder": encoder, "decoder": decoder, "output": output, "forward": forward, "train": 3 * forward}


def throughput(trained, texts, batch_size, objective: ObjectiveConfig, ceiling_gflops, window=30, windows=5,
               precision="auto", bf16_ceiling_gflops=None, warmup_windows=3):
    """Train `trained` for (warmup_windows + windows) * window steps; the trainer's own tokens/s
    (non-pad tokens, <eos> included) is read once per window; the first `warmup_windows` are
    warm-up, the rest give the median.
    The warm-up is long because oneDNN builds its bf16 kernels once per matrix shape, and every
    sentence length makes new shapes: over the first hundred or so steps bf16 ran slower than fp32
    here, and faster once most lengths had been seen.
    Efficiency is against the fp32 ceiling, and against the bf16 one when it is given."""
    config = TrainConfig(steps=window * (warmup_windows + windows), batch_size=batch_size, log_every=window,
                         precision=precision)
    trainer = Trainer(trained, texts, objective, config)
    reports = []
    trainer.add_callback(reports.append)
    trainer.run()
    rates = [m["tokens_per_s"] for m in reports[warmup_windows:]]
    tokens_per_s = statistics.median(rates)
    model_config = trained.model.config
    flops = flops_per_token(model_config, tail_shares(model_config, trainer.train_ids))
    achieved = tokens_per_s * flops["train"] / 1e9
    return {
        "tokens_per_s": tokens_per_s,
        "tokens_per_s_windows": rates,
        "flops_per_token": flops["train"],
        "flops_per_token_parts": flops,
        "achieved_gflops": achieved,
        "efficiency": achieved / ceiling_gflops,
        "efficiency_bf16": achieved / bf16_ceiling_gflops if bf16_ceiling_gflops else None,
        "precision": precision,
        "autocast": str(autocast_dtype(precision, trained.model.device)),
        "steps": config.steps,
        "window_steps": window,
        "batch_size": batch_size,
        "sentences": len(trainer.train_ids),
        "mean_tokens_per_sentence": statistics.mean(len(ids) + 1 for ids in trainer.train_ids),  # + <eos>
        "config": {"rnn_type": model_config.rnn_type, "embed": model_config.embed_size,
                   "hidden": model_config.hidden_size, "latent": model_config.latent_size,
                   "layers": model_config.num_layers, "vocab": model_config.vocab_size,
                   "dropout": model_config.dropout, "max_len": trained.max_len,
                   "output_layer": model_config.output_layer, "cutoffs": model_config.adaptive_cutoffs},
    }


def tail_shares(config: ModelConfig, ids_list):
    """The share of target tokens (words and <eos>) in each of the adaptive softmax's tail clusters;
    None for the tied layer."""
    if config.output_layer != "adaptive":
        return None
    cutoffs = config.adaptive_cutoffs + [config.vocab_size]
    counts = [0] * (len(cutoffs) - 1)
    total = 0
    for ids in ids_list:
        total += len(ids) + 1  # + <eos>, in the head
        for i in ids:
            if i >= cutoffs[0]:
                counts[next(k for k in range(len(counts)) if i < cutoffs[k + 1])] += 1
    return [n / max(total, 1) for n in counts]


# the two configurations


def shipped_config(model_path, texts, ceiling_gflops, device=None, **windows):
    """Throughput of the shipped model's configuration (a fresh copy of it is trained: the copy in
    use elsewhere is never touched). Batch size and objective come from its card, else the CLI's defaults."""
    trained = load_model(model_path, device)
    card = trained.card
    batch_size = card.get("train", {}).get("batch_size", 64)
    objective = ObjectiveConfig(**card.get("objective", {}))
    return throughput(trained, texts, batch_size, objective, ceiling_gflops, **windows)


def ptb_config(texts, ceiling_gflops, device=None, output_layer="tied", **windows):
    """Throughput of the PTB configuration, vocabulary built from `texts` (10k words when the slice has them).
    `precision="fp32"` in `windows` measures the plain fp32 path, the baseline of the bf16 speed-up;
    `output_layer="adaptive"` the adaptive softmax, with its default cutoffs, or where the vocabulary is
    too small for them (--quick's slice) cutoffs at a quarter and a half of it."""
    def build(model):
        return new_model(texts, model, vocab_size=PTB_VOCAB, min_freq=1, max_len=PTB_MAX_LEN, seed=0)

    try:
        trained = build(dict(PTB_MODEL, output_layer=output_layer))
    except ValueError:
        if output_layer == "tied":
            raise
        vocab = len(build(PTB_MODEL).tokenizer)
        trained = build(dict(PTB_MODEL, output_layer=output_layer, adaptive_cutoffs=[vocab // 4, vocab // 2]))
    trained.model.to(device or "cpu")
    return throughput(trained, texts, PTB_BATCH, ObjectiveConfig(), ceiling_gflops, **windows)


# the Train page's presets


def presets(runs=1, spare_s=3.0):
    """Wall-clock seconds of each of the Train page's presets, started as the page starts them (the tiny
    corpus, seed 0, a child process: ui.training.new_run) and watched to the end, nothing clicked:
    {name: {"seconds": median start -> finished, "first_metric_s": start -> first chart point, "steps"}}.
    The page has a spare child ready when it opens (ui.training.prepare_next_run): each run starts
    `spare_s` seconds after asking for one, as a teacher who reads the page before pressing a button."""
    import time

    from ui.training import PRESETS, TINY_CORPUS_NAME, new_run, prepare_next_run, tiny_corpus

    out = {}
    for name, (settings, _) in PRESETS.items():
        seconds, first = [], []
        for _ in range(runs):
            prepare_next_run()  # as the page does when it opens; a teacher reads it a few seconds first
            time.sleep(spare_s)
            run, _ = new_run(tiny_corpus(), TINY_CORPUS_NAME, settings, seed=0)
            start = time.perf_counter()
            run.start()
            first_point = None
            try:
                while run.status not in ("finished", "failed", "stopped"):
                    if first_point is None and run.metrics():
                        first_point = time.perf_counter() - start
                    time.sleep(0.05)
                if run.status != "finished":
                    raise RuntimeError(f"the {name!r} preset's run ended {run.status}: {run.message}")
                seconds.append(time.perf_counter() - start)
                first.append(first_point)
            finally:
                run.close()
        out[name] = {"seconds": sorted(seconds)[len(seconds) // 2], "first_metric_s": sorted(first)[len(first) // 2],
                     "steps": settings.steps, "runs": runs}
    return out
