"""The Train page in Streamlit's AppTest: start a run, watch it, pause it, use the model elsewhere.

`run_every` never fires in AppTest, so the tests poll by rerunning the script."""

import io
import os
import signal
import zipfile

import pytest
from conftest import button, chart_traces, poll, status_line, wait_until
from streamlit.runtime.caching.cache_resource_api import clear_session_cache
from streamlit.testing.v1 import AppTest

from ui import training
from vae import runner
from vae.checkpoint import load_model
from vae.paths import ROOT


@pytest.fixture
def app(tiny_model_dir, monkeypatch):
    monkeypatch.setenv("TEXT_VAE_MODEL", str(tiny_model_dir))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30).run()
    at.switch_page("pages/4_Train.py").run()
    assert not at.exception
    yield at
    runner.stop_all()
    end_session()


def elbo_points(at):
    """Points in the first (−ELBO) trace of the metrics chart, 0 before there is one."""
    traces = chart_traces(at)
    return traces[0][1] if traces else 0


def test_a_preset_sets_the_knobs(app):
    button(app, "Preset: Posterior collapse").click().run()
    assert app.selectbox(key="train_kl_schedule").value == "constant"
    assert app.slider(key="train_word_dropout").value == 0.0
    assert app.slider(key="train_free_bits").value == 0.0
    button(app, "Preset: Fix it").click().run()
    assert app.selectbox(key="train_kl_schedule").value == "linear"
    assert app.slider(key="train_word_dropout").value > 0
    assert app.slider(key="train_free_bits").value > 0


def test_start_watch_pause_use_the_model_on_the_sample_page_and_stop(app):
    app.select_slider(key="train_batch_size").set_value(16)
    app.number_input(key="train_steps").set_value(5_000)
    button(app, "Start").click().run()
    assert not app.exception and not app.error
    assert "running" in status_line(app)
    assert button(app, "Start").disabled and app.slider(key="train_beta").disabled  # knobs locked

    poll(app, lambda at: elbo_points(at) >= 2)  # the metrics arrive while the script is idle
    before = elbo_points(app)
    poll(app, lambda at: elbo_points(at) > before)

    button(app, "Pause").click().run()
    assert "paused" in status_line(app)
    assert not button(app, "Resume").disabled and not button(app, "Step").disabled
    button(app, "Use this model").click().run()
    name = app.session_state["session_model_name"]
    assert name.startswith("trained in this browser, step ")
    assert app.session_state["session_model"].card["steps"] > 0

    app.switch_page("pages/1_Sample.py").run()
    assert not app.exception
    assert any(name in m.value for m in app.sidebar.markdown)
    assert len(app.table[0].value) == 10  # ten sentences sampled by the trained model

    app.switch_page("pages/4_Train.py").run()  # the run outlived the visit to another page
    assert "paused" in status_line(app)
    button(app, "Stop").click().run()
    assert "stopped" in status_line(app)
    assert runner.active_runs() == 0


def end_session():
    """What Streamlit does when a tab's connection is gone: release the session's resources (every
    AppTest runs as the same session)."""
    clear_session_cache("test session id")


def reload(at, tiny_model_dir):
    """What F5 does: the old browser session ends and a new one opens the same URL."""
    end_session()
    fresh = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30)
    fresh.query_params.update(at.query_params)
    fresh.run()
    fresh.query_params.update(at.query_params)  # the entry page's own run may have dropped them
    fresh.switch_page("pages/4_Train.py").run()
    assert not fresh.exception
    return fresh


def test_a_reload_finds_the_same_run_and_the_model_in_use(app, tiny_model_dir):
    app.number_input(key="train_steps").set_value(5_000)
    button(app, "Start").click().run()
    token = app.query_params["run"]
    assert token
    button(app, "Pause").click().run()
    button(app, "Use this model").click().run()
    step = app.session_state["session_model"].card["steps"]

    again = reload(app, tiny_model_dir)
    assert f"step {step:,} of 5,000" in status_line(again) and "paused" in status_line(again)
    assert again.query_params["run"] == token
    assert again.session_state["session_model"].card["steps"] == step
    assert any("a reload" in c.value for c in again.caption)  # the page says how long the run is kept
    button(again, "Stop").click().run()
    assert "stopped" in status_line(again)


