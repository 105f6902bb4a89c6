"""Latent map: every sentence of a corpus as a point (its posterior mean, projected to 2-D)."""

import textwrap

import pandas as pd
import plotly.express as px
import streamlit as st

from ui import common, maps
from vae.data import CorpusError
from vae.decode import InputError, encode_ids, sentence_ids
from vae.latent_map import map_csv
from vae.neighbours import nearest

st.set_page_config(page_title="Latent map · Text VAE Explorer", page_icon="🗺️", layout="wide")
st.title("Latent map")
trained = common.sidebar()
common.note_if_no_latent(trained)
controls, chart = st.columns([1, 2], gap="large")  # on a projector, the map is in view beside its controls
controls.caption("Each point is a sentence's posterior mean μ, projected to 2-D: sentences the model "
                 "finds alike land close together.")

UPLOAD = "your own file"  # (options are shown as they are: a bound widget puts its label in the URL)
with controls:
    choice = st.selectbox("Corpus", maps.shipped_corpus_names() + [UPLOAD], **common.in_url("corpus"))
    if choice == UPLOAD:
        uploaded = st.file_uploader(
            f"TXT (one sentence per line) or CSV/TSV with a `text` and an optional `label` column; "
            f"at most {maps.MAX_ROWS:,} sentences and {maps.MAX_BYTES / 1e6:.0f} MB",
            type=["txt", "csv", "tsv"])
        if uploaded is None:
            st.stop()
        try:
            corpus, corpus_key = maps.uploaded_corpus(uploaded)
        except CorpusError as e:
            st.error(f"This file cannot be used: {e}")
            st.stop()
        name = None
    else:
        corpus, corpus_key = maps.shipped_corpus(choice)
        name = choice
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

with controls:
    probe = st.text_input("Where does this sentence land?", "", placeholder="type a sentence and press Enter",
                          **common.in_url("probe"))
    probe_xy = neighbours = None
    if probe.strip():
        try:
            ids, notes = sentence_ids(trained, probe)
            for note in notes:
                st.info(note)
            view = maps.with_projector(trained, view, corpus_key, n_neighbors, min_dist)
            z = encode_ids(trained, [ids])[0].numpy()  # (1, latent)
            probe_xy = view.projector.transform(z)[0]
            neighbours, distances = nearest(view.mu, z[0])
        except InputError as e:
            st.warning(str(e))

labels = [label or "(no label)" for label in corpus.labels or [""] * len(corpus.texts)]
points = pd.DataFrame({"x": view.xy[:, 0], "y": view.xy[:, 1], "label": labels, "row": range(len(labels)),
                       "sentence": ["<br>".join(textwrap.wrap(t, 60)) for t in corpus.texts]})
many = len(set(labels)) > len(maps.PALETTE)  # then colours repeat, and shapes tell those labels apart
figure = px.scatter(points, x="x", y="y", color="label", symbol="label" if many else None,
                    custom_data=["sentence", "row"], render_mode="svg", height=500,
                    color_discrete_sequence=maps.PALETTE, symbol_sequence=maps.SYMBOLS,
                    labels={"x": f"{method.upper()} 1", "y": f"{method.upper()} 2",
                            "label": maps.SHIPPED_CORPORA[name].split(":")[0] if name else "label"})
figure.update_traces(marker=dict(size=5, opacity=0.7), hovertemplate="%{customdata[0]}<extra>%{fullData.name}</extra>")
if probe_xy is not None:
    figure.add_scatter(x=[probe_xy[0]], y=[probe_xy[1]], mode="markers", name="your sentence",
                       marker=dict(symbol="star", size=20, color="black", line=dict(width=1, color="white")),
                       hovertemplate=f"{textwrap.shorten(probe, 80)}<extra>your sentence</extra>")
figure.update_layout(dragmode="select", legend=dict(itemsizing="constant"))  # a drag selects a box
with chart:
    # one selection per corpus and projection: rows picked on another map mean nothing on this one
    event = st.plotly_chart(figure, on_select="rerun", selection_mode=("box", "lasso"),
                            key=f"selection_{corpus_key}_{method}")
    source = "precomputed with this model" if view.precomputed else "encoded here"
    st.caption(f"{len(corpus.texts):,} sentences, codes {source}. Hover a point to read its sentence; drag a "
               "box (or pick the lasso above the map) to list sentences; click a label in the legend to hide it.")

with controls:
    if neighbours is not None:
        st.markdown("**Its nearest neighbours in the latent space** (distance between posterior means):")
        table = pd.DataFrame({"sentence": [corpus.texts[i] for i in neighbours],
                              "label": [labels[i] for i in neighbours],
                              "distance": [float(distances[i]) for i in neighbours]})
        st.table(table.style.format({"distance": "{:.3f}"}))
    rows = [row for row in maps.selected_rows(event.get("selection")) if row < len(corpus.texts)]
    if rows:
        st.markdown(f"**{len(rows):,} selected sentences**")
        st.dataframe(pd.DataFrame({"sentence": [corpus.texts[i] for i in rows], "label": [labels[i] for i in rows]}),
                     hide_index=True, height=min(36 + 35 * len(rows), 200))
    st.download_button("Download coordinates and latents (CSV)", on_click="ignore", mime="text/csv",
                       data=lambda: map_csv(corpus.texts, corpus.labels, view.xy, view.mu),
                       file_name=f"{name or 'upload'}_{method}_map.csv")
