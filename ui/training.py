"""The Train page's glue: the browser session's training run, its settings, presets and charts.

The run itself (a thread that owns a Trainer) is `vae.runner.TrainingRun`. Here it gets an owner
that lives as long as the browser tab: a session-scoped `st.cache_resource`, which Streamlit
releases when the session disconnects, and the release stops the thread and frees its slot on
the server. Script reruns, button presses and visits to other pages leave the run alone.
"""

import gzip
import tempfile
from dataclasses import asdict, dataclass

import plotly.graph_objects as go
import streamlit as st
import torch
from plotly.subplots import make_subplots

from vae.checkpoint import checkpoint_zip, save_checkpoint
from vae.objective import ObjectiveConfig
from vae.runner import TrainingRun, heldout_sentences
from vae.train import TrainConfig, Trainer, new_model

from . import maps
from .common import ROOT

TINY_CORPUS = ROOT / "assets" / "corpora" / "tiny_train.txt"
HELDOUT_CORPUS = ROOT / "assets" / "corpora" / "valid.txt.gz"
MAX_STEPS = 5_000
MAX_SECONDS = 600  # a run's training time on a shared server, pauses not counted
LOG_EVERY = 10  # steps per chart point: a few points a second on a CPU
PANEL_EVERY = 100  # steps between panels of decoded sentences
SIZES = {  # model size presets; the latent size is a knob of its own
    "tiny": dict(embed_size=64, hidden_size=128),
    "small": dict(embed_size=128, hidden_size=256),
}


@dataclass
class RunSettings:
    """Everything the Train page's knobs choose. The defaults are the "Fix it" preset."""

    size: str = "tiny"
    latent_size: int = 16
    mode: str = "vae"  # "vae" or "ae" (plain autoencoder: z = mu, no KL)
    kl_schedule: str = "linear"
    kl_warmup_steps: int = 500
    beta: float = 1.0
    word_dropout: float = 0.4
    free_bits: float = 0.5
    lr: float = 0.01
    batch_size: int = 64
    steps: int = 1_500


# Measured on the tiny corpus with the tiny size on one CPU thread (see the issue note): collapse
# ends with KL ~0.2 nats and no active units, the fix with KL ~9 nats and all 16 units active.
PRESETS = {
    "Posterior collapse": (
        dict(kl_schedule="constant", beta=1.0, word_dropout=0.0, free_bits=0.0),
        "The KL weight is 1 from the first step: watch the KL curve fall towards 0 and the active "
        "units drop to 0 — every reconstruction becomes the same sentence, because z carries nothing.",
    ),
    "Fix it": (
        dict(kl_schedule="linear", kl_warmup_steps=500, beta=1.0, word_dropout=0.4, free_bits=0.5),
        "The KL weight rises from 0 over 500 steps, 40% of the decoder's input words are hidden and "
        "0.5 nats per dimension are free: watch the KL stay several nats above 0 and the "
        "reconstructions keep the gist of their sentences.",
    ),
}
PRESET_COMMON = dict(size="tiny", latent_size=16, mode="vae", lr=0.01, batch_size=64, steps=1_500)


def widget_key(field: str) -> str:
    return f"train_{field}"


def apply_preset(name: str):
    """Button callback: set the knobs (runs before the widgets are drawn)."""
    values, _ = PRESETS[name]
    for field, value in {**PRESET_COMMON, **values}.items():
        st.session_state[widget_key(field)] = value
    remember_settings()


def init_settings():
    """Give every knob its value: the last one chosen in this session (widget state is dropped
    while the user is on another page, so it is remembered under a key of its own)."""
    memory = st.session_state.setdefault("train_settings_memory", asdict(RunSettings()))
    for field, value in memory.items():
        st.session_state.setdefault(widget_key(field), value)


def remember_settings():
    memory = st.session_state.setdefault("train_settings_memory", asdict(RunSettings()))
    for field in memory:
        if widget_key(field) in st.session_state:
            memory[field] = st.session_state[widget_key(field)]


def settings_from_widgets() -> RunSettings:
    remember_settings()
    return RunSettings(**st.session_state["train_settings_memory"])


def describe(settings: RunSettings) -> str:
    """The settings in one line, so the knobs can stay folded away."""
    s = settings
    size = SIZES[s.size]
    model = (f"{'plain autoencoder' if s.mode == 'ae' else 'VAE'}, {s.size} (embedding {size['embed_size']}, "
             f"hidden {size['hidden_size']}), latent size {s.latent_size}")
    if s.mode == "ae":
        objective = f"reconstruction only (no KL term), word dropout {s.word_dropout:g}"
    else:
        schedule = ("constant" if s.kl_schedule == "constant"
                    else f"{s.kl_schedule} over {s.kl_warmup_steps:,} steps")
        objective = (f"KL weight {schedule} to β = {s.beta:g}, word dropout {s.word_dropout:g}, "
                     f"free bits {s.free_bits:g}")
    return (f"**Model:** {model} · **Objective:** {objective} · **Training:** learning rate {s.lr:g}, "
            f"batch {s.batch_size}, {s.steps:,} steps")


