"""The speed issue's baseline: the reference sentence VAE (timbmg/Sentence-VAE) trained on this machine,
and the project's trainer on the same sentences at the same configuration, in one run.

    git clone https://github.com/timbmg/Sentence-VAE /somewhere/Sentence-VAE   # not in this repo
    pip install nltk tensorboardX                                               # what its train.py imports
    python -m bench.reference --reference /somewhere/Sentence-VAE               # this section alone
    python -m bench --reference /somewhere/Sentence-VAE                         # with the rest of the bench

The reference runs unchanged, as its README says to run it, in a child process: its own `train.py` on
Penn Treebank (../shared/data/ptb, copied to a scratch folder because the reference writes its
preprocessed files beside the data) with the issue's configuration (GRU, embedding 256, hidden 256,
z 32, batch 32; its vocabulary is PTB's ~10k words). It prints one line a batch (`-v 1`): we time
those lines as they arrive, leave out the first ones (start-up, the data loader's workers), and turn
batches into tokens with the mean sentence length of its own preprocessed training file (`length`,
the words and <sos>, as many as the targets: the words and <eos>). The project's trainer then trains
on the same PTB sentences, cut at the same 60 tokens, with the same model (a forward-only encoder, as
the reference's), and counts its tokens the same way (non-pad, <eos> included). Both get the same
number of torch threads.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from bench.ptb import DATA as PTB_DATA
from bench.ptb import read_lines
from bench.training import PTB_BATCH, PTB_MODEL, throughput
from vae.objective import ObjectiveConfig
from vae.train import new_model

# the reference's train.py flags for bench.training's PTB configuration
CONFIG = ["-rnn", PTB_MODEL["rnn_type"], "-eb", str(PTB_MODEL["embed_size"]), "-hs", str(PTB_MODEL["hidden_size"]),
          "-ls", str(PTB_MODEL["latent_size"]), "-bs", str(PTB_BATCH)]
MAX_LEN = 60  # the reference's default --max_sequence_length
PTB_VOCAB = 10_004  # as bench/ptb.py: PTB's 10k words and our specials


def reference_throughput(reference_dir, ptb_dir=PTB_DATA, seconds=120.0, warmup_batches=30, threads=None):
    """Tokens/s of the reference's own train.py: {"tokens_per_s", "batches", "seconds", ...}."""
    reference_dir, ptb_dir = Path(reference_dir), Path(ptb_dir)
    script = reference_dir / "train.py"
    if not script.is_file():
        raise FileNotFoundError(f"no train.py in {reference_dir}: clone timbmg/Sentence-VAE there")
    threads = threads or torch.get_num_threads()
    with tempfile.TemporaryDirectory(prefix="sentence-vae-") as scratch:
        scratch = Path(scratch)
        data = scratch / "data"
        data.mkdir()
        for split in ("train", "valid", "test"):
            shutil.copy(ptb_dir / f"ptb.{split}.txt", data)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        command = [sys.executable, "-u", str(script), "--data_dir", str(data), "-bin", str(scratch / "bin"),
                   "-v", "1", *CONFIG]
        # a session of its own: its data loader's worker processes end with it
        child = subprocess.Popen(command, cwd=scratch, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, start_new_session=True)
        stamps, tail = [], []
        try:
            for line in child.stdout:
                tail = (tail + [line.rstrip()])[-20:]
                if line.startswith("TRAIN Batch"):
                    stamps.append(time.perf_counter())
                    timed = stamps[warmup_batches:]
                    if len(timed) > 1 and timed[-1] - timed[0] >= seconds:
                        break
                elif len(stamps) > warmup_batches:
                    break  # the epoch ended (a validation pass and a save follow): time training only
        finally:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            child.stdout.close()
        if len(stamps) <= warmup_batches + 1:
            raise RuntimeError("the reference trained too few batches to time; its last lines:\n" + "\n".join(tail))
        lengths = [item["length"] for item in json.loads((data / "ptb.train.json").read_text()).values()]
        vocab = len(json.loads((data / "ptb.vocab.json").read_text())["w2i"])
    timed = stamps[warmup_batches:]
    batches, elapsed = len(timed) - 1, timed[-1] - timed[0]
    mean_tokens = statistics.mean(lengths)
    return {"tokens_per_s": batches * PTB_BATCH * mean_tokens / elapsed, "batches": batches, "seconds": elapsed,
            "mean_tokens_per_sentence": mean_tokens, "vocab": vocab, "threads": threads,
            "command": " ".join(["train.py", *command[3:]])}


def project_on_ptb(ceiling_gflops, output_layer="tied", precision="auto", ptb_dir=PTB_DATA, **windows):
    """The project's trainer on the reference's data and configuration (bench.training.throughput)."""
    texts = read_lines(Path(ptb_dir) / "ptb.train.txt")
    trained = ptb_model(texts, output_layer=output_layer)
    return throughput(trained, texts, PTB_BATCH, ObjectiveConfig(), ceiling_gflops, precision=precision, **windows)


def reference_config(**changes):
    """The model configuration of the reference comparison, with `changes` (e.g. output_layer, dropout)."""
    # the reference's encoder reads forward only (its -bi is off by default); the project's default reads both ways
    return {**PTB_MODEL, "bidirectional": False, **changes}


def ptb_model(texts, **changes):
    """A fresh model of reference_config(**changes) on PTB's sentences `texts`, as the reference reads them."""
    # MAX_LEN - 1 words and <eos>: the reference's 60 tokens (<sos> and 59 words, or 59 words and <eos>)
    return new_model(texts, reference_config(**changes), vocab_size=PTB_VOCAB, min_freq=1, max_len=MAX_LEN - 1,
                     whitespace_only=True, seed=0)


def compare(reference_dir, ceiling_gflops, seconds=120.0, ptb_dir=PTB_DATA, **windows):
    """The reference, then the project's tied and adaptive softmax, on PTB: one section of the bench."""
    out = {"reference": reference_throughput(reference_dir, ptb_dir, seconds)}
    for layer in ("tied", "adaptive"):
        out[layer] = project_on_ptb(ceiling_gflops, layer, ptb_dir=ptb_dir, **windows)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", required=True, help="a checkout of timbmg/Sentence-VAE")
    parser.add_argument("--data", default=str(PTB_DATA))
    parser.add_argument("--seconds", type=float, default=120, help="how long to time the reference")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if not (Path(args.data) / "ptb.train.txt").is_file():
        print(f"PTB not found in {args.data}: skipping (it is not redistributable, see ../shared/README.md)")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    from bench import hardware

    ceiling = hardware.matmul_gflops(torch.device("cpu"), 2048, 5)["gflops"]
    result = compare(args.reference, ceiling, args.seconds, args.data)
    reference = result["reference"]["tokens_per_s"]
    print(f"reference ({result['reference']['command']}): {reference:,.0f} tokens/s "
          f"({result['reference']['batches']} batches in {result['reference']['seconds']:.0f} s)")
    for key in ("tied", "adaptive"):
        t = result[key]
        print(f"project, {key} output layer, {t['autocast']}: {t['tokens_per_s']:,.0f} tokens/s "
              f"= {t['tokens_per_s'] / reference:.2f}× the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
