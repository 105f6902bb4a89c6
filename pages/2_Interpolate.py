"""Interpolate: walk from one sentence's code to another's and read the sentences on the way."""

import re

import streamlit as st

from ui import common
from vae.decode import InputError, interpolate, sentence_ids
from vae.word_diff import changed_words

st.set_page_config(page_title="Interpolate · Text VAE Explorer", page_icon="🧭")
st.title("Interpolate")
trained = common.sidebar()
common.note_if_no_latent(trained)
st.markdown("Encode two sentences to their posterior means, walk along a path between the two "
            "codes, and decode each point greedily (the likeliest word at every step).")


def escape(word):
    """Markdown-safe: a word like `*` or `[1]` must show as itself."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>$~:])", r"\\\1", word)


def highlighted(text, previous):
    """The sentence with the words that changed since the previous step as orange badges."""
    return " ".join(f":orange-badge[{escape(w)}]" if changed else escape(w)
                    for w, changed in changed_words(previous, text))


sentence_a = st.text_input("From", "i have never seen such a beautiful place .", **common.in_url("sentence_a"))
sentence_b = st.text_input("To", "he did not say a word to anyone .", **common.in_url("sentence_b"))
steps = st.slider("Steps (both ends included)", 3, 15, 8, **common.in_url("path_steps"))
method = st.radio("Path", ["linear", "spherical"], horizontal=True, **common.in_url("path"),
                  help="linear: the straight line (1 − t)·z_a + t·z_b. spherical (slerp): the arc "
                       "between them, which stays where N(0, I) puts its mass instead of cutting "
                       "through the middle.")

try:
    ids_a, notes_a = sentence_ids(trained, sentence_a)
    ids_b, notes_b = sentence_ids(trained, sentence_b)
except InputError as e:
    st.warning(str(e))
    st.stop()
for label, note in [("From", n) for n in notes_a] + [("To", n) for n in notes_b]:
    st.info(f"{label}: {note}")

path = interpolate(trained, sentence_a, sentence_b, steps, method)

st.subheader("The ends: what the model reads back")
st.caption("Each end decoded from its own posterior mean. When this differs from what you typed, "
           "the model cannot reproduce the sentence, and the path starts and ends there.")
for label, ids, end in (("From", ids_a, path[0]), ("To", ids_b, path[-1])):
    exact = trained.tokenizer.encode(end.text) == ids
    st.markdown(f"**{label}:** {escape(end.text)} " + (":green-badge[:material/check: read back exactly]" if exact
                                                       else ":orange-badge[:material/warning: not what was typed]"))

st.subheader(f"The path, {len(path)} steps")
previous = path[0].text
for i, sample in enumerate(path):
    t = i / (len(path) - 1)
    st.markdown(f"`t = {t:.2f}` {highlighted(sample.text, previous) if i else escape(sample.text)}")
    previous = sample.text
st.caption("Highlighted: the words that changed from the step before.")
