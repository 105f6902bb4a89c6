"""The Train page's glue: the browser session's training run, its settings, presets and charts.

The run itself trains in a child process (`vae.process_run.ProcessRun`, which runs a
`vae.runner.TrainingRun` there), so that training neither slows the pages' clicks nor takes them
down when it fails; $TEXT_VAE_TRAINING=thread trains in a thread of the server instead, as before
(the benchmark compares the two). Here a run gets a
`SessionRun` found by a token kept in the page's URL (`?run=...`): a reload (F5) or the copied link
opens a new browser session, which finds the same run by its token instead of losing it. The browser
session holds the run through a session-scoped `st.cache_resource`; when Streamlit releases it (the
tab closed), the run is only left unwatched, and a run unwatched for `IDLE_SECONDS` stops and is
dropped. Script reruns, button presses and visits to other pages leave the run alone.
"""

import os
import secrets
import tempfile
import threading
from dataclasses import asdict, dataclass, replace

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from vae.checkpoint import checkpoint_zip, save_checkpoint
from vae.data import read_corpus
from vae.heldout import memorised, split_heldout
from vae.objective import ObjectiveConfig
from vae.paths import CORPORA, ROOT
from vae.process_run import ProcessRun, prepare_spare
from vae.runner import TrainingRun, heldout_sentences
from vae.train import TrainConfig, Trainer, new_model, run_card

from . import common

TINY_CORPUS = CORPORA / "tiny_train.txt"
TINY_CORPUS_NAME = TINY_CORPUS.relative_to(ROOT).as_posix()  # as the card names it
UPLOAD_PREFIX = "upload: "  # an uploaded corpus's name, before the file's
HELDOUT_CORPUS = CORPORA / "valid.txt.gz"
MAX_STEPS = 5_000
MAX_SECONDS = 600  # a run's training time on a shared server, pauses not counted
IDLE_SECONDS = 300  # a run no open tab watches is stopped and dropped after this long
TRAINING_MODE = "TEXT_VAE_TRAINING"  # "process" (the default) or "thread"
RUN_PARAM = "run"  # the URL's query parameter that holds the run's token
LOG_EVERY = 10  # steps per chart point: a few points a second on a CPU
PANEL_EVERY = 100  # steps between panels of decoded sentences
HELDOUT_EVERY = 50  # steps between held-out measurements (~0.1 s each for 200 sentences on a CPU)
HELDOUT_SIZE = 200  # shipped validation sentences measured for a run on the tiny corpus
# Model size presets; the latent size is a knob of its own. The encoders read forward only: the presets
# show collapse and its fix as well as with a bidirectional one, in 75% of the time (bench/README.md).
SIZES = {
    "tiny": dict(embed_size=64, hidden_size=128, bidirectional=False),
    "small": dict(embed_size=128, hidden_size=256, bidirectional=False),
}


@dataclass
class RunSettings:
    """Everything the Train page's knobs choose: the one source of their defaults, which are the
    "Fix it" preset (the presets below are derived from them)."""

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
    steps: int = 600

    def objective(self) -> ObjectiveConfig:
        return ObjectiveConfig(kl_schedule=self.kl_schedule, kl_warmup_steps=self.kl_warmup_steps, beta=self.beta,
                               word_dropout=self.word_dropout, free_bits=self.free_bits)


