"""Does the adaptive softmax cost likelihood? The speed issue's 6x counts only if the cheaper output layer
reaches a validation NLL no worse than the full softmax's after the same tokens. This trains the model of
the reference comparison (bench/reference.py: GRU, embedding 256, hidden 256, z 32, batch 32, a
forward-only encoder) from the same seed with each output layer for the same steps, on the same
batches, then measures both on the same held-out sentences.

    python -m bench.output_layers --data ptb --steps 2000 --threads 1       # ../shared/data/ptb
    python -m bench.output_layers --data tatoeba --steps 2000 --threads 1   # assets/corpora

Heavy (minutes a run): run it alone on the machine. It prints a Markdown table and writes JSON to --out.
"""

import argparse
import json
import time
from pathlib import Path

import torch

from bench.ptb import DATA as PTB_DATA
from bench.ptb import read_lines
from bench.reference import ptb_model, reference_config
from bench.training import PTB_BATCH
from vae.data import read_corpus
from vae.metrics import evaluate
from vae.objective import ObjectiveConfig
from vae.paths import CORPORA, ROOT
from vae.train import TrainConfig, Trainer, new_model

# what keeps both runs' codes in use over a short run: a linear KL warm-up over 500 steps and 1 nat of
# free bits a dimension (Kingma et al. 2016), dropout 0.1; the same for both output layers
OBJECTIVE = dict(kl_schedule="linear", kl_warmup_steps=500, free_bits=1.0)
DROPOUT = 0.1
HELDOUT = 2_000  # Tatoeba's first validation sentences (PTB's validation set is used whole: 3,370)


def build(data, output_layer):
    """(model, training sentences, held-out sentences) for `data` ("ptb" or "tatoeba")."""
    if data == "ptb":
        texts = read_lines(PTB_DATA / "ptb.train.txt")
        model = ptb_model(texts, output_layer=output_layer, dropout=DROPOUT)
        return model, texts, read_lines(PTB_DATA / "ptb.valid.txt")
    texts = read_corpus(CORPORA / "train.txt.gz").texts
    config = reference_config(output_layer=output_layer, dropout=DROPOUT)
    trained = new_model(texts, config, vocab_size=10_000, min_freq=2, seed=0)
    return trained, texts, read_corpus(CORPORA / "valid.txt.gz").texts[:HELDOUT]


def run(data, output_layer, steps, iw_samples):
    trained, texts, heldout = build(data, output_layer)
    trainer = Trainer(trained, texts, ObjectiveConfig(**OBJECTIVE),
                      TrainConfig(steps=steps, batch_size=PTB_BATCH, lr=1e-3, seed=0, log_every=200))
    start = time.perf_counter()
    trainer.run()
    seconds = time.perf_counter() - start
    result = evaluate(trained, heldout, iw_samples=iw_samples)
    return {"output_layer": output_layer, "steps": steps, "train_seconds": round(seconds, 1),
            "iw_nll": result["iw_nll"], "kl": result["kl"], "recon": result["recon"],
            "active_units": result["active_units"], "heldout_sentences": result["sentences"]}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.output_layers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=("ptb", "tatoeba"), default="ptb")
    parser.add_argument("--steps", type=int, default=2_000)
    parser.add_argument("--iw-samples", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "runs" / "output_layers.json"))
    args = parser.parse_args(argv)
    if args.data == "ptb" and not (PTB_DATA / "ptb.train.txt").is_file():
        print(f"PTB not found in {PTB_DATA}: skipping (it is not redistributable, see ../shared/README.md)")
        return 0
    torch.set_num_threads(args.threads)
    rows = [run(args.data, layer, args.steps, args.iw_samples) for layer in ("tied", "adaptive")]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"data": args.data, "threads": args.threads, "rows": rows}, indent=2))
    print(f"| output layer ({args.data}, {args.steps:,} steps, {args.threads} thread(s)) | training seconds "
          f"| IW-NLL, k={args.iw_samples} (nats a sentence) | KL | reconstruction | active units |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['output_layer']} | {r['train_seconds']:.0f} | {r['iw_nll']:.2f} | {r['kl']:.1f} "
              f"| {r['recon']:.1f} | {r['active_units']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
