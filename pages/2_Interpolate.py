"""Interpolate: walk from one sentence's code to another's, do arithmetic with codes, move a code by
the offset between two kinds of sentence, find the corpus sentences whose codes lie nearest to a
typed one, or walk one latent dimension at a time.

Controls on the left, the outcome on the right, so that on a projector (1280x720) it is in view.
"""

import streamlit as st

from ui.navigation import starting

st.set_page_config(page_title="Interpolate · Text VAE Explorer", page_icon="🧭", layout="wide")
st.title("Interpolate")
with starting():  # the title is drawn before PyTorch and the model are loaded
    from ui import common, dimensions, maps, offsets
    from ui.markdown import escape, highlighted, shortened
    from vae.decode import (
        InputError,
        arithmetic,
        code_decoding,
        interpolate,
        read_back_decoding,
        reads_back,
        reconstruct,
        sentence_ids,
        traversal_offsets,
        traverse,
        walk_origin,
    )
    from vae.neighbours import METRICS
    from vae.offsets import OFFSETS, apply_offset
trained = common.sidebar()
common.note_if_no_latent(trained)
controls, results = st.columns([2, 3], gap="large")

PATH, ARITHMETIC, OFFSET, NEIGHBOURS, DIMENSIONS = ("path", "arithmetic", "offsets", "nearest neighbours",
                                                    "latent dimensions")
MODES = {PATH: "from one sentence to another", ARITHMETIC: "a is to b as c is to ?",
         OFFSET: "statement → question, present → past, ...", NEIGHBOURS: "the closest sentences in a corpus",
         DIMENSIONS: "one latent dimension at a time"}


def checked(texts):
    """(token ids of each typed sentence, notices about them); stops the page on empty input."""
    try:
        checked_ids = [sentence_ids(trained, text) for text in texts.values()]
    except InputError as e:
        st.warning(str(e))
        st.stop()
    notices = [f"{label}: {note}" for label, (_, notes) in zip(texts, checked_ids) for note in notes]
    return [ids for ids, _ in checked_ids], notices


def show(notices):
    """The notices in one box, above the outcome: below it they would go unseen."""
    if notices:
        st.info("  \n".join(escape(notice) for notice in notices))


def typed_and_read_back(label, code, typed, read_back):
    """One end, side by side: what was typed (s) and what its posterior mean decodes to (z). A long
    text shows its first words, and the rest on demand, so that the outcome stays in view."""
    exact = reads_back(trained, typed, read_back)
    left, right = st.columns(2)
    left.markdown(f"**{label} typed:** {escape(shortened(typed))}")
    if shortened(typed) != typed:
        with left.expander(f"All {len(typed.split()):,} words"):
            st.markdown(escape(typed))
    right.markdown(f"**{code} reads back:** {escape(read_back)} "
                   + (":green-badge[:material/check: read back exactly]" if exact
                      else ":orange-badge[:material/warning: not what was typed]"))


with controls:
    # a select box, not five radio buttons with captions: on a projector (1280x720) those took the height
    # that each mode's own controls need to stay in view
    # (the options as they are, without a format_func: the URL keeps the shown text, and links say ?mode=path)
    mode = st.selectbox("Mode", list(MODES), **common.in_url("mode"),
                        help="; ".join(f"{name}: {what}" for name, what in MODES.items()))

