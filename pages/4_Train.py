"""Train: a small VAE trained live in this browser session, to watch the ELBO and posterior collapse."""

import pandas as pd
import streamlit as st

from ui import common, training
from vae.data import CorpusError
from vae.objective import SCHEDULES
from vae.runner import RunnerBusy

st.set_page_config(page_title="Train · Text VAE Explorer", page_icon="🏋️")
st.title("Train")
common.sidebar(require_model=False)  # this page needs no model: it makes one
st.markdown("Train a small sentence VAE right here and watch the two terms of the ELBO: how well it "
            "reconstructs sentences, and the KL that measures how much the code z carries. The run "
            "keeps going while you visit other pages, and a reload finds it again.")

owner = training.session_run()
run = owner.run
if st.session_state.pop("train_run_gone", False):
    st.warning(f"The training run of this link is gone: runs that no open tab shows for "
               f"{training.IDLE_SECONDS // 60} minutes are stopped and deleted, and a server restart "
               "ends them all.")
active = run is not None and run.active
training.init_settings()


def key(field):
    return training.widget_key(field)


# data

st.header("1 · Data")
source = st.radio("Training sentences", ["tiny", "upload"], horizontal=True, key="train_source",
                  disabled=active, format_func={"tiny": f"shipped tiny corpus ({len(training.tiny_corpus()):,} "
                                                        "short sentences)", "upload": "upload your own..."}.get)
texts, corpus_name = training.tiny_corpus(), "assets/corpora/tiny_train.txt"
if source == "upload":
    uploaded = st.file_uploader(
        f"TXT (one sentence per line) or CSV/TSV with a `text` column; at most "
        f"{training.maps.MAX_ROWS:,} sentences and {training.maps.MAX_BYTES / 1e6:.0f} MB",
        type=["txt", "csv", "tsv"], disabled=active)
    if uploaded is None:
        texts = None
    else:
        try:
            texts, corpus_name = training.uploaded_texts(uploaded), f"upload: {uploaded.name}"
        except CorpusError as e:
            st.error(f"This file cannot be used: {e}")
            texts = None

# presets and knobs

st.header("2 · Model and objective")
columns = st.columns(len(training.PRESETS))
for column, (name, (_, look_for)) in zip(columns, training.PRESETS.items()):
    column.button(f"Preset: {name}", on_click=training.apply_preset, args=(name,), disabled=active,
                  width="stretch")
    column.caption(look_for)

knobs = st.expander("All the settings", expanded=False)
left, middle, right = knobs.columns(3)
with left:
    st.radio("Model size", list(training.SIZES), key=key("size"), horizontal=True, disabled=active,
             format_func=lambda s: f"{s} (embedding {training.SIZES[s]['embed_size']}, "
                                   f"hidden {training.SIZES[s]['hidden_size']})")
    st.select_slider("Latent size", [2, 4, 8, 16, 32], key=key("latent_size"), disabled=active)
    st.radio("Kind", ["vae", "ae"], key=key("mode"), horizontal=True, disabled=active,
             format_func={"vae": "VAE", "ae": "plain autoencoder (z = μ, no KL)"}.get)
with middle:
    st.selectbox("KL weight schedule", SCHEDULES, key=key("kl_schedule"), disabled=active,
                 help="constant: the full weight from the first step; linear/sigmoid: rise from 0 "
                      "(KL annealing, Bowman et al. 2016); cyclical: rise and hold, again and again "
                      "(Fu et al. 2019).")
    st.number_input("Schedule length (steps; one cycle if cyclical)", 1, training.MAX_STEPS,
                    key=key("kl_warmup_steps"), step=100, disabled=active)
    st.slider("β (the final KL weight)", 0.0, 2.0, key=key("beta"), step=0.05, disabled=active,
              help="1 gives the true ELBO; below 1 lets z carry more, above 1 squeezes it.")
    st.slider("Word dropout", 0.0, 0.9, key=key("word_dropout"), step=0.05, disabled=active,
              help="The share of the decoder's input words replaced by <unk>, so it must lean on z.")
    st.slider("Free bits (nats per latent dimension)", 0.0, 2.0, key=key("free_bits"), step=0.05,
              disabled=active, help="KL below this, per dimension, costs nothing (Kingma et al. 2016).")
