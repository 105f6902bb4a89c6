"""The exploring pages' newer controls, run by AppTest against the tiny model: where Sample draws
its codes, the Interpolate page's arithmetic and nearest neighbours, the latent map's selection, and
the navigation's titles."""

import pytest
from conftest import ROOT, SENTENCES
from streamlit.testing.v1 import AppTest
from test_app_pages import TIMEOUT, no_exception, sentences

from vae.checkpoint import load_model, save_checkpoint
from vae.density import fit_latent_density


@pytest.fixture
def open_page(tiny_model_dir, monkeypatch):
    """open_page("pages/1_Sample.py", seed="3") runs a page as a browser opening that link would."""
    monkeypatch.setenv("TEXT_VAE_MODEL", str(tiny_model_dir))

    def open_page(script="streamlit_app.py", **query):
        at = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT)
        at.query_params.update(query)
        return at.run()

    return open_page


# navigation


def test_the_navigation_lists_home_and_the_pages_by_their_titles():
    source = (ROOT / "streamlit_app.py").read_text()
    assert 'title="Home"' in source
    from ui.common import PAGES
    assert [title for _, title in PAGES] == ["Sample", "Interpolate", "Latent map", "Train"]
    assert all((ROOT / "pages" / f"{name}.py").is_file() for name, _ in PAGES)


# Sample: where the codes come from


def test_without_a_fitted_mixture_sample_offers_only_the_prior(open_page):
    at = no_exception(open_page("pages/1_Sample.py"))
    assert not [r for r in at.radio if r.key == "draw_from"]


def test_sample_draws_from_the_fitted_mixture_when_asked(tiny_model_dir, tmp_path, monkeypatch):
    trained = load_model(tiny_model_dir, device="cpu")
    trained.density = fit_latent_density(trained, SENTENCES, components=2)
    model_dir = tmp_path / "model"
    save_checkpoint(trained, model_dir)
    monkeypatch.setenv("TEXT_VAE_MODEL", str(model_dir))
    at = no_exception(AppTest.from_file(str(ROOT / "pages/1_Sample.py"), default_timeout=TIMEOUT).run())
    prior = sentences(at)
    at.radio(key="draw_from").set_value("mixture fitted to training codes").run()
    assert len(sentences(no_exception(at))) == 10 and sentences(at) != prior
