"""Train: a small VAE trained live in this browser session, to watch the ELBO and posterior collapse.

Setup and buttons on the left, the live charts on the right: on a projector (1280x720) the charts
are in view while the run goes on.
"""

import streamlit as st

from ui.navigation import starting

st.set_page_config(page_title="Train · Text VAE Explorer", page_icon="🏋️", layout="wide")
st.title("Train")
with starting():  # the title is drawn before PyTorch and the model are loaded
    import pandas as pd

    from ui import common, training
    from ui.markdown import shortened
    from ui.upload import corpus_uploader
    from vae.objective import SCHEDULES
    from vae.runner import RunnerBusy
# this page needs no model (it makes one), and runs do not sit out its reruns: it is there to watch them
common.sidebar(require_model=False, training_sits_out=False)
training.calm_live_view()
setup, live = st.columns([2, 3], gap="large")
setup.caption("Train a small VAE and watch the ELBO's two terms: reconstruction, and the KL (how much z "
              "carries).")
# on the left, in the order a class needs them and within a projector's 720 pixels: a preset, the run's
# buttons, the model to use; then what to watch, and the details below
presets_box, run_box, use_box, notes_box, data_box, knobs_box = (setup.container() for _ in range(6))

owner = training.session_run()
run = owner.run
if st.session_state.pop("train_run_gone", False):
    run_box.warning(f"The training run of this link is gone: runs that no open tab shows for "
                    f"{training.IDLE_SECONDS // 60} minutes are stopped and deleted, and a server restart "
                    "ends them all.")
active = run is not None and run.active
training.init_settings()
if not active:
    training.prepare_next_run()


def key(field):
    return training.widget_key(field)


# data

data_box.subheader("Data")
source = data_box.radio("Training sentences", ["tiny", "upload"], horizontal=True, key="train_source",
                       disabled=active,
                       format_func={"tiny": f"shipped tiny corpus ({len(training.tiny_corpus()):,} short sentences)",
                                    "upload": "upload your own..."}.get)
texts, corpus_name = training.tiny_corpus(), training.TINY_CORPUS_NAME
if source == "upload":
    upload = corpus_uploader(data_box, labels=False, disabled=active)
    texts, corpus_name = (upload.corpus.texts, f"{training.UPLOAD_PREFIX}{upload.name}") if upload else (None, None)

# presets and knobs

chosen = training.active_preset(training.settings_from_widgets())
for name in training.PRESETS:  # one under the other: each label whole, even in a narrow column
    presets_box.button(f"Preset: {name}", on_click=training.apply_preset, args=(name,), disabled=active,
                  type="primary" if name == chosen else "secondary", width="stretch",
                  icon=":material/check:" if name == chosen else None)
if chosen:
    notes_box.caption(f"**{chosen}:** {training.PRESETS[chosen][1]}")
else:
    notes_box.caption("Your own settings (no preset).")

knobs_box.subheader("Model and objective")
description = knobs_box.empty()  # filled once the knobs below have their values
knobs = knobs_box.expander("All the settings", expanded=False)
with knobs:
    st.radio("Model size", list(training.SIZES), key=key("size"), horizontal=True, disabled=active,
             format_func=lambda s: f"{s} (embedding {training.SIZES[s]['embed_size']}, "
                                   f"hidden {training.SIZES[s]['hidden_size']})")
    st.select_slider("Latent size", [2, 4, 8, 16, 32], key=key("latent_size"), disabled=active)
    st.radio("Kind", ["vae", "ae"], key=key("mode"), horizontal=True, disabled=active,
             format_func={"vae": "VAE", "ae": "plain autoencoder (z = μ, no KL)"}.get)
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
    st.select_slider("Learning rate", [0.0003, 0.001, 0.003, 0.01, 0.03], key=key("lr"), disabled=active)
    st.select_slider("Batch size", [16, 32, 64, 128], key=key("batch_size"), disabled=active)
    st.number_input("Steps", 10, training.MAX_STEPS, key=key("steps"), step=100, disabled=active,
                    help=f"At most {training.MAX_STEPS:,} steps and {training.MAX_SECONDS // 60} minutes of training.")
    st.caption(f"Seed: {common.seed()} (the sidebar's seed)")