with right:
    st.select_slider("Learning rate", [0.0003, 0.001, 0.003, 0.01, 0.03], key=key("lr"), disabled=active)
    st.select_slider("Batch size", [16, 32, 64, 128], key=key("batch_size"), disabled=active)
    st.number_input("Steps", 10, training.MAX_STEPS, key=key("steps"), step=100, disabled=active,
                    help=f"At most {training.MAX_STEPS:,} steps and {training.MAX_SECONDS // 60} minutes of training.")
    st.caption(f"Seed: {common.seed()} (the sidebar's seed)")
settings = training.settings_from_widgets()
st.markdown(training.describe(settings))

# controls

st.header("3 · Run")
buttons = st.columns(5)
if buttons[0].button("Start", type="primary", disabled=active or texts is None, width="stretch"):
    try:
        training.start_run(owner, texts, corpus_name, settings, common.seed())
    except RunnerBusy as e:
        st.error(str(e))
    except ValueError as e:
        st.error(f"Cannot train on these sentences: {e}")
    else:
        st.rerun()
status = run.status if run is not None else "idle"
if run is not None:
    st.caption(f"This run belongs to this page's link: a reload, or the link opened in another tab, finds "
               f"it again. Once no tab has shown it for {training.IDLE_SECONDS // 60} minutes it is stopped "
               "and deleted, and a server restart ends it: download the checkpoint to keep the model.")
actions = [("Pause", "running", "pause"), ("Resume", "paused", "resume"),
           ("Step", "paused", "step"), ("Stop", ("running", "paused"), "stop")]
for column, (label, when, action) in zip(buttons[1:], actions):
    if column.button(label, disabled=status not in when, width="stretch",
                     help="Train on one more batch" if label == "Step" else None):
        getattr(run, action)()
        st.rerun()


@st.fragment(run_every=1.0 if active else None)
def live_view(rendered_status):
    """Polls the run: status, charts and decoded sentences. Only this part reruns every second."""
    run = training.session_run().run
    if run is None:
        st.info("Choose the data and the knobs (or a preset), then press **Start**.")
        return
    if run.status != rendered_status:  # the run finished or failed meanwhile: redraw the buttons too
        st.rerun()
    history = run.metrics()
    line = (f"**{run.status}** · step {run.steps_done:,} of {run.max_steps:,} · "
            f"{run.seconds:.0f} s of training" + (f" · {run.message}" if run.message else ""))
    if run.status == "failed":
        st.error(line)
    else:
        st.markdown(line)
    if history:
        last = history[-1]
        cells = st.columns(5)
        cells[0].metric("−ELBO", f"{-last['elbo']:.1f}")
        cells[1].metric("reconstruction NLL", f"{last['recon']:.1f}")
        cells[2].metric("KL", f"{last['kl']:.2f}")
        cells[3].metric("KL weight", f"{last['kl_weight']:.2f}")
        cells[4].metric("active units", f"{last['active_units']} / {run.trainer.model.config.latent_size}")
        st.plotly_chart(training.metrics_figure(history), key="train_chart")
        st.caption(f"Each point averages {training.LOG_EVERY} steps; nats per sentence on the training "
                   "batches. The ELBO always uses the true KL with weight 1, so runs compare.")
    panels = run.panels()
    if panels:
        panel = panels[-1]
        st.subheader(f"What the model writes at step {panel['step']:,}")
        if panel["reconstructions"]:
            st.markdown("**Reconstructions** of held-out sentences (greedy, from the posterior mean):")
            st.table(pd.DataFrame(panel["reconstructions"], columns=["sentence", "reconstruction"]))
        st.markdown("**Samples from the prior** (the same four codes z ~ N(0, I) every time):")
        st.markdown("\n".join(f"- {text or '(empty)'}" for text in panel["samples"]))


live_view(status)

# the trained model

# a run stopped by a NaN loss keeps its last good step (the bad one was not applied)
if status in ("paused", "finished", "stopped") or (status == "failed" and run.trainer.weights_are_finite()):
    st.header("4 · Use it")
    name = f"trained in this browser, step {run.steps_done:,}"
    use, download = st.columns(2)
    if use.button("Use this model", type="primary", width="stretch",
                  help="The Sample, Interpolate and Latent map pages use it in this browser session."):
        training.use_model(owner, name)
        st.rerun()
    download.download_button("Download the checkpoint (.zip)", data=lambda: training.checkpoint_bytes(run),
                             file_name=f"text-vae-step{run.steps_done}.zip", mime="application/zip",
                             width="stretch")
    if st.session_state.get(common.SESSION_MODEL_NAME) == name:
        st.success(f"The other pages now use this model ({name}).")
