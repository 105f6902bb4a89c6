"""The Train page's held-out measurements, presets and upload checks, in AppTest (`run_every`
never fires there, so the tests poll by rerunning the script)."""

import pytest
from conftest import ROOT, button, poll
from streamlit.runtime.caching.cache_resource_api import clear_session_cache
from streamlit.testing.v1 import AppTest

from vae import runner
from vae.paths import CORPORA


@pytest.fixture
def train_page(tiny_model_dir, monkeypatch):
    monkeypatch.setenv("TEXT_VAE_MODEL", str(tiny_model_dir))
    at = AppTest.from_file(str(ROOT / "pages/4_Train.py"), default_timeout=30).run()
    assert not at.exception
    yield at
    runner.stop_all()
    clear_session_cache("test session id")


def metrics(at):
    return {m.label: m.value for m in at.metric}


def test_the_active_preset_is_marked_and_its_caption_says_what_to_watch(train_page):
    at = train_page
    assert button(at, "Preset: Fix it").proto.type == "primary"  # the defaults are "Fix it"
    assert button(at, "Preset: Posterior collapse").proto.type == "secondary"
    button(at, "Preset: Posterior collapse").click().run()
    assert button(at, "Preset: Posterior collapse").proto.type == "primary"
    assert any(c.value.startswith("**Posterior collapse:**") and "active units" in c.value for c in at.caption)
    at.slider(key="train_beta").set_value(0.5).run()
    assert all(button(at, f"Preset: {name}").proto.type == "secondary" for name in ("Fix it", "Posterior collapse"))
    assert any("no preset" in c.value for c in at.caption)


def test_held_out_numbers_are_shown_and_a_single_step_moves_them(train_page):
    at = train_page
    at.number_input(key="train_steps").set_value(5_000)
    button(at, "Start").click().run()
    poll(at, lambda at: "−ELBO" in metrics(at) and any("held-out sentences" in c.value for c in at.caption))
    button(at, "Pause").click().run()
    poll(at, lambda at: "paused" in " ".join(m.value for m in at.markdown))
    at.run()
    before = metrics(at)["−ELBO"]
    button(at, "Step").click().run()
    poll(at, lambda at: metrics(at)["−ELBO"] != before)
    assert any("Dots: held-out sentences (200 sentences of the shipped validation set)" in c.value
               for c in at.caption)


def test_an_upload_is_measured_on_its_own_held_out_lines_and_memorising_is_called_out(train_page):
    at = train_page
    # 60 lines of everyday sentences: too few to learn how sentences go, few enough to learn by heart
    lines = (CORPORA / "tiny_train.txt").read_text().splitlines()[:60]
    at.radio(key="train_source").set_value("upload").run()
    at.file_uploader[0].set_value(("mine.txt", "\n".join(lines).encode(), "text/plain")).run()
    at.number_input(key="train_steps").set_value(400)
    at.select_slider(key="train_batch_size").set_value(16)
    button(at, "Start").click().run()
    poll(at, lambda at: "finished" in " ".join(m.value for m in at.markdown), timeout=120)
    at.run()
    assert any("6 lines of your file, held out of training" in c.value for c in at.caption)
    held_out = set(at.table[0].value["sentence"])
    assert held_out and held_out <= set(lines)
    assert any("memorising its training lines" in w.value for w in at.warning)
