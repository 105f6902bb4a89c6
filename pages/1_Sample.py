"""Sample: decode sentences from z ~ p(z), or from codes around one sentence's posterior.

Controls on the left, sentences on the right: on a projector (1280x720) the result of every
change is in view without scrolling.
"""

import streamlit as st

from ui.navigation import starting

st.set_page_config(page_title="Sample · Text VAE Explorer", page_icon="🎲", layout="wide")
st.title("Sample")
with starting():  # the title is drawn before PyTorch and the model are loaded
    import pandas as pd

    from ui import common
    from vae.decode import (
        MAX_BEAM_WIDTH,
        STRATEGIES,
        InputError,
        default_sample_settings,
        sample_near,
        sample_prior,
        sentence_ids,
    )
    from vae.metrics import num_words
trained = common.sidebar()
defaults = default_sample_settings(trained)  # the defaults measured for this model (its card may set them)
controls, results = st.columns([2, 3], gap="large")

PRIOR, NEAR = "the prior", "near a sentence"
NORMAL, MIXTURE = "N(0, I) prior", "mixture fitted to training codes"
with controls:
    st.caption("Draw codes z and let the decoder write a sentence for each, one word at a time.")
    # the button a class presses most and the count first, then two sliders to a row: on a projector
    # (1280x720) every control that changes the sentences is in view beside them
    button, how_many = st.columns(2, vertical_alignment="bottom")
    button.button("New sentences", type="primary", on_click=common.next_seed)
    count = how_many.slider("Number of sentences", 1, 50, 10, **common.in_url("samples"))
    source = st.radio("Where the codes come from", [PRIOR, NEAR], horizontal=True, **common.in_url("source"),
                      help="the prior: z ~ p(z); near a sentence: z ~ around q(z|x) of your sentence.")
    near = spread = None
    draw_from = NORMAL
    if source == NEAR:
        common.note_if_no_latent(trained)
        near = st.text_input("Sentence", "she looked out of the window .", **common.in_url("near"))
    elif trained.density is not None:
        # the default source and decoding are the ones measured most fluent (vae/decode.py, default_sample_settings)
        draw_from = st.radio("Draw z from", [NORMAL, MIXTURE], horizontal=True, **common.in_url("draw_from"),
                             index=int(defaults["source"] == "mixture"),
                             help="The prior is what the VAE was trained towards; the codes of real "
                                  "sentences fill only part of it. The mixture, fitted to the training "
                                  "sentences' codes, draws from where they actually lie.")
    strategy = st.radio("Decoding", STRATEGIES, index=STRATEGIES.index(defaults["strategy"]),
                        horizontal=True, **common.in_url("strategy"),
                        help="greedy: the most likely word at every step; sample: draw from the whole "
                             "distribution; top-k: only from the k likeliest words; top-p: from the "
                             "smallest set of words whose probabilities add up to p; beam: keep the few "
                             "likeliest beginnings at every step and write the likeliest whole sentence.")
    left, right = st.columns(2)
    if source == NEAR:
        spread = left.slider("Spread", 0.0, 3.0, 1.0, 0.1, **common.in_url("spread"),
                             help="z = μ + spread · σ · ε with ε ~ N(0, I): 0 decodes the posterior mean "
                                  "every time, 1 samples the posterior q(z|x), more wanders further away.")
    else:
        spread = left.slider("Spread", 0.0, 3.0, defaults["spread"], 0.05, **common.in_url("prior_spread"),
                             help="Scales the codes' noise: z = spread · ε from N(0, I), or a component's mean "
                                  "+ spread · (its noise) from the mixture. Below 1 the codes stay near the "
                                  "middle, where the decoder has seen most sentences: more fluent, less varied "
                                  "(a reduced temperature, as in Kingma & Dhariwal 2018).")
    temperature = right.slider("Temperature", 0.1, 2.0, defaults["temperature"], 0.05,
                               disabled=strategy in ("greedy", "beam"),
                               **common.in_url("temperature"),
                               help="T divides the decoder's logits before the softmax, p(w) ∝ exp(logit_w / T): "
                                    "below 1 it sharpens the distribution (safer, more repetitive sentences), "
                                    "above 1 it flattens it (more surprising ones). Greedy and beam decoding "
                                    "ignore it.")
    top_k = top_p = beam_width = posterior_weight = None
    if strategy == "beam":
        left, right = st.columns(2)
        beam_width = left.slider("Beam width", 1, MAX_BEAM_WIDTH, defaults["beam_width"],
                                 **common.in_url("beam_width"), help="The beginnings kept at every step.")
        posterior_weight = right.slider(
            "Code weight", 0.0, 0.3, min(defaults["posterior_weight"], 0.3), 0.01,
            **common.in_url("posterior_weight"),
            help="The beam ends with a few whole sentences. At 0 it writes the likeliest, log p(x|z), which is "
                 "often a sentence the decoder saw in training. Above 0 it adds this weight times log q(z|x), "
                 "how near z each sentence's own code lies: fewer copies, more varied sentences, and more of "
                 "them ungrammatical. Reading a typed sentence back uses it (its code is that sentence's own).")
    if strategy == "top-k":
        top_k = st.slider("k (words to choose from)", 1, 100, 20, **common.in_url("top_k"))
    if strategy == "top-p":
        top_p = st.slider("p (probability mass to choose from)", 0.05, 1.0, 0.9, 0.05, **common.in_url("top_p"))

decoding = dict(strategy=strategy, temperature=temperature, top_k=top_k or 20, top_p=top_p or 0.9,
                beam_width=beam_width or defaults["beam_width"],
                posterior_weight=defaults["posterior_weight"] if posterior_weight is None else posterior_weight)
with results:
    # Heading and a placeholder first: each rerun replaces the last run's sentences at once, so a slider
    # moved by the keyboard (a rerun per arrow press) never shows sentences of an older value under it.
    settings = {"greedy": strategy, "beam": f"beam of {beam_width}"
                + (f", code weight {posterior_weight:.2f}" if posterior_weight else "")}.get(
        strategy, f"{strategy}, temperature {temperature:.2f}")
    settings += f", spread {spread:.2f}"
    st.subheader(f"{count} sentences, seed {common.seed()} · {settings}")
    slot = st.empty()
    slot.caption(f"Decoding {count} sentences...")
    if source == NEAR:
        try:
            _, notes = sentence_ids(trained, near)
        except InputError as e:
            slot.warning(str(e))
            st.stop()
        for note in notes:
            st.info(note)
        samples = sample_near(trained, near, count, spread, common.seed(), **decoding)
    else:
        samples = sample_prior(trained, count, common.seed(), "mixture" if draw_from == MIXTURE else "prior",
                               spread, **decoding)

    table = pd.DataFrame({"sentence": [s.text for s in samples],
                          # words as people count them: Sample.num_words counts the full stop too
                          "words": [num_words(s.text.split()) for s in samples],
                          "log p(x|z)": [s.logprob for s in samples]},
                         index=pd.RangeIndex(1, len(samples) + 1))
    slot.table(table.style.format({"log p(x|z)": "{:.2f}"}))
    st.caption("log p(x|z): the log-probability of the whole sentence (its end included) under the decoder "
               "at temperature 1; longer sentences have lower values. The same seed and settings always "
               "give the same sentences, and this page's link keeps them.")
