"""The rate-distortion sweep behind the shipped recipe: short runs under one budget, each measured
the same way, written as a table for the card, the README and the home page.

    python scripts/sweep.py --out runs/sweep            # trains what is missing, then measures all
    python scripts/sweep.py --out runs/sweep --measure-only

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere


from vae.checkpoint import load_model  # noqa: E402
from vae.data import read_corpus  # noqa: E402
from vae.paths import CORPORA as CORPUS  # noqa: E402
from vae.paths import ROOT  # noqa: E402
from vae.report import quality_report, rate_distortion_row  # noqa: E402

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


def folder(out, name):
    return out / name.replace(" + ", "+").replace(" ", "_")


def train(out, name, threads):
    run = folder(out, name)
    if (run / "trainer_state.json").is_file() and json.loads((run / "trainer_state.json").read_text())["step"] >= 1000:
        return
    command = (f"{sys.executable} -m vae --threads {threads} train --corpus {CORPUS / 'train.txt.gz'} "
               f"--out {run} {COMMON} {RUNS[name]}")
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {command}", flush=True)
    with open(f"{run}.log", "w") as log:
        subprocess.run(shlex.split(command), cwd=ROOT, check=True, stdout=log, stderr=subprocess.STDOUT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "sweep")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--iw-samples", type=int, default=20,
                        help="k of the sweep's NLL (the shipped model's card uses 100); one k for every run")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.measure_only:
        for name in RUNS:
            train(args.out, name, threads=args.threads)
    test = read_corpus(CORPUS / "test.txt.gz").texts
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


if __name__ == "__main__":
    main()
