"""Penn Treebank, the sentence-VAE literature's benchmark: train the project's own code on PTB with
the common small configuration and print test-set numbers next to the published ones.

    python -m bench.ptb --minutes 60                 # train (resumable), then evaluate
    python -m bench.ptb --eval-only --iw-samples 500  # evaluate the saved run again

The data is read from ../shared/data/ptb (its licence forbids redistribution): nothing from it, and
no model trained on it, goes into the repo; the run lives in runs/ptb (git-ignored). When the data
is absent, the script says so and exits cleanly.
"""

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from vae.checkpoint import load_model
from vae.metrics import evaluate
from vae.objective import ObjectiveConfig
from vae.paths import ROOT
from vae.train import TrainConfig, Trainer, new_model

DATA = ROOT.parent / "shared" / "data" / "ptb"

# ../shared/DATA.md: NLL in nats per sentence on the test set; PPL per word incl. <eos>
PUBLISHED = [
    ("LSTM language model", "100-101", "-", "~100"),
    ("LSTM-VAE, Bowman et al. 2016", "~101", "~2", "-"),
    ("LSTM-VAE, common re-implementations", "102.5-103", "-", "107-109"),
]
MODEL = dict(embed_size=256, hidden_size=256, latent_size=32)


def read_lines(path):
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.ptb", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--out", default=str(ROOT / "runs" / "ptb"))
    parser.add_argument(
        "--steps", type=int, default=40_000, help="total steps (a full run; --minutes may stop it sooner)"
    )
    parser.add_argument("--minutes", type=float, default=0, help="stop training after this much wall-clock time")
    parser.add_argument("--kl-warmup", type=int, default=10_000)
    parser.add_argument("--free-bits", type=float, default=0.25)
    parser.add_argument("--iw-samples", type=int, default=500)
    parser.add_argument(
        "--eval-sentences", type=int, default=0, help="evaluate on the first N test sentences (0 = all)"
    )
    parser.add_argument("--eval-only", action="store_true")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    data, out = Path(args.data), Path(args.out)
    if not (data / "ptb.train.txt").is_file():
        print(f"PTB not found in {data}: skipping (it is not redistributable, see ../shared/README.md)")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)

    train_seconds = 0.0
    if not args.eval_only:
        train_seconds = train(read_lines(data / "ptb.train.txt"), out, args)
    trained = load_model(out)
    start = time.perf_counter()
    test = read_lines(data / "ptb.test.txt")
    result = evaluate(trained, test[: args.eval_sentences or None], iw_samples=args.iw_samples)
    result["eval_seconds"] = time.perf_counter() - start
    result.update(
        steps=trained.card.get("steps"),
        train_seconds_this_call=train_seconds,
        hardware=f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {trained.device}",
        config=MODEL,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "ptb_result.json").write_text(json.dumps(result, indent=2))
    print(table(result))
    return 0


def train(texts, out, args):
    """Train (or resume) until --steps or --minutes; returns the seconds spent."""
    config = TrainConfig(steps=args.steps, batch_size=32, lr=1e-3, log_every=200)
    if (out / "trainer_state.json").is_file():
        trainer = Trainer.resume(out, texts, config)
    else:
        # PTB is already tokenised and lower-cased: keep its tokens (so token counts match the
        # literature's), its 10k vocabulary (+ our specials) and its full sentence lengths
        trained = new_model(texts, MODEL, vocab_size=10_004, min_freq=1, max_len=100, whitespace_only=True)
        objective = ObjectiveConfig("linear", args.kl_warmup, free_bits=args.free_bits)
        trainer = Trainer(trained, texts, objective, config)
        trainer.trained.card.update(training_corpus="PTB train (not redistributable; never shipped)")
    trainer.add_callback(lambda m: print(json.dumps(m), flush=True))
    start = time.perf_counter()
    deadline = start + args.minutes * 60 if args.minutes else float("inf")
    while trainer.step < config.steps and time.perf_counter() < deadline:
        trainer.run(min(config.steps, trainer.step + 500), should_stop=lambda: time.perf_counter() > deadline)
        trainer.save(out)  # a checkpoint every 500 steps: the run can be stopped and resumed
    trainer.trained.card["train_seconds"] = trainer.trained.card.get("train_seconds", 0) + time.perf_counter() - start
    trainer.save(out)
    return time.perf_counter() - start


def table(r):
    rows = [
        ("model", "NLL (nats/sent)", "KL", "PPL"),
        (f"this project, GRU VAE ({r['steps']} steps)", f"{r['iw_nll']:.1f}", f"{r['kl']:.2f}", f"{r['ppl']:.1f}"),
    ]
    rows += PUBLISHED
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|---|---|---|---|")
    lines.append("")
    lines.append(
        f"NLL: {r['estimator']}; MI {r['mi']:.2f} nats; active units {r['active_units']}/{r['latent_size']}; "
        f"{r['sentences']} sentences, {r['tokens']} tokens; evaluation {r['eval_seconds']:.0f} s on {r['hardware']}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
