"""Latent maps: fingerprints, the precomputed maps shipped with a model, and the CSV export.

A shipped corpus's map is computed once by `scripts/precompute_maps.py` and saved next to the model
as `maps/<corpus>.safetensors`: the posterior means `mu` (N, latent; int8 rows with their scales,
vae/quantize.py) and the UMAP coordinates
`umap` (N, 2), with the fingerprints of the weights and of the corpus file in the metadata. A file
whose fingerprints do not match the model and corpus in use is stale and is ignored.
(safetensors rather than pickle: loading cannot run code.)
"""

import csv
import hashlib
import io
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .data import safe_cell
from .projection import N_EPOCHS
from .quantize import packed, rounded_rows, unpacked

MAPS_DIR = "maps"
UMAP_DEFAULTS = {"n_neighbors": 15, "min_dist": 0.1}


def stored_codes(mu) -> np.ndarray:
    """Posterior means as a saved map holds them: int8 rows with one scale each (vae/quantize.py), a
    quarter of fp32's bytes in the repository (the repository's size budget), returned as fp32 for
    computing. The precomputed UMAP is fitted on these rounded codes, so a refit in the app reproduces
    its coordinates. A row's error is at most 1/254 of its largest value: about 0.01 for the shipped
    model's codes, whose distances to each other are about 8."""
    return rounded_rows(torch.as_tensor(np.asarray(mu, dtype=np.float32))).numpy()


def weights_fingerprint(model: torch.nn.Module) -> str:
    """A short hash of every weight's bytes: the same on CPU and GPU, different after any update."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()[:16]


def bytes_fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def map_path(model_dir, corpus_path) -> Path:
    return Path(model_dir) / MAPS_DIR / f"{Path(corpus_path).stem}.safetensors"


def save_map(path, mu, umap_xy, *, weights: str, corpus: str, n_neighbors: int, min_dist: float,
             n_epochs: int = N_EPOCHS):
    """Write a precomputed map; `weights` and `corpus` are the fingerprints it was made from, the
    rest are the UMAP settings that reproduce its coordinates."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {**packed("mu", torch.as_tensor(np.asarray(mu, dtype=np.float32))),  # see stored_codes
               "umap": torch.as_tensor(np.ascontiguousarray(umap_xy, dtype=np.float32))}
    metadata = {"weights": weights, "corpus": corpus, "n_neighbors": str(n_neighbors), "min_dist": str(min_dist),
                "n_epochs": str(n_epochs)}
    save_file(tensors, str(path), metadata=metadata)


def load_map(path, *, weights: str, corpus: str):
    """The map saved at `path` as a dict (mu, umap, n_neighbors, min_dist, n_epochs: None in a map
    saved before it was recorded), or None when there is none, it is unreadable, or it was made from
    other weights or another corpus file."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if meta.get("weights") != weights or meta.get("corpus") != corpus:
                return None
            tensors = {name: f.get_tensor(name) for name in f.keys()}
            mu = unpacked(tensors, "mu")  # int8 rows; maps saved before 2026-12-02 hold fp16
            return {"mu": mu.float().numpy(), "umap": tensors["umap"].float().numpy(),
                    "n_neighbors": int(meta["n_neighbors"]), "min_dist": float(meta["min_dist"]),
                    "n_epochs": int(meta["n_epochs"]) if "n_epochs" in meta else None}
    except Exception:  # missing, truncated or foreign file: compute the map live instead
        return None


def map_csv(texts, labels, xy, mu) -> bytes:
    """text, label, x, y, z0..z{L-1}: one row per sentence, for a download button (formula-like
    text is escaped, see data.safe_cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "label", "x", "y"] + [f"z{i}" for i in range(mu.shape[1])])
    labels = labels if labels is not None else [""] * len(texts)
    for text, label, (x, y), z in zip(texts, labels, np.asarray(xy).tolist(), np.asarray(mu).tolist()):
        writer.writerow([safe_cell(text), safe_cell(label), f"{x:.5f}", f"{y:.5f}"] + [f"{v:.5f}" for v in z])
    return buffer.getvalue().encode("utf-8")
