"""The Latent map page's heavy lifting, cached so that a rerun never redoes it.

Encodings are cached by (model weights, corpus bytes); projections by those plus the method and
its settings. A shipped corpus with the shipped model needs neither: its map was precomputed
(scripts/precompute_maps.py) and is read from the model folder.
"""

import html
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from vae.data import Corpus, parse_corpus
from vae.decode import encode_ids, encode_texts, sentence_ids
from vae.latent_map import bytes_fingerprint, load_map, map_path
from vae.neighbours import nearest
from vae.paths import CORPORA
from vae.projection import N_EPOCHS, project

from . import warmup
from .common import model_key, shipped_folder
from .markdown import escape

SHIPPED_CORPORA = {  # name -> what its labels are
    "sentence_kinds": "kind of sentence: question, negation, statement, exclamation",
    "by_source": "source: bible, fortunes, novels, wordnet",
    "by_author": "novelist: Austen, Dickens, Verne, Wells",
    "wordnet_topics": "WordNet topic of an example sentence",
    "bible_books": "group of books of the King James Bible",
}


@dataclass
class LatentMap:
    mu: np.ndarray  # (N, latent) posterior means
    xy: np.ndarray  # (N, 2)
    projector: object | None  # fitted PCA/UMAP (None while a precomputed UMAP map is shown)
    precomputed: bool


# corpora -> (Corpus, fingerprint of its bytes)


@st.cache_data(max_entries=8, show_spinner=False)
def shipped_corpus(name: str):
    data = (CORPORA / f"{name}.csv").read_bytes()
    return parse_corpus(data, f"{name}.csv"), bytes_fingerprint(data)


# corpus -> codes -> 2-D


@st.cache_data(max_entries=16, show_spinner=False)
def encoded(model: str, corpus: str, _trained, _texts) -> np.ndarray:
    """Posterior means (N, latent) of the corpus `corpus` under the model `model` (the two
    fingerprints are the cache key; the underscored arguments are not hashed)."""
    bar = st.progress(0.0, text=f"Encoding {len(_texts):,} sentences...")
    mu = encode_texts(_trained, _texts,
                      progress=lambda done, total: bar.progress(done / total, text=f"Encoded {done:,} of {total:,}"))
    bar.empty()
    return mu.numpy()


@st.cache_resource(max_entries=16, show_spinner="Projecting to 2-D (on a fresh server, UMAP's first fit "
                                                "compiles code with numba and can take a minute)...")
def projected(model: str, corpus: str, method: str, n_neighbors: int, min_dist: float, _mu):
    """(xy, fitted projector), shared read-only across sessions (a UMAP object is not worth
    pickling on every rerun, which st.cache_data would do)."""
    return project(_mu, method, n_neighbors, min_dist)


@st.cache_data(max_entries=8, show_spinner=False)
def precomputed(model: str, corpus: str, path: str):
    return load_map(path, weights=model, corpus=corpus)


def latent_map(trained, corpus: Corpus, corpus_key: str, corpus_name: str | None, method: str,
               n_neighbors=15, min_dist=0.1) -> LatentMap:
    """The map of `corpus` (`corpus_name` names a shipped corpus, None for an upload)."""
    key = model_key(trained)
    saved = None
    if corpus_name is not None:
        saved = precomputed(key, corpus_key, str(map_path(shipped_folder(), corpus_name)))
    mu = saved["mu"] if saved is not None else encoded(key, corpus_key, trained, corpus.texts)
    # a refit must reproduce the saved coordinates (to place a typed sentence): same settings only
    if (method == "umap" and saved is not None
            and (saved["n_neighbors"], saved["min_dist"], saved["n_epochs"]) == (n_neighbors, min_dist, N_EPOCHS)):
        return LatentMap(mu, saved["umap"], None, True)
    if method == "umap":
        warmup.wait_for_umap()  # shows the warm-up's progress if a fresh server is still compiling
    xy, projector = projected(key, corpus_key, method, n_neighbors, min_dist, mu)
    return LatentMap(mu, xy, projector, saved is not None)


def codes(trained, corpus: Corpus, corpus_key: str, corpus_name: str | None) -> np.ndarray:
    """Posterior means (N, latent) of a corpus: precomputed for a shipped corpus under the shipped
    model, else encoded once and cached."""
    key = model_key(trained)
    if corpus_name is not None:
        saved = precomputed(key, corpus_key, str(map_path(shipped_folder(), corpus_name)))
        if saved is not None:
            return saved["mu"]
    return encoded(key, corpus_key, trained, corpus.texts)


# Okabe & Ito's colour-blind-safe qualitative palette (2008), in an order that keeps the first four
# far apart; the yellow and black come last. With more labels than colours, markers change shape too.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "cross"]


def selected_rows(selection) -> list[int]:
    """Corpus rows of the points picked with the box or lasso, in corpus order. Each map point
    carries its row as customdata[1]; the star of a typed sentence carries none and is skipped."""
    rows = {point["customdata"][1] for point in (selection or {}).get("points", [])
            if len(point.get("customdata") or []) > 1}
    return sorted(int(row) for row in rows)


def shipped_corpus_names():
    return [name for name in SHIPPED_CORPORA if (CORPORA / f"{name}.csv").is_file()]


# a typed sentence on the map


@dataclass
class Placed:
    """Where a typed sentence lands: its 2-D point and its nearest corpus rows."""

    view: LatentMap  # the map, now with a fitted projector
    xy: np.ndarray  # (2,)
    neighbours: list  # corpus rows, nearest first
    distances: np.ndarray  # (N,) distance of every corpus row
    notes: list  # what the tokenizer had to say (unknown words)