FIX_IT = RunSettings()
# Measured 2026-12-05 on the Tatoeba tiny corpus, tiny size (forward-only encoder), seed 0, on 200 held-out
# sentences, with a training run busy on the other of two cores: the collapse preset's KL is below 1 nat by
# step 100 (0.16), its active units fall from 12 (step 100) to 2 by step 400 and to 0 by step 550, and its
# held-out -ELBO climbs from 35 (step 100) to 54 (step 600), in 13.5 s; the fix ends at step 600 (13.6 s)
# with KL 8.7 nats, 16/16 active and a held-out -ELBO of 47.5. The captions speak of steps, not seconds:
# a busy server is slower.
PRESETS = {  # name -> (settings, what to watch)
    "Posterior collapse": (
        replace(FIX_IT, kl_schedule="constant", word_dropout=0.0, free_bits=0.0),
        "The KL weight is 1 from the first step. Watch the KL drop below 1 nat by step 100 and the "
        "active units fall to about 0 by step 550: the reconstructions stop following their sentences "
        "(they all read alike), because z carries nothing.",
    ),
    "Fix it": (
        FIX_IT,
        "The KL weight rises from 0 over 500 steps, 40% of the decoder's input words are hidden and "
        "0.5 nats per dimension are free. Watch the KL stay several nats above 0 with every unit "
        "active, and the held-out −ELBO end lower than the collapsed run's.",
    ),
}


def widget_key(field: str) -> str:
    return f"train_{field}"


def apply_preset(name: str):
    """Button callback: set the knobs (runs before the widgets are drawn)."""
    for field, value in asdict(PRESETS[name][0]).items():
        st.session_state[widget_key(field)] = value
    remember_settings()


def active_preset(settings: RunSettings) -> str | None:
    """The preset whose values the knobs hold now, if any."""
    return next((name for name, (preset, _) in PRESETS.items() if settings == preset), None)


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


def run_class():
    """Where runs train: a child process each, or with $TEXT_VAE_TRAINING=thread a server thread."""
    return TrainingRun if os.environ.get(TRAINING_MODE) == "thread" else ProcessRun


def prepare_next_run():
    """With runs in child processes, have a child start-up done before Start is pressed (a spare child,
    vae.process_run.prepare_spare): the first chart point comes about 2 s sooner."""
    if run_class() is ProcessRun:
        try:
            prepare_spare()
        except OSError:  # no process to spare (out of memory or file handles): Start makes its own
            pass


class SessionRun:
    """The tab's one training run, or none; starting a new one ends the old one. It outlives the
    browser session: a reload finds it again by `token`."""

    def __init__(self):
        self.token = secrets.token_urlsafe(12)  # unguessable: only who has the link finds the run
        self.run: TrainingRun | ProcessRun | None = None
        self.description = ""  # what it was trained on, for the model's name
        self.used_model = None  # (name, TrainedModel) picked with "Use this model", restored on reload
        self.heldout_note = ""  # which sentences the held-out curves measure

    def close(self):
        if self.run is not None:
            self.run.close()


class _Watch:
    """A browser session's hold on the run it shows; Streamlit releases it when the session ends."""

    def __init__(self):
        self.owner: SessionRun | None = None
        self.run: TrainingRun | ProcessRun | None = None  # the run this session counts as a watcher of

    def watch(self, owner: SessionRun):
        self.release()
        self.owner, self.run = owner, owner.run
        if self.run is not None:
            self.run.attach()

    def release(self):
        if self.run is not None:
            self.run.detach()  # the run goes on; unwatched for IDLE_SECONDS, it stops
            self.run = None


@st.cache_resource(show_spinner=False)
def _registry():
    """token -> SessionRun for every session of this server process, and the lock that guards it."""
    return {}, threading.Lock()


@st.cache_resource(scope="session", on_release=_Watch.release, show_spinner=False)
def _session_watch() -> _Watch:
    return _Watch()


def _drop_abandoned(runs: dict):
    for token, owner in list(runs.items()):
        if owner.run is not None and owner.run.abandoned:
            owner.close()
            del runs[token]


RUN_COOKIE = "text_vae_run"  # the token again, so that a plain link to /Train in this browser finds the run
COOKIE_SECONDS = 24 * 3600


