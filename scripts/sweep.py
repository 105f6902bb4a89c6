"""The sweeps behind the shipped recipe: short runs under one budget, each measured the same way,
written as a table for the card, the README and the home page.

    python scripts/sweep.py --out runs/sweep            # trains what is missing, then measures all
    python scripts/sweep.py --out runs/sweep --measure-only
    python scripts/sweep.py --sweep walk --out runs/walk # the walkable-space sweep (below)

"rate": from scratch, the rate and the knobs against posterior collapse. "walk": from the 44,000-step
model (assets/model, "precise"), each run
fine-tuning it for the same steps with one way of shaping the space between codes; read-back and
walkability (vae/report.py) side by side.

Runs train one at a time (never two heavy jobs at once) through `python -m vae train`, so each
config is also a command anyone can rerun. A finished run is not trained again.
"""

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere


from vae.checkpoint import load_model  # noqa: E402
from vae.data import read_corpus  # noqa: E402
from vae.metrics import TrainingText  # noqa: E402
from vae.paths import CORPORA as CORPUS  # noqa: E402
from vae.paths import ROOT  # noqa: E402
from vae.report import quality_report, rate_distortion_row, walkability_report  # noqa: E402

# The same budget and model for every run: the shipped size (GRU, embedding 256, hidden 256, z 32),
# 1,000 steps of 64 sentences (1.5 epochs), a linear KL anneal over 500 steps.
COMMON = ("--steps 1000 --batch-size 64 --lr 1e-3 --dropout 0.1 --kl-warmup 500 --vocab-size 10000 "
          "--log-every 100 --save-every 500 --seed 0")
RUNS = {  # name: what differs
    "lm": "--mode lm",
    "free bits 0.25": "--free-bits 0.25",
    "free bits 0.5": "--free-bits 0.5",
    "free bits 1": "--free-bits 1",
    "free bits 2": "--free-bits 2",
    "free bits 3": "--free-bits 3",
    "free bits 2 + AE pre-training": "--free-bits 2 --ae-pretrain 300",
    "free bits 2 + bag of words": "--free-bits 2 --bag-of-words 1",
    "free bits 2 + word dropout 0.25": "--free-bits 2 --word-dropout 0.25",
    # added after the runs above: the two knobs that each helped, together (the shipped recipe)
    "free bits 3 + AE pre-training": "--free-bits 3 --ae-pretrain 300",
}


# the walkable-space sweep: 4,000 steps of 64 sentences (0.55 epoch) from the 44,000-step model, a
# constant KL weight of 1 at its own free bits, learning rate 5e-4 (Adam restarts its moments)
WALK_COMMON = ("--init-from assets/model --steps 4000 --batch-size 64 --lr 5e-4 --kl-schedule constant "
               "--dropout 0.1 --precision auto --log-every 200 --save-every 1000 --seed 1")
WALK_RUNS = {
    "word deletion 0.3": "--word-deletion 0.3 --free-bits 2.5",
    "word deletion 0.1": "--word-deletion 0.1 --free-bits 2.5",
}
SWEEPS = {"rate": (COMMON, RUNS, 1000), "walk": (WALK_COMMON, WALK_RUNS, 4000)}


def folder(out, name):
    return out / name.replace(" + ", "+").replace(" ", "_")


def train(out, name, threads, sweep="rate"):
    common, runs, steps = SWEEPS[sweep]
    run = folder(out, name)
    if (run / "trainer_state.json").is_file() and json.loads((run / "trainer_state.json").read_text())["step"] >= steps:
        return
    command = (f"{sys.executable} -m vae --threads {threads} train --corpus {CORPUS / 'train.txt.gz'} "
               f"--out {run} {common} {runs[name]}")
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {command}", flush=True)
    with open(f"{run}.log", "w") as log:
        subprocess.run(shlex.split(command), cwd=ROOT, check=True, stdout=log, stderr=subprocess.STDOUT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sweep", choices=SWEEPS, default="rate")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "sweep")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--extra", nargs="*", default=[], metavar="NAME=FOLDER",
                        help="with --sweep walk: more runs to measure beside the sweep's own (e.g. a run resumed "
                             "with other settings), each named in the table")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--iw-samples", type=int, default=20,
                        help="k of the sweep's NLL (the shipped model's card uses 100); one k for every run")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)  # the measuring too: beside a training job, one thread each
    args.out.mkdir(parents=True, exist_ok=True)
    common, runs, _ = SWEEPS[args.sweep]
    if not args.measure_only:
        for name in runs:
            train(args.out, name, threads=args.threads, sweep=args.sweep)
    test = read_corpus(CORPUS / "test.txt.gz").texts
    if args.sweep == "walk":
        return measure_walk(args, runs, test)
    lm = load_model(folder(args.out, "lm"))
    lm_nll = None
    rows = []
    for name in RUNS:
        if name == "lm" or not (folder(args.out, name) / "trainer_state.json").is_file():
            continue
        trained = load_model(folder(args.out, name))
        started = time.perf_counter()
        report = quality_report(trained, test, lm=lm, samples=args.samples, iw_samples=args.iw_samples)
        lm_nll = report["lm_baseline"]["nll"]
        rows.append(rate_distortion_row(name, report))
        (folder(args.out, name) / "report.json").write_text(json.dumps(report, indent=2))
        print(f"[{time.strftime('%H:%M:%S')}] measured {name} in {time.perf_counter() - started:.0f} s: "
              + json.dumps(rows[-1]), flush=True)
    summary = {"budget": COMMON, "test_sentences": len(test), "lm_nll": lm_nll, "iw_samples": args.iw_samples,
               "samples": args.samples, "rows": rows,
               "commands": {name: RUNS[name] for name in RUNS}}
    (args.out / "sweep.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


def measure_walk(args, runs, test):
    """The walk sweep's table: each run's read-back and walkability, no language model (the runs
    share one start, so their samples are compared with each other and with real text)."""
    train_texts = read_corpus(CORPUS / "train.txt.gz").texts
    training_text = TrainingText(load_model(ROOT / "assets" / "model").tokenizer, train_texts)
    rows = []
    folders = {name: folder(args.out, name) for name in runs}
    folders.update(dict(extra.split("=", 1) for extra in args.extra))
    for name, run in folders.items():
        run = Path(run)
        if not (run / "trainer_state.json").is_file():
            continue
        trained = load_model(run)
        started = time.perf_counter()
        report = quality_report(trained, test, train_texts=train_texts, samples=args.samples,
                                iw_samples=args.iw_samples)
        walk = walkability_report(trained, test, train_texts, samples=args.samples, training_text=training_text)
        steps = json.loads((run / "trainer_state.json").read_text())["step"]
        rows.append({**rate_distortion_row(name, report, walk), "steps": steps})
        (run / "report.json").write_text(json.dumps({"quality": report, "walkability": walk}, indent=2))
        print(f"[{time.strftime('%H:%M:%S')}] measured {name} in {time.perf_counter() - started:.0f} s: "
              + json.dumps(rows[-1]), flush=True)
    summary = {"budget": common_budget(SWEEPS["walk"][0]), "test_sentences": len(test), "iw_samples": args.iw_samples,
               "samples": args.samples, "rows": rows, "commands": {**runs, **dict(e.split("=", 1) for e in args.extra)},
               "real_heldout": walk["real_heldout"] if rows else None}
    (args.out / "sweep.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


def common_budget(common):
    return f"python -m vae train {common}"


if __name__ == "__main__":
    main()
