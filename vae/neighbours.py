"""Nearest neighbours in the latent space: which corpus sentences sit closest to a typed one.

Sentences are compared by their posterior means mu (the centre of q(z|x)), either by Euclidean
distance or by cosine distance (1 - cosine similarity: it ignores how far from the origin a code
lies, only its direction).
"""

import numpy as np

METRICS = ("cosine", "euclidean")


def distances(mu: np.ndarray, z: np.ndarray, metric="euclidean") -> np.ndarray:
    """Distance (N,) from each row of mu (N, latent) to one code z (latent,)."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, not {metric!r}")
    if metric == "euclidean":
        return np.linalg.norm(mu - z[None], axis=1)
    norms = np.linalg.norm(mu, axis=1) * np.linalg.norm(z)
    return 1.0 - (mu @ z) / np.maximum(norms, 1e-12)  # a zero code counts as orthogonal to all


def nearest(mu: np.ndarray, z: np.ndarray, k=5, metric="euclidean"):
    """(indices of the k rows of mu closest to z, closest first; distances (N,) to every row)."""
    d = distances(mu, z, metric)
    return np.argsort(d, kind="stable")[:k], d