def session_run() -> SessionRun:
    """This tab's SessionRun: on a session's first call, the one its URL's token names (a reload,
    a copied link), else the one of this browser's cookie (a plain link), else a new one. Keeps the
    token in the URL and in the cookie while there is a run."""
    watch = _session_watch()
    if watch.owner is None:
        _find_or_make(watch, st.query_params.get(RUN_PARAM), st.context.cookies.get(RUN_COOKIE))
    owner = watch.owner
    if owner.run is not None and st.query_params.get(RUN_PARAM) != owner.token:
        st.query_params[RUN_PARAM] = owner.token
    if owner.run is not None and st.session_state.get("train_cookie") != owner.token:
        _remember_in_browser(owner.token)
    return owner


def _remember_in_browser(token: str):
    """Set the cookie once per session and token (token_urlsafe holds only A-Z a-z 0-9 _ -, so it
    needs no escaping). Best effort: the URL's token is what a reload relies on."""
    st.html(f"<script>document.cookie = '{RUN_COOKIE}={token}; path=/; max-age={COOKIE_SECONDS}; "
            "samesite=strict';</script>", unsafe_allow_javascript=True)
    st.session_state["train_cookie"] = token


def _find_or_make(watch: _Watch, token: str | None, cookie: str | None = None):
    runs, lock = _registry()
    with lock:
        _drop_abandoned(runs)
        found = (runs.get(token) if token else None) or (runs.get(cookie) if cookie else None)
        watch.watch(found or SessionRun())
    if token and found is None:
        del st.query_params[RUN_PARAM]
        st.session_state["train_run_gone"] = True  # the page says so once
    if found is not None and found.used_model is not None:  # the reload keeps "Use this model"
        st.session_state[common.SESSION_MODEL_NAME], st.session_state[common.SESSION_MODEL] = found.used_model


def _this_browsers_run():
    """The run of this browser (the URL's token, else the cookie's), if the server still has it."""
    token = st.query_params.get(RUN_PARAM) or st.context.cookies.get(RUN_COOKIE)
    runs, lock = _registry()
    with lock:
        return runs.get(token) if token else None


def restore_used_model():
    """On any page, a new session of this browser (a reload, a copied link) takes back the model that
    its run's "Use this model" chose, as the Train page takes back the run itself. Once per session."""
    if st.session_state.get("used_model_restored"):
        return
    st.session_state["used_model_restored"] = True
    found = _this_browsers_run()
    if found is not None and found.used_model is not None and not common.using_session_model():
        st.session_state[common.SESSION_MODEL_NAME], st.session_state[common.SESSION_MODEL] = found.used_model


def forget_used_model():
    """"Back to the shipped model": a reload must not bring the run's model back."""
    found = _this_browsers_run()
    if found is not None:
        found.used_model = None


def use_model(owner: SessionRun, name: str):
    """'Use this model': a frozen copy for the other pages, kept with the run so a reload keeps it."""
    owner.used_model = (name, owner.run.snapshot_model())
    st.session_state[common.SESSION_MODEL_NAME], st.session_state[common.SESSION_MODEL] = owner.used_model


def new_run(texts, corpus_name: str, settings: RunSettings, seed: int, split=False):
    """A fresh model and its run (of `run_class()`), not yet started, and what its held-out sentences
    are. The benchmark times the presets through it."""
    if split:
        texts, heldout = split_heldout(texts)
        note = (f"{len(heldout):,} lines of your file, held out of training" if heldout else
                "none: the file is too short to hold lines out, so only training sentences are measured")
    else:
        heldout = heldout_candidates()[:HELDOUT_SIZE]
        note = f"{len(heldout):,} sentences of the shipped validation set"
    model_config = dict(**SIZES[settings.size], latent_size=settings.latent_size,
                        autoencoder=settings.mode == "ae")
    # the initial weights come from the seed too: the same seed and settings give the same run
    trained = new_model(texts, model_config, vocab_size=10_000, min_freq=2, max_len=30, seed=seed)
    config = TrainConfig(steps=min(settings.steps, MAX_STEPS), batch_size=settings.batch_size,
                         lr=settings.lr, seed=seed, log_every=LOG_EVERY)
    trainer = Trainer(trained, texts, settings.objective(), config)
    trained.card.update(run_card(trainer, corpus_name, "trained on the Train page of the app"))
    # the panel's sentences: readable held-out ones (an upload's may all have words the vocabulary lacks)
    panel_texts = (heldout_sentences(trained.tokenizer, heldout) or heldout[:4]) if split else \
        heldout_sentences(trained.tokenizer, heldout_candidates())
    run = run_class()(trainer, max_seconds=MAX_SECONDS, panel_every=PANEL_EVERY, panel_texts=panel_texts,
                      idle_timeout=IDLE_SECONDS, heldout_texts=heldout, heldout_every=HELDOUT_EVERY)
    return run, note


