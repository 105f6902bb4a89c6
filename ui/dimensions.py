"""The Interpolate page's latent dimensions: which dimensions the model uses most (ranked once per
model over the validation split, and cached), and the grid of walks along them."""

import streamlit as st

from vae.data import parse_corpus
from vae.decode import dimensions_by_change
from vae.latent_map import bytes_fingerprint
from vae.metrics import rank_dimensions
from vae.paths import VALID_SPLIT

from .common import model_key
from .markdown import highlighted

SAME = "·"  # a cell that decodes to what mu itself does: blank-ish, so the changes stand out


@st.cache_data(max_entries=1, show_spinner=False)
def validation_split():
    """(the held-out sentences the dimensions are ranked over, a fingerprint of their bytes)."""
    data = VALID_SPLIT.read_bytes()
    return parse_corpus(data, VALID_SPLIT.name).texts, bytes_fingerprint(data)


@st.cache_data(max_entries=8, show_spinner="Ranking the latent dimensions...")
def _ranked(model: str, corpus: str, _trained, _texts) -> list:
    """rank_dimensions of the corpus `corpus` under the model `model` (the two fingerprints are the
    cache key; the underscored arguments are not hashed)."""
    return rank_dimensions(_trained, _texts)


def ranked_dimensions(trained) -> list[tuple[int, float]]:
    """[(dimension, use)], the most used first (vae.metrics.rank_dimensions over the validation split)."""
    texts, corpus_key = validation_split()
    return _ranked(model_key(trained), corpus_key, trained, texts)


def ranking_corpus() -> str:
    """The sentences the ranking is over, in words."""
    return f"the {len(validation_split()[0]):,} sentences of the validation split"


def measure(trained) -> str:
    """What rank_dimensions measures for this model."""
    return "Var(μ)" if trained.model.config.autoencoder else "KL"


@st.cache_data(max_entries=64, show_spinner="Walking every dimension of this sentence...")
def _by_change(model: str, text: str, steps: int, _trained) -> list:
    """vae.decode.dimensions_by_change for the model `model` (its fingerprint is the cache key)."""
    return dimensions_by_change(_trained, text, steps)


def by_change(trained, text, steps) -> list[tuple[int, int]]:
    """[(dimension, words changed along its walk)], the one that changes this sentence most first."""
    return _by_change(model_key(trained), text, steps, trained)


def table(rows, dims, offsets, changes: dict, reference: str) -> str:
    """A Markdown table, one line per step of each dimension's walk: the dimension (and how many words
    its walk changes) on its first line, t, and the sentence decoded there with the words that differ
    from `reference` (what mu decodes to) marked, or SAME where nothing differs. t = 0 is mu itself,
    shown above the table, so it is left out: each sentence gets the column's whole width, and on a
    projector it fits on a line or two."""
    lines = ["| z | t | decoded |", "| --- | --- | --- |"]
    for dim, row in zip(dims, rows):
        first = True
        for t, sample in zip(offsets, row):
            if not round(t, 6):
                continue
            label = f"**z{dim}** · {changes.get(dim, 0)} words" if first else ""
            cell = SAME if sample.text == reference else highlighted(sample.text, reference, "orange-background")
            lines.append(f"| {label} | {t:+g} | {cell} |")
            first = False
    return "\n".join(lines)


# the walks' table in the results column: the dimension's label kept on one line
GRID_STYLE = """<style>
.st-key-dimension_grid table {width: 100%; line-height: 1.2; margin-bottom: 0.25rem;}
.st-key-dimension_grid th, .st-key-dimension_grid td {padding: 0.05rem 0.4rem;}
.st-key-dimension_grid td:first-child, .st-key-dimension_grid td:nth-child(2) {white-space: nowrap;}
.st-key-dimension_grid td span {padding-left: 0.1em; padding-right: 0.1em;}
</style>"""


def show_grid(markdown: str):
    with st.container(key="dimension_grid"):
        st.html(GRID_STYLE)
        st.markdown(markdown)


def usage_table(ranked, trained):
    """Every dimension and its use, most used first (for the expander)."""
    return {"dimension": [f"z{dim}" for dim, _ in ranked], measure(trained): [round(use, 3) for _, use in ranked]}

