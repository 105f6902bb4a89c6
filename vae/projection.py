"""2-D pictures of latent codes: PCA (instant) and UMAP (slow the first time).

Both are fitted on a corpus's posterior means and keep what they learnt, so that a new sentence
can be placed on the same picture with `transform`. UMAP is imported only when it is used: the
first `import umap` in a fresh environment compiles numba code for about ten seconds.
"""

import warnings

import numpy as np

METHODS = ("pca", "umap")
# umap-learn finds exact neighbours below 4,096 points and approximate ones (pynndescent) above: a
# warm-up must take the path that a 5,000-sentence map takes
WARM_UP_POINTS = 4_200
# Layout epochs. umap-learn's own default is 500 below 10,000 points and 200 above; the layout is
# 97% of a 5,000-point fit (7.9 s at 500 epochs, 3.1 s at 200, measured here), and 200 epochs
# already give the clusters a map shows.
N_EPOCHS = 200


class PCA:
    """scikit-learn's PCA (exact SVD; its sign convention makes each axis's largest loading
    positive, so the same data gives the same picture on every machine), padded with zero axes
    when the codes have fewer dimensions than components (a 1-D latent)."""

    def __init__(self, n_components=2):
        self.n_components = n_components

    def fit(self, x):
        from sklearn.decomposition import PCA as SklearnPCA  # lazy: the app imports this module early

        x = np.asarray(x, dtype=np.float64)  # (N, D)
        if len(x) < 2:
            raise ValueError("PCA needs at least 2 points")
        with warnings.catch_warnings():  # codes that do not vary (the LM baseline's) have no variance to share out
            warnings.simplefilter("ignore", RuntimeWarning)
            self.pca = SklearnPCA(min(self.n_components, x.shape[1]), svd_solver="full").fit(x)
        pad = self.n_components - self.pca.n_components_
        self.components = np.vstack([self.pca.components_, np.zeros((pad, x.shape[1]))])  # (n_components, D)
        ratio = np.nan_to_num(self.pca.explained_variance_ratio_)
        self.explained_variance_ratio = np.concatenate([ratio, np.zeros(pad)])
        return self

    def transform(self, x):
        """(N, D) -> (N, n_components), with the mean and axes learnt in `fit`."""
        return (np.asarray(x, dtype=np.float64) - self.pca.mean_) @ self.components.T

    def fit_transform(self, x):
        return self.fit(x).transform(x)


class UMAP:
    """umap-learn's UMAP (McInnes et al. 2018) with a fixed seed, so a map can be reproduced."""

    def __init__(self, n_neighbors=15, min_dist=0.1, seed=0, n_epochs=N_EPOCHS):
        self.n_neighbors, self.min_dist, self.seed, self.n_epochs = n_neighbors, min_dist, seed, n_epochs

    def fit(self, x):
        with warnings.catch_warnings():  # lazy: slow to import (numba), and only needed when asked for
            # umap-learn warns at import that its parametric variant needs TensorFlow; it is not used
            warnings.filterwarnings("ignore", message=".*parametric_umap.*Tensorflow")
            import umap

        x = np.asarray(x, dtype=np.float32)
        if len(x) < 4:
            raise ValueError("UMAP needs at least 4 points")
        # a neighbourhood cannot be larger than the data; tiny data sets get a random start because
        # the spectral initialisation needs more points than it has
        n_neighbors = max(2, min(self.n_neighbors, len(x) - 1))
        self.reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=self.min_dist, n_components=2,
                                 n_epochs=self.n_epochs, random_state=self.seed,
                                 init="spectral" if len(x) > 20 else "random")
        with warnings.catch_warnings():
            # "n_jobs overridden to 1 by setting random_state": that is the point of the seed
            warnings.simplefilter("ignore")
            self.embedding = self.reducer.fit_transform(x)  # (N, 2)
        return self

    def transform(self, x):
        """Place new points (N, D) on the fitted map (umap-learn's own out-of-sample transform)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.reducer.transform(np.asarray(x, dtype=np.float32))

    def fit_transform(self, x):
        return self.fit(x).embedding


def project(x, method="pca", n_neighbors=15, min_dist=0.1, seed=0):
    """Fit a projection on (N, D) codes: (coordinates (N, 2), the fitted projector, whose
    `transform` places new codes on the same picture). `n_neighbors`, `min_dist`: UMAP only."""
    if method == "pca":
        projector = PCA(2).fit(x)
        return projector.transform(x), projector
    if method == "umap":
        projector = UMAP(n_neighbors, min_dist, seed).fit(x)
        return projector.embedding, projector
    raise ValueError(f"method must be one of {METHODS}, not {method!r}")


def warm_up(points=WARM_UP_POINTS, dims=32, seed=0):
    """Fit and apply UMAP once on random codes, so that numba compiles what a real map needs
    (neighbours, spectral start, layout, transform); the next fit in this process then costs only
    its own work. A few layout epochs compile the same code as many. Returns the seconds it took
    (tens on a fresh process, about one once compiled)."""
    import time

    start = time.perf_counter()
    x = np.random.default_rng(seed).normal(size=(points, dims)).astype(np.float32)
    UMAP(seed=seed, n_epochs=10).fit(x).transform(x[:8])
    return time.perf_counter() - start