def start_run(owner: SessionRun, texts, corpus_name: str, settings: RunSettings, seed: int, split=False):
    """Build a fresh model and start training it. Raises RunnerBusy (server at its cap) or
    ValueError (a corpus with nothing to learn from). `split`: hold out a tenth of `texts` (an
    upload) to measure and reconstruct, instead of the shipped validation sentences."""
    owner.close()
    owner.run = None  # until the new one starts: the old one's model is gone with its folder
    run, note = new_run(texts, corpus_name, settings, seed, split)
    run.start()
    owner.run, owner.description, owner.used_model, owner.heldout_note = run, corpus_name, None, note
    _session_watch().watch(owner)  # this session watches the new run
    runs, lock = _registry()
    with lock:
        runs[owner.token] = owner
    st.query_params[RUN_PARAM] = owner.token
    return run


def checkpoint_bytes(run: TrainingRun) -> bytes:
    """The model as it is now, as a zipped checkpoint (safetensors, config, tokenizer, casing, card)."""
    trained = run.snapshot_model()
    with tempfile.TemporaryDirectory() as folder:
        save_checkpoint(trained, folder)
        return checkpoint_zip(folder)


# data


@st.cache_data(show_spinner=False)
def tiny_corpus() -> list:
    return read_corpus(TINY_CORPUS).texts


@st.cache_data(show_spinner=False)
def heldout_candidates(n=2_000) -> list:
    """The first held-out sentences: the pool the reconstruction panel's fixed sentences come from."""
    return read_corpus(HELDOUT_CORPUS).texts[:n]


# the live view


def calm_live_view():
    """While a run trains, the live view reruns every second. Streamlit would show its own running
    indicator and Stop button in the header for that (a second Stop, which stops only the page's
    script, not the run), and fade the view while each rerun is in flight, so that the panel looks
    disabled for the whole run. Neither means anything here."""
    st.html("<style>[data-testid='stStatusWidget'] {display: none;} "
            "[data-testid='stElementContainer'][data-stale='true'] {opacity: 1 !important; transition: none;}"
            "</style>")


# charts

# (metric, title), three charts a tab: on a projector at 1280x720 a row of three is readable from the
# back of a room, two rows of three were not (titles over the ticks of the row above, 12-px text)
CHART_TABS = {
    "−ELBO = reconstruction + KL": (("neg_elbo", "−ELBO"), ("recon", "reconstruction"),
                                                    ("kl", "KL(q ‖ p)")),
    "KL weight, active units, speed": (("kl_weight", "KL weight"), ("active_units", "active units"),
                                                         ("tokens_per_s", "tokens / s")),
}
CHART_HEIGHT = 225  # px: at least 220, and the reconstructions below stay in view at 720
HELDOUT_COLOUR, TRAINING_COLOUR = "#D55E00", "#0072B2"  # Okabe-Ito vermillion and blue


def metric_value(key, m):
    return -m["elbo"] if key == "neg_elbo" else m[key]


