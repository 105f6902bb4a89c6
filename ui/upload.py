"""The one way the app takes a user's corpus: a file uploader with the app's limits and messages.

The Latent map and Train pages both call `corpus_uploader()`. The file is parsed as text (TXT, CSV or
TSV, vae.data.parse_corpus), never unpickled.
"""

from dataclasses import dataclass

import streamlit as st

from vae.data import Corpus, CorpusError, parse_corpus, size_text
from vae.latent_map import bytes_fingerprint

MAX_ROWS = 5_000  # an upload is encoded while the user waits: keep it to seconds
MAX_BYTES = 2_000_000  # .streamlit/config.toml's server.maxUploadSize stops bigger files before they arrive


@dataclass
class Upload:
    corpus: Corpus
    key: str  # fingerprint of the file's bytes: what caches of its encodings are keyed by
    name: str


def corpus_uploader(container=st, labels=True, disabled=False) -> Upload | None:
    """Draw the uploader in `container`; the parsed file, or None while there is none or it is
    unusable (then the reason is shown). `labels`: whether the page uses a `label` column."""
    label_column = " and an optional `label`" if labels else ""
    uploaded = container.file_uploader(
        f"TXT (one sentence per line) or CSV/TSV with a `text`{label_column} column; at most "
        f"{MAX_ROWS:,} sentences and {MAX_BYTES / 1e6:.0f} MB", type=["txt", "csv", "tsv"], disabled=disabled)
    if uploaded is None:
        return None
    try:
        return read_upload(uploaded)
    except CorpusError as e:
        container.error(f"This file cannot be used: {e}")
        return None


def read_upload(uploaded) -> Upload:
    """Raises CorpusError with a message for the user (too big, malformed, no text column)."""
    if uploaded.size > MAX_BYTES:
        raise CorpusError(f"{uploaded.name} is {size_text(uploaded.size)}; the limit is {size_text(MAX_BYTES)}. "
                          f"Upload at most {MAX_ROWS:,} sentences.")
    data = uploaded.getvalue()
    return Upload(_parse(data, uploaded.name), bytes_fingerprint(data), uploaded.name)


@st.cache_data(max_entries=8, show_spinner=False)
def _parse(data: bytes, name: str) -> Corpus:
    return parse_corpus(data, name, max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