# the session's run


class SessionRun:
    """The browser session's one training run, or none; starting a new one ends the old one."""

    def __init__(self):
        self.run: TrainingRun | None = None
        self.description = ""  # what it was trained on, for the model's name

    def close(self):
        if self.run is not None:
            self.run.close()


@st.cache_resource(scope="session", on_release=SessionRun.close, show_spinner=False)
def session_run() -> SessionRun:
    return SessionRun()


def start_run(owner: SessionRun, texts, corpus_name: str, settings: RunSettings, seed: int):
    """Build a fresh model and start training it. Raises RunnerBusy (server at its cap) or
    ValueError (a corpus with nothing to learn from)."""
    owner.close()
    model_config = dict(**SIZES[settings.size], latent_size=settings.latent_size,
                        autoencoder=settings.mode == "ae")
    torch.manual_seed(seed)  # the initial weights too: the same seed and settings give the same run
    trained = new_model(texts, model_config, vocab_size=10_000, min_freq=2, max_len=30)
    objective = ObjectiveConfig(settings.kl_schedule, settings.kl_warmup_steps, settings.beta,
                                settings.word_dropout, settings.free_bits)
    config = TrainConfig(steps=min(settings.steps, MAX_STEPS), batch_size=settings.batch_size,
                         lr=settings.lr, seed=seed, log_every=LOG_EVERY)
    trainer = Trainer(trained, texts, objective, config)
    trained.card.update(training_corpus=corpus_name, training_sentences=len(trainer.train_ids),
                        command="trained on the Train page of the app", objective=asdict(objective),
                        train=asdict(config), parameters=trained.model.num_parameters(),
                        vocab_size=len(trained.tokenizer))
    panel_texts = heldout_sentences(trained.tokenizer, heldout_candidates())
    run = TrainingRun(trainer, max_seconds=MAX_SECONDS, panel_every=PANEL_EVERY, panel_texts=panel_texts)
    run.start()
    owner.run, owner.description = run, corpus_name
    return run


def checkpoint_bytes(run: TrainingRun) -> bytes:
    """The model as it is now, as a zipped checkpoint (safetensors, config, tokenizer, card)."""
    trained = run.snapshot_model()
    with tempfile.TemporaryDirectory() as folder:
        save_checkpoint(trained, folder)
        return checkpoint_zip(folder)


# data


@st.cache_data(show_spinner=False)
def tiny_corpus() -> list:
    return [line.strip() for line in TINY_CORPUS.read_text().splitlines() if line.strip()]


@st.cache_data(show_spinner=False)
def heldout_candidates(n=2_000) -> list:
    """The first held-out sentences: the pool the reconstruction panel's fixed sentences come from."""
    with gzip.open(HELDOUT_CORPUS, "rt", encoding="utf-8") as f:
        return [line.strip() for _, line in zip(range(n), f) if line.strip()]


def uploaded_texts(uploaded) -> list:
    """Same formats, limits and messages as the Latent map page; raises CorpusError."""
    corpus, _ = maps.uploaded_corpus(uploaded)
    return corpus.texts


# charts

CHARTS = (  # (metric, title), in the order of the grid
    ("neg_elbo", "−ELBO (nats per sentence)"), ("recon", "reconstruction NLL"), ("kl", "KL(q(z|x) ‖ p(z))"),
    ("kl_weight", "KL weight"), ("active_units", "active units"), ("tokens_per_s", "tokens / s"),
)


def metrics_figure(history) -> go.Figure:
    """Six small charts against the training step, from the runner's metrics history."""
    fig = make_subplots(rows=2, cols=3, subplot_titles=[title for _, title in CHARTS],
                        horizontal_spacing=0.08, vertical_spacing=0.18)
    steps = [m["step"] for m in history]
    for i, (key, title) in enumerate(CHARTS):
        values = [-m["elbo"] if key == "neg_elbo" else m[key] for m in history]
        fig.add_trace(go.Scatter(x=steps, y=values, mode="lines", name=title, showlegend=False),
                      row=i // 3 + 1, col=i % 3 + 1)
    fig.update_xaxes(title_text="step", row=2)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=40, b=10))
    return fig
