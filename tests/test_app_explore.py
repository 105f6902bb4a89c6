"""The exploring pages' newer controls, run by AppTest against the tiny model: where Sample draws
its codes, the Interpolate page's arithmetic, nearest neighbours and latent dimensions (and its notices
and long inputs), the latent map's selection, and the navigation's titles."""

import json

import pytest
from conftest import ROOT, SENTENCES, TIMEOUT, no_exception, sentences
from streamlit.testing.v1 import AppTest

from ui.dimensions import SAME
from ui.maps import PALETTE, selected_rows
from vae.checkpoint import load_model, save_checkpoint
from vae.data import read_corpus
from vae.decode import SAMPLE_DEFAULTS, dimensions_by_change, encode_texts
from vae.density import fit_latent_density
from vae.metrics import rank_dimensions
from vae.paths import VALID_SPLIT


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


def test_a_spread_of_zero_decodes_the_centre_of_the_prior_every_time(open_page):
    at = no_exception(open_page("pages/1_Sample.py", strategy="greedy"))
    at.slider(key="prior_spread").set_value(0.0).run()
    assert len(set(sentences(no_exception(at)))) == 1
    assert "spread 0.00" in at.subheader[0].value


def test_without_a_fitted_mixture_sample_offers_only_the_prior(open_page):
    at = no_exception(open_page("pages/1_Sample.py"))
    assert not [r for r in at.radio if r.key == "draw_from"]


def test_sample_starts_from_the_measured_default_source_and_switches(tiny_model_dir, tmp_path, monkeypatch):
    trained = load_model(tiny_model_dir, device="cpu")
    trained.density = fit_latent_density(encode_texts(trained, SENTENCES), components=2)
    model_dir = tmp_path / "model"
    save_checkpoint(trained, model_dir)
    monkeypatch.setenv("TEXT_VAE_MODEL", str(model_dir))
    at = no_exception(AppTest.from_file(str(ROOT / "pages/1_Sample.py"), default_timeout=TIMEOUT).run())
    mixture, normal = "mixture fitted to training codes", "N(0, I) prior"
    default, other = (mixture, normal) if SAMPLE_DEFAULTS["source"] == "mixture" else (normal, mixture)
    assert at.radio(key="draw_from").value == default
    assert at.radio(key="strategy").value == SAMPLE_DEFAULTS["strategy"]
    assert at.slider(key="temperature").value == SAMPLE_DEFAULTS["temperature"]
    first = sentences(at)
    at.radio(key="draw_from").set_value(other).run()
    assert len(sentences(no_exception(at))) == 10 and sentences(at) != first


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
    assert "### Rain falls on the roof\\." in [m.value for m in no_exception(at).markdown]  # b = a: c itself
    assert sum("read back exactly" in m.value for m in at.markdown) == 3


def test_arithmetic_with_an_empty_sentence_warns(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="arithmetic", sum_b=" "))
    assert "empty" in at.warning[0].value


def test_offsets_move_a_typed_sentence_by_the_chosen_kind_and_strength(open_page):
    at = AppTest.from_file(str(ROOT / "pages/2_Interpolate.py"), default_timeout=60)  # the first fit: 6,000 codes
    at.query_params.update(mode="offsets", offset_sentence=SENTENCES[3])
    at = no_exception(at.run())
    assert at.selectbox(key="offset").value == "statement → question"
    assert sum("read back exactly" in m.value for m in at.markdown) == 1
    at.slider(key="offset_strength").set_value(0.0).run()  # no move: the sentence's own read-back
    assert "### We like green tea\\." in [m.value for m in no_exception(at).markdown]
    at.selectbox(key="offset").set_value("present → past").run()
    assert no_exception(at).subheader[0].value == "present → past"


def test_offsets_of_an_empty_sentence_warn(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="offsets", offset_sentence=" "))
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


# Interpolate: latent dimensions, notices above the outcome, long input


def dimension_grid(at) -> list[list[str]]:
    """The walks' table as rows [label, t, sentence], the header first: one row per step but t = 0."""
    table = next(m.value for m in at.markdown if m.value.startswith("| z | t |"))
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table.splitlines()]
    return [rows[0]] + rows[2:]  # without the |---| line


def walked(at) -> list[str]:
    """The dimensions walked, in order: the labels of the table's first row for each."""
    return [row[0].split()[0] for row in dimension_grid(at)[1:] if row[0]]


def path_lines(at) -> list:
    return [m for m in at.markdown if m.value.startswith("`t = ")]


def in_order(at) -> list:
    """Every element of the page's main area, in the order it shows."""
    def walk(node):
        yield node
        for key in sorted(getattr(node, "children", None) or {}):
            yield from walk(node.children[key])
    return list(walk(at.main))