PLACE_AMONG = 5  # neighbours whose map points place a sentence on a map that has no fitted transform


def place_sentence(trained, view: LatentMap, corpus_key: str, text: str, n_neighbors=15, min_dist=0.1) -> Placed:
    """Encode `text`, place it on the map and find its neighbours among the corpus's posterior means.
    A map with a fitted projector (PCA, or a UMAP fitted here) projects the code; a precomputed UMAP map
    places it at the distance-weighted mean of its PLACE_AMONG nearest neighbours' points, at once,
    instead of fitting UMAP on the whole corpus first (9-15 s on a shipped corpus, over a minute on a
    busy fresh server), and says so. Raises InputError for text the model cannot read."""
    ids, notes = sentence_ids(trained, text)
    z = encode_ids(trained, [ids])[0].numpy()  # (1, latent)
    neighbours, distances = nearest(view.mu, z[0])
    if view.projector is not None:
        return Placed(view, view.projector.transform(z)[0], neighbours, distances, notes)
    closest = np.asarray(neighbours[:PLACE_AMONG])
    weights = 1.0 / np.maximum(distances[closest], 1e-9)
    xy = (view.xy[closest] * weights[:, None]).sum(axis=0) / weights.sum()
    notes = [*notes, f"Placed among its {len(closest)} nearest neighbours' points: UMAP's own transform of a new "
                     "sentence would first fit UMAP on the whole corpus, which takes a while."]
    return Placed(view, xy, neighbours, distances, notes)


def point_labels(corpus: Corpus) -> list:
    return [label or "(no label)" for label in corpus.labels or [""] * len(corpus.texts)]


def map_figure(corpus: Corpus, view: LatentMap, method: str, label_title: str, placed: Placed | None = None,
               typed: str = ""):
    """The scatter plot: a point per sentence (its row in customdata, for selections), coloured by
    label, and a star where the typed sentence lands."""
    import plotly.express as px  # here: Home uses this module for neighbours, not for charts (first page)

    labels = point_labels(corpus)
    points = pd.DataFrame({"x": view.xy[:, 0], "y": view.xy[:, 1], "label": labels, "row": range(len(labels)),
                           "sentence": ["<br>".join(textwrap.wrap(html.escape(t), 60)) for t in corpus.texts]})
    many = len(set(labels)) > len(PALETTE)  # then colours repeat, and shapes tell those labels apart
    figure = px.scatter(points, x="x", y="y", color="label", symbol="label" if many else None,
                        custom_data=["sentence", "row"], render_mode="svg", height=500,
                        color_discrete_sequence=PALETTE, symbol_sequence=SYMBOLS,
                        labels={"x": f"{method.upper()} 1", "y": f"{method.upper()} 2", "label": label_title})
    figure.update_traces(marker=dict(size=5, opacity=0.7),
                         hovertemplate="%{customdata[0]}<extra>%{fullData.name}</extra>")
    if placed is not None:
        # the typed text goes in as data, escaped: "%{...}" or "<b>" in it must show as typed
        figure.add_scatter(x=[placed.xy[0]], y=[placed.xy[1]], mode="markers", name="your sentence",
                           marker=dict(symbol="star", size=20, color="black", line=dict(width=1, color="white")),
                           text=[html.escape(textwrap.shorten(typed, 80))],
                           hovertemplate="%{text}<extra>your sentence</extra>")
    figure.update_layout(dragmode="select", legend=dict(itemsizing="constant"))  # a drag selects a box
    return figure


def rows_table(corpus: Corpus, rows, distances, index=None) -> pd.DataFrame:
    """Corpus rows as a table of sentence, label and distance (`distances` indexed by row)."""
    labels = point_labels(corpus)
    return pd.DataFrame({"sentence": [corpus.texts[i] for i in rows], "label": [labels[i] for i in rows],
                         "distance": [float(distances[i]) for i in rows]}, index=index)


def neighbours_table(corpus: Corpus, placed: Placed) -> pd.DataFrame:
    return rows_table(corpus, placed.neighbours, placed.distances)


def neighbours_column(table: pd.DataFrame) -> pd.DataFrame:
    """The neighbours as one Markdown column, the label and distance in small grey type after each
    sentence: beside the map (a third of 1280 px) three columns left the sentences 1-2 words a line."""
    cells = [f"{escape(sentence)} :gray[:small[{escape(label)} · {distance:.2f}]]"
             for sentence, label, distance in zip(table["sentence"], table["label"], table["distance"])]
    return pd.DataFrame({"nearest sentences (label · distance)": cells})


def selection_table(corpus: Corpus, selection) -> pd.DataFrame:
    """The sentences picked with the box or lasso (none for an empty selection)."""
    labels = point_labels(corpus)
    rows = [row for row in selected_rows(selection) if row < len(corpus.texts)]
    return pd.DataFrame({"sentence": [corpus.texts[i] for i in rows], "label": [labels[i] for i in rows]})


def nearest_table(trained, corpus_name: str, ids, k=8, metric="cosine") -> pd.DataFrame:
    """The k corpus sentences whose posterior means lie nearest to the code of `ids` (a typed
    sentence's token ids), numbered from 1, with their labels and distances."""
    corpus, corpus_key = shipped_corpus(corpus_name)
    mu = codes(trained, corpus, corpus_key, corpus_name)
    order, distances = nearest(mu, encode_ids(trained, [ids])[0][0].numpy(), k, metric)
    return rows_table(corpus, order, distances, index=pd.RangeIndex(1, len(order) + 1))


def label_title(corpus_name: str | None) -> str:
    """What a shipped corpus's labels are (its legend's title); "label" for an upload."""
    return SHIPPED_CORPORA[corpus_name].split(":")[0] if corpus_name else "label"