if mode == PATH:
    with controls:
        between = common.decoded_how(trained.card, explain=True)
        ends = ("." if read_back_decoding(trained.card) == code_decoding(trained.card) else
                f"; the two ends are read back {common.decoded_how(trained.card, read_back=True)}.")
        st.caption("Encode two sentences to their posterior means, walk along a path between the two "
                   f"codes, and decode each point {between}{ends}")
        sentence_a = st.text_input("From", "I want to go home.",
                                   **common.in_url("sentence_a"))
        sentence_b = st.text_input("To", "Thank you for your help.", **common.in_url("sentence_b"))
        steps = st.slider("Steps (both ends included)", 3, 15, 8, **common.in_url("path_steps"))
        method = st.radio("Path", ["linear", "spherical"], horizontal=True, **common.in_url("path"),
                          help="linear: the straight line (1 − t)·z_a + t·z_b. spherical (slerp): the arc "
                               "between them, which stays where N(0, I) puts its mass instead of cutting "
                               "through the middle.")
    with results:
        _, notices = checked({"From": sentence_a, "To": sentence_b})
        show(notices)
        path = interpolate(trained, sentence_a, sentence_b, steps, method)
        st.subheader(f"The path, {len(path)} steps")
        typed_and_read_back("s₀", "z₀", sentence_a, path[0].text)
        previous = path[0].text
        for i, sample in enumerate(path):
            t = i / (len(path) - 1)
            st.markdown(f"`t = {t:.2f}` {highlighted(sample.text, previous) if i else escape(sample.text)}")
            previous = sample.text
        typed_and_read_back("s₁", "z₁", sentence_b, path[-1].text)
        st.caption("Highlighted: the words that changed from the step before. Each end is decoded from its "
                   "own posterior mean; when that differs from what was typed, the model cannot reproduce "
                   "the sentence, and the path starts or ends there.")

elif mode == ARITHMETIC:
    with controls:
        st.caption("Encode three sentences and decode z_c + (z_b − z_a): the change from a to b, "
                   "applied to c. It works where the model has learned to store that change in "
                   "one direction of the space.")
        sentence_a = st.text_input("a", "he is happy .", **common.in_url("sum_a"))
        sentence_b = st.text_input("b", "he is sad .", **common.in_url("sum_b"))
        sentence_c = st.text_input("c", "she was happy .", **common.in_url("sum_c"))
    with results:
        _, notices = checked({"a": sentence_a, "b": sentence_b, "c": sentence_c})
        show(notices)
        answer = arithmetic(trained, sentence_a, sentence_b, sentence_c)
        st.subheader("a is to b as c is to ?")
        st.markdown(f"### {escape(answer.text)}")
        st.caption(f"z_c + z_b − z_a, decoded {common.decoded_how(trained.card)}.")
        read_back = reconstruct(trained, [sentence_a, sentence_b, sentence_c])
        for label, typed, back in zip("abc", (sentence_a, sentence_b, sentence_c), read_back):
            typed_and_read_back(label, f"z_{label}", typed, back.text)

elif mode == OFFSET:
    with controls:
        st.caption("Encode a sentence and add to its code the mean difference between two kinds of "
                   "training sentence (e.g. the mean code of questions minus that of statements), then "
                   f"decode it {common.decoded_how(trained.card)}. Where the space is organised by meaning, "
                   "the sentence changes kind "
                   "and keeps the rest.")
        sentence = st.text_input("Sentence", "She is cooking dinner for her family.",
                                 **common.in_url("offset_sentence"))
        name = st.selectbox("Offset", list(OFFSETS), **common.in_url("offset"),
                            format_func=lambda key: f"{key}: {OFFSETS[key][0]}")
        # 2 by default: on the 20 test sentences, once moved too few of them to the other kind (vae/report.py)
        scale = st.slider("Strength", 0.0, 3.0, 2.0, step=0.25, **common.in_url("offset_strength"),
                          help="How far to move: 1 adds the offset once, 2 twice, 0 leaves the code where it is.")
    with results:
        _, notices = checked({"Sentence": sentence})
        show(notices)
        offset = offsets.offsets(trained)[name]
        moved = apply_offset(trained, sentence, offset, scale)
        st.subheader(name)
        st.markdown(f"### {escape(moved.text)}")
        st.caption(f"μ + {scale:g} × (mean code of one kind − mean code of the other), over "
                   f"{offsets.PER_KIND:,} training sentences of each kind, decoded {common.decoded_how(trained.card)}.")
        typed_and_read_back("s", "μ", sentence, reconstruct(trained, [sentence])[0].text)