settings = training.settings_from_widgets()
description.markdown(training.describe(settings))

# controls

start, stop = run_box.columns(2)
buttons = [*run_box.columns(3), stop]  # Pause, Resume, Step; Stop beside Start
if start.button("Start", type="primary", disabled=active or texts is None, width="stretch"):
    try:
        training.start_run(owner, texts, corpus_name, settings, common.seed(), split=source == "upload")
    except RunnerBusy as e:
        run_box.error(str(e))
    except ValueError as e:
        run_box.error(f"Cannot train on these sentences: {e}")
    else:
        st.rerun()
status = run.status if run is not None else "idle"
if run is not None:
    notes_box.caption(f"This run belongs to this page's link: a reload, or the link opened in another tab, "
                      f"finds it again. Once no tab has shown it for {training.IDLE_SECONDS // 60} minutes it is "
                      "stopped and deleted, and a server restart ends it: download the checkpoint to keep the "
                      "model.")
actions = [("Pause", "running", "pause"), ("Resume", "paused", "resume"),
           ("Step", "paused", "step"), ("Stop", ("running", "paused"), "stop")]
for column, (label, when, action) in zip(buttons, actions):
    if column.button(label, disabled=status not in when, width="stretch",
                     help="Train on one more batch, then measure the held-out sentences again"
                     if label == "Step" else None):
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
    history, measured = run.metrics(), run.measurements()
    line = training.status_line(run)
    if run.status == "failed":
        st.error(line)
    else:
        st.markdown(line)
    if history or measured:
        headline, where = training.headline(history, measured, run.latent_size)
        for cell, (label, value, change, colour) in zip(st.columns(len(headline)), headline):
            cell.metric(label, value, change, delta_color=colour, help=where)
        for i, (tab, charts) in enumerate(zip(st.tabs(list(training.CHART_TABS)), training.CHART_TABS.values())):
            tab.plotly_chart(training.metrics_figure(history, measured, charts), key=f"train_chart_{i}")
    panels = run.panels()
    if panels and panels[-1]["reconstructions"]:
        # right under the charts, within a projector's 720 pixels: these show collapse in words
        panel = panels[-1]
        st.markdown(f"**What the model writes at step {panel['step']:,}:** held-out sentences, never trained "
                    "on, read back (greedy, from the posterior mean)")
        # cut to 12 words: a collapsed model's run-on read-backs would push the table below the fold
        st.table(pd.DataFrame([[shortened(text, 12) for text in row] for row in panel["reconstructions"]],
                              columns=["sentence", "read back"]))
    if history or measured:
        st.caption(f"Charts: nats per sentence. Line: the training batches, {training.LOG_EVERY} steps per point, "
                   f"with the run's word dropout. Dots: held-out sentences ({owner.heldout_note}) every "
                   f"{training.HELDOUT_EVERY} steps and after each Step, with no dropout and the true ELBO "
                   "(KL weight 1): compare runs on the dots.")
        warning = training.memorisation_warning(measured, owner.description)
        if warning:
            st.warning(warning)
    if panels:
        st.markdown("**Samples from the prior** (the same four codes z ~ N(0, I) every time):")
        st.markdown("\n".join(f"- {text or '(empty)'}" for text in panels[-1]["samples"]))

with live:
    live_view(status)

# the trained model

# a run stopped by a NaN loss keeps its last good step (the bad one was not applied)
if run is not None and run.has_usable_model():
    name = f"trained in this browser, step {run.steps_done:,}"
    use, download = use_box.columns(2)
    if use.button("Use this model", type="primary", width="stretch",
                  help="The Sample, Interpolate and Latent map pages use it in this browser session."):
        training.use_model(owner, name)
        st.rerun()
    download.download_button("Download (.zip)", data=lambda: training.checkpoint_bytes(run),
                             file_name=f"text-vae-step{run.steps_done}.zip", mime="application/zip",
                             width="stretch")
    if st.session_state.get(common.SESSION_MODEL_NAME) == name:
        use_box.success(f"The other pages now use this model ({name}).")