def metrics_figure(history, measurements=(), charts=CHART_TABS[next(iter(CHART_TABS))]) -> go.Figure:
    """A row of charts against the training step: the training batches (word dropout on, averaged
    over LOG_EVERY steps) as a line, and where there are some, the held-out measurements (no dropout)
    as dots on a line: those are the numbers that compare across runs."""
    fig = make_subplots(rows=1, cols=len(charts), subplot_titles=[title for _, title in charts],
                        horizontal_spacing=0.08)
    steps = [m["step"] for m in history]
    for i, (key, _) in enumerate(charts):
        where = dict(row=1, col=i + 1)
        fig.add_trace(go.Scatter(x=steps, y=[metric_value(key, m) for m in history], mode="lines",
                                 name="training batches", legendgroup="training", showlegend=i == 0,
                                 line=dict(color=TRAINING_COLOUR)), **where)
        if measurements and key in ("neg_elbo", "recon", "kl", "active_units"):
            fig.add_trace(go.Scatter(x=[m["step"] for m in measurements],
                                     y=[metric_value(key, m["heldout"]) for m in measurements],
                                     mode="lines+markers", name="held-out, no dropout", legendgroup="heldout",
                                     showlegend=i == 0, line=dict(color=HELDOUT_COLOUR, dash="dot")), **where)
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(rangemode="tozero")
    fig.update_annotations(font_size=16)  # the subplot titles
    fig.update_layout(height=CHART_HEIGHT, margin=dict(l=10, r=10, t=60, b=10), font=dict(size=14),
                      legend=dict(orientation="h", yanchor="bottom", y=1.15, x=0))
    return fig


HEADLINE = [("−ELBO", "neg_elbo", 1, "inverse"), ("recon NLL", "recon", 1, "inverse"), ("KL", "kl", 2, "off")]


def headline(history, measurements, latent_size):
    """The numbers above the charts: [(label, value, change since the last measurement, delta
    colour)] and where they come from. The held-out numbers where there are some: they compare
    across runs, and a Step moves them; else the latest training batches."""
    latest = measurements[-1]["heldout"] if measurements else history[-1]
    earlier = measurements[-2]["heldout"] if len(measurements) > 1 else None
    step = measurements[-1]["step"] if measurements else history[-1]["step"]
    where = f"{'held-out sentences, no dropout' if measurements else 'training batches'}, at step {step:,}"
    cells = []
    for label, key, digits, colour in HEADLINE:
        value = metric_value(key, latest)
        change = None if earlier is None else f"{value - metric_value(key, earlier):+.{digits}f}"
        cells.append((label, f"{value:.{digits}f}", change, colour))
    cells.append(("active units", f"{latest['active_units']}/{latent_size}", None, "normal"))
    return cells, where


def status_line(run: TrainingRun) -> str:
    """One line: status, step, time; the run's message only where it adds something."""
    line = f"**{run.status}** · step {run.steps_done:,} of {run.max_steps:,} · {run.seconds:.0f} s of training"
    if run.message and not run.message.startswith((run.status, "finished: ")):
        line += f" · {run.message}"
    return line


def memorisation_warning(measurements, corpus_name: str) -> str | None:
    """A warning when the latest measurement shows the lines of the user's own file learned by heart.
    Only for an upload: there the held-out lines are a tenth of the same file, so a gap is memorising.
    The tiny corpus is measured on other sentences (the validation split), and a short run on 2,000
    sentences is expected to know them better; the advice below would not fit it either."""
    if not measurements or not corpus_name.startswith(UPLOAD_PREFIX):
        return None
    last = measurements[-1]
    train, heldout = last["train"]["recon"], last["heldout"]["recon"]
    if not memorised(train, heldout):
        return None
    return (f"The model is memorising its training lines: it reconstructs them at {train:.1f} nats per "
            f"sentence but held-out lines at {heldout:.1f}. With so few sentences it learns them by heart "
            "rather than how sentences go; a bigger file, fewer steps or more word dropout help.")