def test_a_link_opens_the_latent_dimensions_of_its_sentence(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="latent dimensions", dims_sentence=SENTENCES[0]))
    grid = dimension_grid(at)
    assert grid[0] == ["z", "t", "decoded"]
    assert len(walked(at)) == 3 and len(grid) == 1 + 3 * 4  # 3 dimensions, 4 steps each: t = 0 is mu, above
    assert [row[1] for row in grid[1:5]] == ["-3", "-1.5", "+1.5", "+3"]
    assert "**μ reads back:** The cat sat on the mat\\. :green-badge[:material/check: read back exactly]" in [
        m.value for m in at.markdown]


def test_the_mode_switches_to_latent_dimensions(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", dims_sentence=SENTENCES[0]))
    assert not [m for m in at.markdown if m.value.startswith("| z")]
    at.selectbox(key="mode").set_value("latent dimensions").run()
    assert len(walked(no_exception(at))) == 3


def test_the_dimensions_that_change_the_sentence_most_come_first(open_page, tiny_trained):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="latent dimensions", dims_sentence=SENTENCES[1]))
    changes = dimensions_by_change(tiny_trained[0], SENTENCES[1], 5)
    labels = [row[0] for row in dimension_grid(at)[1:] if row[0]]
    assert labels == [f"**z{dim}** · {n} words" for dim, n in changes[:3]]
    assert [n for _, n in changes] == sorted((n for _, n in changes), reverse=True)
    ranked = rank_dimensions(tiny_trained[0], read_corpus(VALID_SPLIT).texts)
    table = at.expander[-1].dataframe[0].value  # every dimension by KL, below
    assert list(table["dimension"]) == [f"z{dim}" for dim, _ in ranked] and len(table) == 8


def test_fewer_or_more_dimensions(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="latent dimensions", dims_sentence=SENTENCES[1]))
    at.number_input(key="top_dims").set_value(2).run()
    assert len(walked(no_exception(at))) == 2
    at.number_input(key="top_dims").set_value(8).run()
    assert len(walked(no_exception(at))) == 8


def test_any_dimension_can_be_walked_first(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="latent dimensions", dims_sentence=SENTENCES[2]))
    top = walked(at)
    others = [dim for dim in range(8) if f"**z{dim}**" not in top]
    at.number_input(key="dimension").set_value(others[0]).run()
    assert walked(no_exception(at)) == [f"**z{others[0]}**"] + top
    at.number_input(key="dimension").set_value(int(top[1][3:-2])).run()  # already walked: moved first, not twice
    assert walked(no_exception(at)) == [top[1]] + [top[0]] + top[2:]


def test_only_a_picked_dimension_when_no_others_are_asked_for(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="latent dimensions", top_dims="0",
                                dims_sentence=SENTENCES[5]))
    assert "Choose" in at.info[0].value and not [m for m in at.markdown if m.value.startswith("| z")]
    at.number_input(key="dimension").set_value(3).run()
    assert walked(no_exception(at)) == ["**z3**"]


def test_the_steps_of_a_walk(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="latent dimensions", dims_sentence=SENTENCES[3]))
    at.slider(key="dimension_steps").set_value(7).run()
    assert [row[1] for row in dimension_grid(no_exception(at))[1:7]] == ["-3", "-2", "-1", "+1", "+2", "+3"]
    at.slider(key="dimension_steps").set_value(3).run()
    assert [row[1] for row in dimension_grid(no_exception(at))[1:3]] == ["-3", "+3"]


def test_changed_words_in_the_walks_are_marked(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="latent dimensions", dims_sentence=SENTENCES[16],
                                top_dims="8"))
    cells = [row[2] for row in dimension_grid(at)[1:] if row[2] != SAME]
    assert cells and all(":orange-background[" in cell for cell in cells)  # a cell is shown only if it differs


def test_latent_dimensions_of_an_empty_sentence_warn(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", mode="latent dimensions", dims_sentence=" "))
    assert "empty" in at.warning[0].value and not at.expander


def test_notices_come_before_the_path(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", sentence_a="the zyzzyva sat on the mat",
                                sentence_b=" ".join(["a dog ran in the park ."] * 4)))
    assert len(at.info) == 1  # one box for every notice
    notices = at.info[0].value.replace("\\", "")  # as shown: the Markdown escapes gone
    assert "From: Not in the vocabulary (read as <unk>): zyzzyva" in notices
    assert "To: The sentence has 28 tokens" in notices
    elements = in_order(at)
    assert elements.index(at.info[0]) < elements.index(at.subheader[0]) < elements.index(path_lines(at)[0])


def test_a_long_input_is_shown_cut_with_the_whole_on_demand(open_page):
    long = " ".join(["the cat sat on the mat"] * 84)[: -len(" mat")]  # 503 words
    at = no_exception(open_page("pages/2_Interpolate.py", sentence_a=long, sentence_b=SENTENCES[1]))
    typed = next(m.value for m in at.markdown if m.value.startswith("**s₀ typed:**"))
    assert typed.endswith(" …") and len(typed.split()) == 2 + 30 + 1
    expander = at.expander[0]
    assert expander.label == "All 503 words" and expander.markdown[0].value.split() == long.split()
    elements = in_order(at)
    assert elements.index(at.info[0]) < elements.index(path_lines(at)[0])


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
