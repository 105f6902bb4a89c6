"""python -m bench [--quick] [--model PATH] [--json OUT] [--skip-browser]

Runs every section in order (hardware, training, latencies, app), prints one table and writes the
results as JSON. The full run takes several minutes; --quick takes seconds and only checks that the
benchmark still works (its numbers are not worth comparing).
"""

import argparse
import datetime
import subprocess
import sys
import time
from pathlib import Path

import torch

from vae.checkpoint import CheckpointError, load_model
from vae.model import DeviceError, pick_device
from vae.paths import ROOT, default_model

from . import app, hardware, latency, reference, report, training
from .measure import shipped_sentences

# sizes of a full run, and of --quick (tiny sizes, few repeats: seconds, for CI)
FULL = dict(matmul_size=2048, matmul_repeats=10, sentences=20_000, window=30, windows=5,
            repeats=20, encode=5_000, umap_runs=5, clicks=10, reference_s=120.0,
            load=dict(runs=2, sessions=4, rounds=5, alone_s=10.0, budget_s=240.0))
QUICK = dict(matmul_size=512, matmul_repeats=3, sentences=256, window=2, windows=1,
             repeats=3, encode=200, umap_runs=1, clicks=2, reference_s=5.0,
             load=dict(runs=2, sessions=4, rounds=1, alone_s=2.0, budget_s=60.0))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="seconds, tiny sizes: checks the benchmark works")
    parser.add_argument("--model", default=str(default_model()),
                        help="checkpoint folder (default: $TEXT_VAE_MODEL, else the shipped model)")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "latest.json"),
                        help="where to write the JSON (default: bench/results/latest.json)")
    parser.add_argument("--skip-browser", action="store_true", help="leave out the app section")
    parser.add_argument("--browser", action="store_true", help="with --quick: run the app section anyway")
    parser.add_argument("--umap", action="store_true", help="with --quick: time UMAP too (~15 s: numba compiles)")
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    parser.add_argument("--reference", metavar="DIR",
                        help="a checkout of timbmg/Sentence-VAE: time it on PTB beside the project "
                             "(bench/reference.py)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (default: torch's choice; 1 with --quick, whose tiny work "
                             "gains nothing from threads and only fights other jobs for the CPU)")
    args = parser.parse_args(argv)
    if args.threads or args.quick:
        torch.set_num_threads(args.threads or 1)
    size = QUICK if args.quick else FULL
    try:
        device = pick_device(args.device)
        trained = load_model(args.model, device)
    except (CheckpointError, DeviceError) as e:
        print(f"error: {e}\n(train one with `python -m vae train ...` and pass --model PATH)", file=sys.stderr)
        return 2

    results = {"meta": meta(args, device, trained)}
    clock = Sections()
    clock.start("hardware: matmul ceilings, fp32 and bf16")
    results["hardware"] = hardware.matmul_gflops(device, size["matmul_size"], size["matmul_repeats"])
    results["hardware_bf16"] = hardware.matmul_gflops(device, size["matmul_size"], size["matmul_repeats"],
                                                      dtype=torch.bfloat16)
    ceiling = results["hardware"]["gflops"]

    texts = shipped_sentences(max(size["sentences"], size["encode"]))
    train_texts = texts[: size["sentences"]]
    windows = dict(window=size["window"], windows=size["windows"],
                   bf16_ceiling_gflops=results["hardware_bf16"]["gflops"])
    clock.start("training: shipped configuration")
    results["training"] = {"shipped": training.shipped_config(args.model, train_texts, ceiling, device, **windows)}
    clock.start("training: PTB configuration (auto precision, then fp32)")
    results["training"]["ptb"] = training.ptb_config(train_texts, ceiling, device, **windows)
    results["training"]["ptb_fp32"] = training.ptb_config(train_texts, ceiling, device, precision="fp32", **windows)
    clock.start("training: PTB configuration, adaptive softmax (auto precision, then fp32)")
    results["training"]["ptb_adaptive"] = training.ptb_config(train_texts, ceiling, device, "adaptive", **windows)
    results["training"]["ptb_adaptive_fp32"] = training.ptb_config(train_texts, ceiling, device, "adaptive",
                                                                   precision="fp32", **windows)

    if not args.reference:
        results["reference"] = {"skipped": "not run (--reference DIR)"}
    elif not (reference.PTB_DATA / "ptb.train.txt").is_file():
        results["reference"] = {"skipped": f"PTB not found in {reference.PTB_DATA}"}
    else:
        clock.start("training: the reference implementation on PTB, then the project on the same sentences")
        results["reference"] = reference.compare(args.reference, ceiling, size["reference_s"], **windows)

    if args.quick:
        results["presets"] = {"skipped": "--quick"}
    else:
        clock.start("training: the Train page's presets, as the page runs them")
        results["presets"] = training.presets()

    with_umap = args.umap or not args.quick
    clock.start("latency: sample, interpolate, encode, PCA" + (", UMAP" if with_umap else ""))
    results["latency"] = latency.interactive(trained, texts, size["repeats"], size["encode"], size["umap_runs"],
                                             with_umap)
    if not with_umap:
        results["latency"]["umap_skipped"] = "--quick (add --umap)"
    clock.start("latency: PTB configuration")
    results["ptb_decoding"] = latency.ptb_decoding(train_texts, size["repeats"], device)

    why_not = app_skipped(args)
    if why_not:
        results["app"] = {"skipped": why_not}
    else:
        clock.start("app: headless Chromium")
        results["app"] = app.measure(args.model, size["clicks"])
        clock.start("app: 4 sessions clicking Sample: no training, 2 runs in threads, 2 runs in processes")
        results["app_load"] = app.training_modes(args.model, **size["load"])
    results["meta"]["section_seconds"] = clock.stop()

    results["rows"] = report.rows(results, judge=not args.quick)
    print(report.table(results))
    report.write_json(results, args.json)
    print(f"\nwrote {args.json}")
    return 0


class Sections:
    """Says on stderr which section runs, and keeps how long each took."""

    def __init__(self):
        self.seconds, self.current, self.since = {}, None, None

    def start(self, name):
        self.stop()
        print(f"· {name}", file=sys.stderr, flush=True)
        self.current, self.since = name, time.perf_counter()

    def stop(self):
        if self.current:
            self.seconds[self.current] = time.perf_counter() - self.since
            self.current = None
        return self.seconds


def app_skipped(args):
    if args.skip_browser:
        return "--skip-browser"
    if args.quick and not args.browser:
        return "--quick (add --browser)"
    return app.unavailable()


def meta(args, device, trained):
    def git(*a):
        done = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " (+ uncommitted changes)"
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit, **hardware.machine(device), "quick": args.quick,
            "model": str(Path(args.model)), "model_steps": trained.card.get("steps"), "options": vars(args)}


if __name__ == "__main__":
    raise SystemExit(main())
