"""The Interpolate page's offsets between kinds of sentence, fitted once per model over the training
split and cached (vae/offsets.py)."""

import streamlit as st
import torch

from vae.data import read_corpus
from vae.offsets import fit_offsets
from vae.paths import CORPORA

from .common import model_key

PER_KIND = 2_000  # sentences of each kind: the mean moves by less than 1% of its length beyond this


@st.cache_data(max_entries=4, show_spinner="Measuring the offsets between kinds of sentence (once per model)...")
def _offsets(model: str, _trained) -> dict:
    """fit_offsets over the training split for the model `model` (its fingerprint is the cache key)."""
    texts = read_corpus(CORPORA / "train.txt.gz").texts
    return {name: offset.tolist() for name, offset in fit_offsets(_trained, texts, PER_KIND).items()}


def offsets(trained) -> dict[str, torch.Tensor]:
    return {name: torch.tensor(values) for name, values in _offsets(model_key(trained), trained).items()}
