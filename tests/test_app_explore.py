"""The exploring pages' newer controls, run by AppTest against the tiny model: where Sample draws
its codes, the Interpolate page's arithmetic and nearest neighbours, the latent map's selection, and
the navigation's titles."""

import json

import pytest
from conftest import ROOT, SENTENCES, TIMEOUT, no_exception, sentences
from streamlit.testing.v1 import AppTest

from ui.maps import PALETTE, selected_rows
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


# Interpolate: the ends side by side, arithmetic, nearest neighbours


def test_each_end_of_the_path_shows_what_was_typed_beside_what_is_read_back(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", sentence_a=SENTENCES[0], sentence_b=SENTENCES[1]))
    text = [m.value for m in at.markdown]
    assert text.index("**s₀ typed:** the cat sat on the mat \\.") < text.index(
        next(t for t in text if t.startswith("`t = 0.00`")))
    assert text.index(next(t for t in text if t.startswith("`t = 1.00`"))) < text.index(
        "**s₁ typed:** a dog ran in the park \\.")
    assert sum("read back exactly" in t for t in text) == 2


def test_arithmetic_decodes_c_plus_b_minus_a(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="arithmetic"))
    at.text_input(key="sum_a").set_value(SENTENCES[2])
    at.text_input(key="sum_b").set_value(SENTENCES[2])
    at.text_input(key="sum_c").set_value(SENTENCES[9]).run()
    assert "### rain falls on the roof\\." in [m.value for m in no_exception(at).markdown]  # b = a: c itself
    assert sum("read back exactly" in m.value for m in at.markdown) == 3


def test_arithmetic_with_an_empty_sentence_warns(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="arithmetic", sum_b=" "))
    assert "empty" in at.warning[0].value


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_a_corpus_sentence_is_its_own_nearest_neighbour(open_page, metric):
    sentence = "The crew waited impatiently for their chief's orders."  # by_author's first line
    at = no_exception(open_page("pages/2_Interpolate.py", mode="nearest neighbours", corpus="by_author",
                                probe=sentence, metric=metric))
    table = at.table[0].value
    assert len(table) == 8 and table["sentence"].iloc[0] == sentence and table["label"].iloc[0] == "Verne"
    assert abs(table["distance"].iloc[0]) < 1e-4 and table["distance"].is_monotonic_increasing
    at.slider(key="neighbours").set_value(3).run()
    assert len(no_exception(at).table[0].value) == 3


# Latent map: palette and selection


def test_the_map_uses_the_colour_blind_safe_palette_and_can_select(open_page):
    at = no_exception(open_page("pages/3_Latent_map.py", corpus="by_source"))
    chart = at.get("plotly_chart")[0].proto
    spec = json.loads(chart.spec)
    colours = {trace["name"]: trace["marker"]["color"] for trace in spec["data"]}
    assert sorted(colours) == ["bible", "fortunes", "novels", "wordnet"]
    assert set(colours.values()) == set(PALETTE[:4])
    assert set(chart.selection_mode) == {1, 2}  # box and lasso (points-by-click stays off)
    assert not at.dataframe  # nothing selected yet


def test_labels_beyond_the_palette_also_change_shape(open_page):
    at = no_exception(open_page("pages/3_Latent_map.py", corpus="wordnet_topics"))
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(spec["data"]) == 12
    styles = {(trace["marker"]["color"], trace["marker"]["symbol"]) for trace in spec["data"]}
    assert len(styles) == 12


def test_selected_points_become_corpus_rows_and_the_star_is_skipped():
    selection = {"points": [{"customdata": ["b", 7]}, {"customdata": ["a", 2]}, {"customdata": ["b", 7]},
                            {"x": 0.1, "y": 0.2}]}  # the last is the typed sentence's star
    assert selected_rows(selection) == [2, 7]
    assert selected_rows(None) == [] and selected_rows({"points": []}) == []