def test_a_reload_of_another_page_keeps_the_model_in_use_and_back_forgets_it(app, tiny_model_dir):
    app.number_input(key="train_steps").set_value(5_000)
    button(app, "Start").click().run()
    token = app.query_params["run"]
    button(app, "Pause").click().run()
    button(app, "Use this model").click().run()
    step = app.session_state["session_model"].card["steps"]

    end_session()  # F5 on the Sample page: a new session, the run's token in the link
    sample = AppTest.from_file(str(ROOT / "pages/1_Sample.py"), default_timeout=30)
    sample.query_params["run"] = token
    sample.run()
    assert not sample.exception and sample.session_state["session_model"].card["steps"] == step
    assert "trained in this browser session" in " ".join(m.value for m in sample.sidebar.markdown)
    next(b for b in sample.sidebar.button if b.label == "Back to the shipped model").click().run()
    end_session()
    again = AppTest.from_file(str(ROOT / "pages/1_Sample.py"), default_timeout=30)
    again.query_params["run"] = token
    again.run()
    assert not again.exception and "session_model" not in again.session_state
    button(app, "Stop").click().run()


def test_a_link_to_a_run_that_is_gone_says_so(app, tiny_model_dir):
    app.query_params["run"] = "no-such-run"
    again = reload(app, tiny_model_dir)
    assert any("is gone" in w.value for w in again.warning)
    assert "run" not in again.query_params


def test_a_nan_stop_keeps_the_last_good_step_to_use(app, monkeypatch):
    from vae import train

    monkeypatch.setenv(training.TRAINING_MODE, "thread")  # the broken loss below is this process's
    real_loss_terms, calls = train.loss_terms, []

    def nan_after_three(out, *args, **kwargs):
        loss, stats = real_loss_terms(out, *args, **kwargs)
        calls.append(1)
        return (loss * float("nan") if len(calls) > 3 else loss), stats

    monkeypatch.setattr(train, "loss_terms", nan_after_three)
    button(app, "Start").click().run()
    # the buttons are drawn by the script run after the one whose live view first shows the failure
    poll(app, lambda at: any("**failed** · step 3" in e.value and "loss became nan" in e.value for e in at.error)
         and any(b.label == "Use this model" for b in at.button))
    button(app, "Use this model").click().run()
    assert app.session_state["session_model"].card["steps"] == 3


def test_a_full_server_says_busy_and_try_again(app, monkeypatch):
    monkeypatch.setattr(runner, "MAX_RUNS", 0)
    button(app, "Start").click().run()
    assert any("busy" in e.value and "Try again" in e.value for e in app.error)
    assert not app.exception


def test_the_download_is_a_loadable_checkpoint(tiny_trained, tmp_path):
    trained, trainer = tiny_trained
    run = runner.TrainingRun(trainer)  # never started: the snapshot is the fixture's model
    with zipfile.ZipFile(io.BytesIO(training.checkpoint_bytes(run))) as zf:
        assert sorted(zf.namelist()) == sorted(["model.safetensors", "config.json", "tokenizer.json", "card.json",
                                                "casing.json"])
        zf.extractall(tmp_path)
    loaded = load_model(tmp_path, "cpu")
    assert loaded.card["steps"] == trainer.step
    assert len(loaded.tokenizer) == len(trained.tokenizer)


def test_a_killed_training_process_fails_its_run_only_and_the_page_offers_its_last_saved_step(app):
    from conftest import make_run

    from vae.process_run import ProcessRun

    other = ProcessRun(make_run(10_000).trainer)  # another user's run on the same server
    other.start()
    app.number_input(key="train_steps").set_value(5_000)
    button(app, "Start").click().run()
    runs, _ = training._registry()
    mine = runs[app.query_params["run"]].run
    poll(app, lambda at: mine.steps_done > 2, timeout=60)
    button(app, "Pause").click().run()  # a paused run's step is saved at once
    button(app, "Resume").click().run()
    os.kill(mine._process.pid, signal.SIGKILL)
    poll(app, lambda at: any("**failed**" in e.value and "SIGKILL" in e.value for e in at.error)
         and any(b.label == "Use this model" for b in at.button))
    assert not app.exception
    button(app, "Use this model").click().run()
    assert app.session_state["session_model"].card["steps"] == mine.saved_step
    going = other.steps_done
    wait_until(lambda: other.steps_done > going)
    assert other.status == "running"
    other.stop()
