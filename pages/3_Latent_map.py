"""Latent map: every sentence of a corpus as a point (its posterior mean, projected to 2-D)."""

import streamlit as st

from ui.navigation import starting

st.set_page_config(page_title="Latent map · Text VAE Explorer", page_icon="🗺️", layout="wide")
st.title("Latent map")
with starting():  # the title is drawn before PyTorch and the model are loaded
    from ui import common, maps
    from ui.upload import corpus_uploader
    from vae.decode import InputError
    from vae.latent_map import map_csv
trained = common.sidebar()
common.note_if_no_latent(trained)
controls, chart = st.columns([1, 2], gap="large")  # on a projector, the map is in view beside its controls
controls.caption("Each point is a sentence's posterior mean μ, projected to 2-D: sentences the model "
                 "finds alike land close together.")

UPLOAD = "your own file"  # (options are shown as they are: a bound widget puts its label in the URL)
with controls:
    choice = st.selectbox("Corpus", maps.shipped_corpus_names() + [UPLOAD], **common.in_url("corpus"))
    if choice == UPLOAD:
        upload = corpus_uploader()
        if upload is None:
            st.stop()
        corpus, corpus_key, name = upload.corpus, upload.key, None
    else:
        (corpus, corpus_key), name = maps.shipped_corpus(choice), choice
    # the typed sentence and its neighbours come right after the corpus, so that on a projector
    # (1280x720) the neighbour table is in view; the projection's settings follow
    probe = st.text_input("Where does this sentence land?", "", placeholder="type a sentence and press Enter",
                          **common.in_url("probe"))
    probe_outcome = st.container()
    method = st.radio("Projection", ["PCA", "UMAP"], horizontal=True, **common.in_url("projection"),
                      help="PCA: instant, linear. UMAP: slower, keeps neighbourhoods.").lower()
    n_neighbors, min_dist = 15, 0.1
    if method == "umap":
        n_neighbors = st.slider("n_neighbors", 2, 100, 15, **common.in_url("neighbors"),
                                help="How many neighbours UMAP looks at: small values keep local detail, "
                                     "large ones the global layout.")
        min_dist = st.slider("min_dist", 0.0, 0.99, 0.1, 0.01, **common.in_url("min_dist"),
                             help="How tightly points may be packed: small values give tight clumps.")

if len(corpus.texts) < 4:
    st.error(f"A map needs at least 4 sentences; this corpus has {len(corpus.texts)}.")
    st.stop()
try:
    view = maps.latent_map(trained, corpus, corpus_key, name, method, n_neighbors, min_dist)
except ValueError as e:  # e.g. UMAP on a degenerate corpus
    st.error(f"The projection failed: {e}")
    st.stop()

with probe_outcome:
    placed = None
    if probe.strip():
        try:
            placed = maps.place_sentence(trained, view, corpus_key, probe, n_neighbors, min_dist)
            view = placed.view
            for note in placed.notes:
                st.info(note)
        except InputError as e:
            st.warning(str(e))

figure = maps.map_figure(corpus, view, method, maps.label_title(name), placed, probe)
with chart:
    # one selection per corpus and projection: rows picked on another map mean nothing on this one
    event = st.plotly_chart(figure, on_select="rerun", selection_mode=("box", "lasso"),
                            key=f"selection_{corpus_key}_{method}")
    source = "precomputed with this model" if view.precomputed else "encoded here"
    st.caption(f"{len(corpus.texts):,} sentences, codes {source}. Hover a point to read its sentence; drag a "
               "box (or pick the lasso above the map) to list sentences; click a label in the legend to hide it.")

if placed is not None:
    with probe_outcome:
        st.markdown("**Its nearest neighbours** (distance between posterior means):")
        st.table(maps.neighbours_column(maps.neighbours_table(corpus, placed)), hide_index=True,
                 border="horizontal")
with controls:
    selected = maps.selection_table(corpus, event.get("selection"))
    if len(selected):
        st.markdown(f"**{len(selected):,} selected sentences**")
        st.dataframe(selected, hide_index=True, height=min(36 + 35 * len(selected), 200))
    st.download_button("Download the map (CSV)", on_click="ignore", mime="text/csv",
                       help="Every sentence with its label, its 2-D coordinates and its latent code μ.",
                       data=lambda: map_csv(corpus.texts, corpus.labels, view.xy, view.mu),
                       file_name=f"{name or 'upload'}_{method}_map.csv")
