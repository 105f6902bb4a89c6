"""Two shipped models: the sidebar chooses between them, and a link or a reload keeps the choice."""

import json
import shutil

from conftest import ROOT, TIMEOUT, no_exception
from streamlit.testing.v1 import AppTest

import vae.paths


def two_models(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("TEXT_VAE_MODEL", raising=False)
    default, precise = tmp_path / "model", tmp_path / "model_precise"
    for folder, says in ((default, {"name": "smooth", "summary": "walks: samples read as English"}),
                         (precise, {"summary": "reads back what you type"})):
        shutil.copytree(tiny_model_dir, folder)
        card = json.loads((folder / "card.json").read_text())
        (folder / "card.json").write_text(json.dumps({**card, **says}))
    monkeypatch.setattr(vae.paths, "SHIPPED_MODEL", default)
    return default, precise


def sidebar_text(at):
    return " ".join(m.value for m in at.sidebar.markdown)


def test_the_sidebar_offers_each_shipped_model_and_the_url_keeps_the_choice(tiny_model_dir, tmp_path, monkeypatch):
    default, precise = two_models(tiny_model_dir, tmp_path, monkeypatch)
    at = no_exception(AppTest.from_file(str(ROOT / "pages/1_Sample.py"), default_timeout=TIMEOUT).run())
    choice = at.sidebar.radio(key="model")
    assert choice.options == ["smooth", "precise"] and choice.value == "smooth"  # a card's name, else the folder's
    assert str(default) in sidebar_text(at)
    choice.set_value("precise").run()
    assert str(precise) in sidebar_text(no_exception(at))
    # a copied link, or a reload: the page opens with ?model=precise
    again = AppTest.from_file(str(ROOT / "pages/1_Sample.py"), default_timeout=TIMEOUT)
    again.query_params["model"] = "precise"
    again = no_exception(again.run())
    assert again.sidebar.radio(key="model").value == "precise" and str(precise) in sidebar_text(again)


def test_one_model_needs_no_choice(tiny_model_dir, monkeypatch):
    monkeypatch.setenv("TEXT_VAE_MODEL", str(tiny_model_dir))
    at = no_exception(AppTest.from_file(str(ROOT / "pages/1_Sample.py"), default_timeout=TIMEOUT).run())
    assert not [r for r in at.sidebar.radio if r.key == "model"]


def test_each_models_own_default_spread_is_on_the_sample_pages_slider(tiny_model_dir, tmp_path, monkeypatch):
    default, precise = two_models(tiny_model_dir, tmp_path, monkeypatch)
    card = json.loads((default / "card.json").read_text())
    (default / "card.json").write_text(json.dumps({**card, "sample_defaults": {"spread": 2.0}}))  # smooth's own
    at = no_exception(AppTest.from_file(str(ROOT / "pages/1_Sample.py"), default_timeout=TIMEOUT).run())
    spread = next(s for s in at.slider if s.label == "Spread")
    # room above it too (Streamlit would stretch a 0-1.5 slider to end at the default, 2.0)
    assert spread.value == 2.0 and spread.max > 2.0
    assert "spread 2.00" in at.subheader[0].value  # and the sentences were decoded at it