elif mode == NEIGHBOURS:
    with controls:
        st.caption("Encode a sentence and list the corpus sentences whose posterior means lie "
                   "closest to its own.")
        probe = st.text_input("Sentence", "the old man walked home slowly .", **common.in_url("probe"))
        corpus_name = st.selectbox("Corpus", maps.shipped_corpus_names(), **common.in_url("corpus"))
        metric = st.radio("Distance", METRICS, horizontal=True, **common.in_url("metric"),
                          help="cosine: 1 − cos of the angle between the two codes (ignores how far from "
                               "the origin they lie); euclidean: the straight-line distance.")
        k = st.slider("Neighbours", 1, 20, 8, **common.in_url("neighbours"))
    with results:
        [ids], notices = checked({"Sentence": probe})
        show(notices)
        table = maps.nearest_table(trained, corpus_name, ids, k, metric)
        st.subheader(f"The {len(table)} nearest in {corpus_name}")
        st.table(table.style.format({"distance": "{:.3f}"}))
        st.caption(f"{metric} distance between posterior means, over the {corpus_name} corpus.")

else:
    latent = trained.model.config.latent_size
    with controls:
        st.caption("Encode a sentence and move its code z = μ along one latent dimension at a time: "
                   "z = μ + t·eᵢ, t from −3 to +3 standard deviations of the prior, each point decoded "
                   f"{common.decoded_how(trained.card)}. Which words change shows what the dimension stores.")
        # Home's "Try it" links here with ?mode=latent+dimensions&dims_sentence=...
        sentence = st.text_input("Sentence", "I want to go home.", **common.in_url("dims_sentence"))
        left, right = st.columns(2)
        top = left.number_input("Dimensions that change it most", 0, min(8, latent), min(3, latent),
                                **common.in_url("top_dims"),
                                help="Ranked by how many words of this sentence change along each dimension's walk "
                                     "(the dimensions' KL is in the list below the walks).")
        picked = right.number_input("Any dimension", 0, latent - 1, None, placeholder=f"0 to {latent - 1}",
                                    **common.in_url("dimension"), help="Any dimension, walked first.")
        steps = st.slider("Steps from −3 to +3", 3, 7, 5, step=2, **common.in_url("dimension_steps"))
    with results:
        _, notices = checked({"Sentence": sentence})
        show(notices)
        changes = dimensions.by_change(trained, sentence, steps)
        dims = [dim for dim, _ in changes[:top]]
        if picked is not None:
            dims = [picked] + [dim for dim in dims if dim != picked]
        if not dims:
            st.info("Choose how many dimensions to walk, or a dimension.")
            st.stop()
        st.subheader(f"{len(dims)} dimension{'s' * (len(dims) > 1)}, t from −3 to +3")
        reference = reconstruct(trained, [sentence])[0].text
        typed_and_read_back("s", "μ", sentence, reference)
        origin = walk_origin(trained, sentence)  # the walk's own decoding of μ: what its steps are compared with
        rows = traverse(trained, sentence, dims, steps)
        dimensions.show_grid(dimensions.table(rows, dims, traversal_offsets(steps), dict(changes), origin))
        ranked = dimensions.ranked_dimensions(trained)
        measure = dimensions.measure(trained)
        compared = ("what μ reads back" if origin == reference else
                    f"what μ itself decodes to {common.decoded_how(trained.card)}, as the walk is decoded: “{origin}”")
        st.caption(f"Beside each dimension: how many words its walk changes, over all its steps. Highlighted: the "
                   f"words that differ from {compared}. {dimensions.SAME} : the same sentence.")
        with st.expander(f"All {latent} dimensions by {measure}"):
            st.dataframe(dimensions.usage_table(ranked, trained), hide_index=True, height=250)
            uses = [use for _, use in ranked]
            if uses and max(uses) - min(uses) < 0.05 * max(max(uses), 1e-9):
                st.caption(f"Every dimension's {measure} is about the same ({min(uses):.2f} to {max(uses):.2f}): "
                           "free bits hold them all at their floor, so this ranking says little about what a "
                           "dimension stores. The walks above are ranked by what they change instead.")
