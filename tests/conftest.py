"""Shared fixtures: a tiny corpus and a tiny model trained on it in a few seconds."""

import base64
import json
import os
import re
import time

import numpy as np
import pytest
import torch

from vae import runner
from vae.checkpoint import save_checkpoint
from vae.objective import ObjectiveConfig
from vae.paths import ROOT
from vae.runner import TrainingRun
from vae.train import TrainConfig, Trainer, new_model

# tiny models gain nothing from threads, and a second thread only fights other jobs for the CPU
torch.set_num_threads(1)
# no UMAP warm-up in the apps the tests open (ui/warmup.py); tests that need UMAP fit it themselves
os.environ["TEXT_VAE_WARM_UMAP"] = "0"

SENTENCES = [
    "the cat sat on the mat .",
    "a dog ran in the park .",
    "she reads a book every night .",
    "we like green tea .",
    "the sun is hot today .",
    "birds sing in the morning .",
    "he plays the piano well .",
    "my car is red .",
    "they went to the sea .",
    "rain falls on the roof .",
    "the old man walked home slowly .",
    "children laugh at the funny clown .",
    "i bought fresh bread this morning .",
    "the river flows to the ocean .",
    "our teacher told us a story .",
    "the train leaves at noon .",
    "a small boat crossed the lake .",
    "snow covered the quiet village .",
    "he wrote a letter to his mother .",
    "the garden is full of flowers .",
]


def train_tiny(sentences=SENTENCES, steps=150, autoencoder=False, seed=0):
    """A small GRU VAE that memorises `sentences` (KL off, so the code carries everything)."""
    trained = new_model(sentences, dict(embed_size=32, hidden_size=64, latent_size=8, autoencoder=autoencoder),
                        min_freq=1, max_len=12, seed=seed)
    objective = ObjectiveConfig(kl_schedule="constant", beta=0.0)
    trainer = Trainer(trained, sentences, objective, TrainConfig(steps=steps, batch_size=len(sentences),
                                                                 lr=1e-2, seed=seed, log_every=100))
    trainer.run()
    trained.model.eval()
    trained.card.update(training_corpus="tests/conftest.py SENTENCES", steps=steps)
    return trained, trainer


@pytest.fixture(scope="session")
def tiny_trained():
    """(TrainedModel, Trainer) that reconstructs SENTENCES exactly; shared, treat as read-only."""
    return train_tiny()


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_trained, tmp_path_factory):
    """A checkpoint folder of the tiny model, for the CLI and the app."""
    path = tmp_path_factory.mktemp("tiny_model")
    save_checkpoint(tiny_trained[0], path)
    return path


# The app in a real browser (tests/test_browser.py; reusable by any page's browser test).
# One Streamlit server and one Chromium for the whole session; a fresh browser context per test.

from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.app import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from bench.app import streamlit_server as bench_server  # noqa: E402

SCREENSHOTS = ROOT / "screenshots"  # git-ignored


@contextmanager
def streamlit_server(model_dir, timeout=90):
    """The app serving `model_dir` on a free localhost port (bench.app.streamlit_server, which the
    benchmarks use too), one torch thread; yields the base URL."""
    with bench_server(model_dir, timeout, env={"OMP_NUM_THREADS": "1"}) as (url, _):
        yield url


@pytest.fixture(scope="session")
def app_server(tiny_model_dir):
    """Base URL of the app serving the tiny model, started once per test session."""
    with streamlit_server(tiny_model_dir) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright (one sync_playwright() per process)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab (own cookies, so its own Streamlit session), 30 s default timeouts."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def chart_traces(at, chart=0) -> list:
    """[(trace name, number of points)] of an AppTest page's plotly chart, in order; [] without one
    (plotly >= 6 may store a trace's x values as base64 `bdata`)."""
    charts = at.get("plotly_chart")
    if len(charts) <= chart:
        return []
    traces = []
    for trace in json.loads(charts[chart].proto.spec)["data"]:
        x = trace.get("x", [])
        points = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]).size if isinstance(x, dict) else len(x)
        traces.append((trace.get("name"), points))
    return traces


# training runs in background threads (tests/test_runner*.py)


def make_run(steps=40, max_seconds=None, panel_every=1000, panel_texts=(), num_samples=0, word_dropout=0.0,
             heldout_texts=(), heldout_every=50, yield_to_users=False, **train):
    """A tiny model's run on SENTENCES (seed 0 unless `train` says otherwise), not yet started."""
    config = TrainConfig(**{"steps": steps, "batch_size": 8, "log_every": 5, **train})
    trained = new_model(SENTENCES, dict(embed_size=16, hidden_size=32, latent_size=4), min_freq=1, max_len=12,
                        seed=config.seed)
    trainer = Trainer(trained, SENTENCES, ObjectiveConfig(kl_warmup_steps=10, word_dropout=word_dropout), config)
    return TrainingRun(trainer, max_seconds, panel_every, panel_texts, num_samples,
                       heldout_texts=heldout_texts, heldout_every=heldout_every, yield_to_users=yield_to_users)


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def no_runs_left_behind():
    """Stops every training run a test left going (`pytestmark = pytest.mark.usefixtures(...)`)."""
    yield
    runner.stop_all()
    wait_until(lambda: runner.active_runs() == 0)


def no_exception(at):
    """The AppTest page ran without an exception (its message otherwise); returns it."""
    assert not at.exception, at.exception[0].value
    return at


# helpers the page tests share

TIMEOUT = 60  # the default 3 s is too short on a busy machine


def sentences(at):
    return list(at.table[0].value["sentence"])


def button(at, label):
    return next(b for b in at.button if b.label == label)


def status_line(at):
    return next((m.value for m in at.markdown if " · step " in m.value), "")


def poll(at, condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition(at):
        assert time.monotonic() < deadline, f"timed out; status: {status_line(at)!r}"
        time.sleep(0.3)
        at.run()


def screenshot(page, name):
    """The whole page: Streamlit scrolls inside its main pane, so make the window as tall as it."""
    SCREENSHOTS.mkdir(exist_ok=True)
    height = page.evaluate("() => Math.max(window.innerHeight, "
                           "...[...document.querySelectorAll('[data-testid=stMain] *')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": page.viewport_size["width"], "height": min(height + 40, 5000)})
    page.mouse.move(0, 0)  # no tooltip from the last click
    page.wait_for_timeout(500)  # let the resized layout paint
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def title(page, text):
    return page.locator("h1", has_text=re.compile(f"^{re.escape(text)}$"))
