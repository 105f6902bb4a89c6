"""The Interpolate page's latent dimensions: which dimensions the model uses most (ranked once per
model over the validation split, and cached), and the grid of walks along them."""

import streamlit as st

from vae.data import parse_corpus
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


def grid(rows, dims, offsets, use: dict, reference: str) -> str:
    """A Markdown table: a row per dimension (with its use), a column per t, and in each cell the
    sentence decoded there, its words that differ from `reference` (what mu decodes to) marked,
    or SAME where nothing differs. A column of SAME stays narrow, so the changes get the width."""
    header = "| z \\ t | " + " | ".join(f"{t:+g}" if round(t, 6) else "0" for t in offsets) + " |"
    lines = [header, "|" + " --- |" * (len(offsets) + 1)]
    for dim, row in zip(dims, rows):
        cells = [SAME if s.text == reference else highlighted(s.text, reference, "orange-background") for s in row]
        label = f"**z{dim}**" + (f" {use[dim]:.2f}" if dim in use else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# columns of sentences in the results column: smaller text and padding than a page's tables, and
# words that may break, so that the table never grows wider than its column
GRID_STYLE = """<style>
.st-key-dimension_grid table {width: 100%; font-size: 0.78rem; line-height: 1.3; overflow-wrap: anywhere;
                              margin-bottom: 0.25rem;}
.st-key-dimension_grid th, .st-key-dimension_grid td {padding: 0.15rem 0.3rem;}
.st-key-dimension_grid th, .st-key-dimension_grid td:first-child {white-space: nowrap; overflow-wrap: normal;}
.st-key-dimension_grid td span {padding-left: 0.1em; padding-right: 0.1em;}
</style>"""


def show_grid(markdown: str):
    with st.container(key="dimension_grid"):
        st.html(GRID_STYLE)
        st.markdown(markdown)


def usage_table(ranked, trained):
    """Every dimension and its use, most used first (for the expander)."""
    return {"dimension": [f"z{dim}" for dim, _ in ranked], measure(trained): [round(use, 3) for _, use in ranked]}

