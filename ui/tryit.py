"""Home's "Try it" box: one typed sentence, what the model reads back, its bits, its neighbours
among training sentences, and links that open the other pages with it filled in.

The neighbours are searched among the 3,000 training sentences of the sentence-kinds map, whose
codes are precomputed for the shipped model (scripts/precompute_maps.py): encoding the whole
training split would take a server half a minute.
"""

import streamlit as st

from vae.compression import sentence_bits
from vae.decode import InputError, reads_back, reconstruct, sentence_ids

from . import maps
from .common import model_key
from .markdown import escape, shortened
from .navigation import TYPED

DEFAULT_SENTENCE = "My friend is coming to dinner tonight."
NEIGHBOUR_CORPUS = "sentence_kinds"  # drawn from the training split

# (page, label, its widgets' values): the pages keep their settings in the URL; None = the sentence
LINKS = [("pages/2_Interpolate.py", "Walk to another sentence", {"sentence_a": None}),
         ("pages/1_Sample.py", "Sample sentences near it", {"source": "near a sentence", "near": None}),
         ("pages/3_Latent_map.py", "Place it on the latent map", {"probe": None}),
         ("pages/2_Interpolate.py", "Walk its latent dimensions", {"mode": "latent dimensions", "dims_sentence": None})]


# The typed sentence travels in the URL (?try=...), so that a link or a reload shows it again. It is
# kept by hand, not with bind="query-params": a bound parameter cannot be removed, and a click on one
# of the links below while Home was still rerunning carried it into the next page's URL.
LAST_TYPED = "try_last"  # outlives the text box, which Streamlit forgets while another page is open


def typed_sentence() -> str:
    """What the box shows when it is drawn anew: the last sentence typed in this session, else the
    link's, else the default."""
    return st.session_state.get(LAST_TYPED) or st.query_params.get(TYPED) or DEFAULT_SENTENCE


def keep_typed(text):
    st.session_state[LAST_TYPED] = text
    if text == DEFAULT_SENTENCE:
        st.query_params.pop(TYPED, None)
    elif st.query_params.get(TYPED) != text:
        st.query_params[TYPED] = text


def as_bits(value) -> str:
    return "n/a" if value is None else f"{value:,.0f}"  # an autoencoder has no rate or ELBO


@st.cache_data(max_entries=64, show_spinner=False)
def _outcome(model: str, text: str, _trained, _ids) -> tuple:
    """(read-back, bits, neighbours' table) of `text` (its word ids `_ids`) under the model whose
    fingerprint is `model` (the underscored arguments are not hashed): Home reruns on every widget
    of the page and every visit, and the bits' 100 importance samples alone take ~0.2 s on a CPU."""
    return (reconstruct(_trained, [text])[0].text, sentence_bits(_trained, text),
            maps.nearest_table(_trained, NEIGHBOUR_CORPUS, _ids, k=5, metric="cosine"))


def show(trained):
    typed_column, outcome = st.columns([2, 3], gap="large")
    with typed_column:
        text = st.text_input("Type a sentence", typed_sentence(), key=TYPED,
                             help="Everyday English reads back best: the model learned from 466k "
                                  "sentences of the Tatoeba Project.")
        keep_typed(text)
    try:
        ids, notes = sentence_ids(trained, text)
    except InputError as e:
        typed_column.warning(str(e))
        return
    read_back, bits, table = _outcome(model_key(trained), text, trained, ids)
    with typed_column:
        for note in notes:
            st.caption(note)
        exact = reads_back(trained, text, read_back)
        st.markdown(f"**You typed:** {escape(shortened(text))}")
        if shortened(text) != text:
            with st.expander("The whole sentence"):
                st.markdown(escape(text))
        st.markdown(f"**The model reads back:** {escape(read_back)} "
                    + (":green-badge[:material/check: exactly]" if exact
                       else ":orange-badge[:material/warning: not what was typed]"))
        st.markdown("**Its size in bits**, the VAE's against gzip's:")
        rate, nelbo, gzip_bits = st.columns(3)
        rate.metric("Rate (KL)", as_bits(bits["rate_bits"]),
                    help="How much the code z holds about this sentence: KL(q(z|x) ‖ p(z)) in bits.")
        nelbo.metric("−ELBO", as_bits(bits["neg_elbo_bits"]),
                     help="Rate + distortion (−log p(x|z)): what bits-back coding with this VAE would "
                          "spend on the sentence (Hinton & van Camp 1993; Townsend et al. 2019).")
        gzip_bits.metric("gzip", as_bits(bits["gzip_bits"]),
                         help="gzip's size of the same text (UTF-8, as the model reads it), header included.")
    with outcome:
        st.markdown(f"**Its 5 nearest neighbours** among {len(maps.shipped_corpus(NEIGHBOUR_CORPUS)[0].texts):,} "
                    "training sentences (cosine distance between posterior means)")
        st.table(table.style.format({"distance": "{:.3f}"}))
        st.markdown("**Take it further** with this sentence:")
        columns = st.columns(2)
        for n, (page, label, params) in enumerate(LINKS):
            columns[n % 2].page_link(page, label=label, icon=":material/arrow_forward:",
                                     query_params={key: value or text for key, value in params.items()})
