"""The library calls behind the pages, timed with a loaded model: sample, interpolate, encode,
project. Each is repeated (median and p95); UMAP is also timed cold, in a new Python process,
because its first call in a process compiles numba code and that is what the first map costs."""

import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vae.decode import encode_texts, interpolate, reconstruct, sample_prior
from vae.paths import ROOT
from vae.projection import project
from vae.train import new_model

from .measure import summary, time_runs
from .training import PTB_MAX_LEN, PTB_MODEL, PTB_VOCAB

# run in a fresh interpreter by cold_projection(). The clock starts after numpy and the projection module
# are imported (the app has them already) and stops after the fit: `import umap` (numba) is timed.
COLD_SCRIPT = """
import json, sys, time
import numpy as np
from vae.projection import project
x = np.load(sys.argv[1])
start = time.perf_counter()
project(x, sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - start}))
"""

# run in a fresh interpreter by umap_after_start(): a server's process, where streamlit_app.py starts
# the warm-up thread on its first run; a fresh UMAP (settings nothing has fitted yet) is asked for
# `after` seconds later and timed from the question to the fitted map
AFTER_START_SCRIPT = """
import json, sys, time
start = time.perf_counter()
import numpy as np
from ui import warmup
warmup.start()
x, after = np.load(sys.argv[1]), float(sys.argv[2])
time.sleep(max(0.0, after - (time.perf_counter() - start)))
asked = time.perf_counter()
while not warmup.ready():
    time.sleep(0.05)
from vae.projection import project
project(x, "umap", n_neighbors=16, min_dist=0.2)
print(json.dumps({"seconds": time.perf_counter() - asked, "warm_up": warmup.state()}))
"""


# helpers


def sentence_pairs(texts):
    """Endless (a, b) pairs of consecutive sentences, so every run interpolates a new path."""
    pairs = list(zip(texts[0::2], texts[1::2]))
    return itertools.cycle(pairs)


def decoding_runs(trained, texts, repeats, strategy):
    """sample 10 sentences from the prior (a new seed each run), a 10-step interpolation, and one
    sentence read back."""
    seeds = itertools.count()
    pairs = sentence_pairs(texts)
    lengths = []

    def sample():
        samples = sample_prior(trained, 10, seed=next(seeds), strategy=strategy, temperature=1.0)
        lengths.append(max(s.num_words for s in samples) + 1)  # decoder steps: the longest sentence

    def walk():
        interpolate(trained, *next(pairs), steps=10)

    def read_back():  # the try-it box: one typed sentence read back as the model's card says
        reconstruct(trained, [next(pairs)[0]])

    result = {"sample_10": time_runs(sample, repeats), "interpolate_10": time_runs(walk, repeats),
              "read_back_1": time_runs(read_back, repeats)}
    result["sample_10"]["decode_steps_median"] = float(np.median(lengths))
    return result


# the measurements


def interactive(trained, texts, repeats=20, n_encode=5000, umap_runs=5, with_umap=True):
    """Every interactive latency with the shipped model; `texts` must hold at least n_encode sentences."""
    result = decoding_runs(trained, texts, repeats, strategy="sample")
    corpus = texts[:n_encode]
    encode = time_runs(lambda: encode_texts(trained, corpus), repeats)
    encode.update(sentences=len(corpus), sentences_per_s=len(corpus) / encode["median_s"])
    result["encode"] = encode
    latents = encode_texts(trained, corpus).numpy()  # (N, latent)
    result["pca"] = {**time_runs(lambda: project(latents, "pca"), repeats), "points": len(latents)}
    if with_umap:
        # warm: the warm-up call compiles numba in this process, the timed ones reuse it
        result["umap_warm"] = {**time_runs(lambda: project(latents, "umap"), umap_runs), "points": len(latents)}
        result["umap_cold"] = {**cold_projection(latents, "umap", umap_runs), "points": len(latents)}
        result["umap_after_start"] = {**umap_after_start(latents), "points": len(latents)}
    return result


def umap_after_start(latents, after=60.0):
    """A fresh UMAP fit asked for `after` seconds after a server process starts (its warm-up thread
    running since then): seconds from the question to the map, in a new Python process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "latents.npy"
        np.save(path, latents)
        done = subprocess.run([sys.executable, "-c", AFTER_START_SCRIPT, str(path), str(after)], cwd=ROOT,
                              capture_output=True, text=True, check=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return {"seconds": measured["seconds"], "after_s": after, "warm_up_s": measured["warm_up"]["seconds"],
            "warm_up_status": measured["warm_up"]["status"]}


def cold_projection(latents, method="umap", runs=5):
    """`method` in `runs` new Python processes: seconds from `import umap` to the fitted map, as
    measured inside each process (the whole process, interpreter start-up included, is process_s)."""
    seconds, process_seconds = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "latents.npy"
        np.save(path, latents)
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", COLD_SCRIPT, str(path), method], cwd=ROOT,
                                  capture_output=True, text=True, check=True)
            process_seconds.append(time.perf_counter() - start)
            seconds.append(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
    return {**summary(seconds), "process_s": summary(process_seconds)}


def ptb_decoding(texts, repeats=20, device=None):
    """10 greedy samples and a 10-step interpolation at the PTB configuration, to compare with the
    reference implementation. The model is untrained: it rarely says <eos>, so it decodes all
    max_len + 1 steps, the worst case (decode_steps_median says how many it took)."""
    trained = new_model(texts, PTB_MODEL, vocab_size=PTB_VOCAB, min_freq=1, max_len=PTB_MAX_LEN, seed=0)
    trained.model.to(device or "cpu").eval()
    return decoding_runs(trained, texts, repeats, strategy="greedy")
