"""PCA and UMAP projections of latent codes (vae/projection.py)."""

import numpy as np
import pytest

from vae.projection import PCA, project


def blobs(seed=0, per_blob=30, dims=8):
    """Three well separated clusters in `dims` dimensions, and their cluster ids."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 6, size=(3, dims))
    x = np.concatenate([c + rng.normal(0, 0.3, size=(per_blob, dims)) for c in centres])
    return x.astype(np.float32), np.repeat(np.arange(3), per_blob)


def test_pca_finds_the_direction_of_largest_variance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3)) * np.array([10.0, 1.0, 0.1])
    pca = PCA().fit(x)
    assert abs(pca.components[0] @ np.array([1.0, 0, 0])) > 0.99
    assert pca.explained_variance_ratio[0] > 0.95


def test_pca_transform_places_new_points_on_the_same_axes():
    x, _ = blobs()
    xy, pca = project(x, "pca")
    assert xy.shape == (len(x), 2)
    np.testing.assert_allclose(pca.transform(x[:5]), xy[:5], atol=1e-9)


def test_pca_picture_does_not_flip_when_the_data_is_shuffled():
    x, _ = blobs()
    order = np.random.default_rng(1).permutation(len(x))
    xy, _ = project(x, "pca")
    xy_shuffled, _ = project(x[order], "pca")
    np.testing.assert_allclose(xy_shuffled, xy[order], atol=1e-6)


def test_pca_needs_two_points_and_pads_a_one_dimensional_latent():
    with pytest.raises(ValueError):
        PCA().fit(np.zeros((1, 4)))
    xy, _ = project(np.arange(5.0)[:, None], "pca")
    assert xy.shape == (5, 2) and np.all(xy[:, 1] == 0)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method"):
        project(np.zeros((5, 2)), "tsne")


def test_umap_separates_clusters_reproducibly_and_places_new_points_near_their_cluster():
    x, cluster = blobs()
    xy, reducer = project(x, "umap", n_neighbors=10, min_dist=0.1, seed=0)
    again, _ = project(x, "umap", n_neighbors=10, min_dist=0.1, seed=0)
    np.testing.assert_allclose(xy, again)  # same seed, same map
    centres = np.stack([xy[cluster == c].mean(0) for c in range(3)])
    spread = max(np.linalg.norm(xy[cluster == c] - centres[c], axis=1).max() for c in range(3))
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a, b in ((0, 1), (0, 2), (1, 2))]
    assert min(gaps) > spread  # every cluster is apart from the others
    new = reducer.transform(x[cluster == 2][:3] + 0.05)
    assert np.all(np.linalg.norm(new - centres[2], axis=1) < min(gaps) / 2)
