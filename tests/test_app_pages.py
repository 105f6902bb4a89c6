"""Every page, run by Streamlit's AppTest against the tiny model: set widgets, press buttons, and
check what the page shows."""

import base64
import json
import re
import shutil
from urllib.parse import parse_qs

import numpy as np
import pytest
from conftest import ROOT, SENTENCES, TIMEOUT, chart_traces, no_exception, sentences
from streamlit.testing.v1 import AppTest

from ui.markdown import escape
from vae.data import read_corpus
from vae.latent_map import bytes_fingerprint, map_path, save_map, weights_fingerprint
from vae.paths import CORPORA
from vae.train import new_model


@pytest.fixture
def open_page(tiny_model_dir, monkeypatch):
    """open_page("pages/1_Sample.py", seed="3") runs a page as a browser opening that link would."""
    monkeypatch.setenv("TEXT_VAE_MODEL", str(tiny_model_dir))

    def open_page(script="streamlit_app.py", session_state=None, **query):
        at = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT)
        at.query_params.update(query)
        for key, value in (session_state or {}).items():
            at.session_state[key] = value
        return at.run()

    return open_page


def all_text(at):
    return "\n".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.error, *at.warning])


def chart_points(at):
    """{trace name: number of points} of the page's plotly chart."""
    return dict(chart_traces(at))


# Home


def test_home_explains_the_vae_with_formulas(open_page):
    at = no_exception(open_page())
    formulas = " ".join(e.value for e in at.latex)
    for part in (r"q_\phi(z \mid x)", r"p(z) = \mathcal{N}(0, I)", r"p_\theta(x \mid z)", "ELBO", r"\mathrm{KL}",
                 r"\sigma \odot \varepsilon"):
        assert part in formulas
    assert "Autoencoder or VAE?" in [e.label for e in at.expander]


def test_home_tries_a_sentence_first(open_page):
    at = no_exception(open_page(**{"try": SENTENCES[0]}))
    assert at.text_input(key="try").value == SENTENCES[0]
    text = all_text(at)
    # Markdown-escaped, so that a typed "*" or "$" shows as itself
    assert f"**You typed:** {escape(SENTENCES[0])}" in text and "**The model reads back:**" in text
    assert "exactly" in text  # the tiny model knows its sentences by heart
    metrics = {m.label: m.value for m in at.metric}
    assert {"Rate (KL)", "−ELBO", "gzip"} <= set(metrics)
    assert all(float(metrics[label].replace(",", "")) > 0 for label in ("Rate (KL)", "−ELBO", "gzip"))
    assert len(at.table[0].value) == 5  # its nearest neighbours
    links = {link.proto.label: parse_qs(link.proto.query_string) for link in at.get("page_link")}
    assert links["Walk to another sentence"] == {"sentence_a": [SENTENCES[0]]}
    assert links["Sample sentences near it"] == {"source": ["near a sentence"], "near": [SENTENCES[0]]}
    assert links["Place it on the latent map"] == {"probe": [SENTENCES[0]]}
    assert links["Walk its latent dimensions"]["dims_sentence"] == [SENTENCES[0]]


def test_home_tries_whatever_is_typed_and_says_so_when_nothing_is(open_page):
    at = no_exception(open_page())
    at.text_input(key="try").set_value(SENTENCES[1]).run()
    assert f"**You typed:** {escape(SENTENCES[1])}" in all_text(no_exception(at))
    assert at.query_params["try"] in (SENTENCES[1], [SENTENCES[1]])  # a link or a reload shows it again
    at.text_input(key="try").set_value("I paid $5 for *this* and $6 for that").run()
    assert "**You typed:** I paid \\$5 for \\*this\\* and \\$6 for that" in all_text(no_exception(at))
    at.text_input(key="try").set_value("   ").run()
    assert "empty" in no_exception(at).warning[0].value.lower()


def test_home_shows_a_long_sentence_cut_with_the_whole_on_demand(open_page):
    long_text = " ".join(["the cat sat on the mat"] * 100)  # 600 words
    at = no_exception(open_page(**{"try": long_text}))
    typed = next(e.value for e in at.markdown if e.value.startswith("**You typed:**"))
    assert typed.endswith("…") and len(typed.split()) < 40
    assert "The whole sentence" in [e.label for e in at.expander]


def test_home_shows_the_model_card(open_page, tiny_trained):
    at = no_exception(open_page())
    text = all_text(at)
    assert f"{tiny_trained[0].model.num_parameters():,} parameters" in text
    assert "tests/conftest.py SENTENCES" in text
    assert "8-dimensional z" in text
    assert "Not measured yet" in text  # the tiny model's card has no test metrics


def test_a_model_trained_in_the_browser_gets_a_card_that_says_so(open_page, tiny_trained):
    at = no_exception(open_page(session_state={"session_model": tiny_trained[0], "session_model_name": "my run"}))
    text = all_text(at)
    assert "Trained in this browser session" in text and "Train** page of this app" in text
    assert not at.code  # no command line for a model that no command trained


def test_home_shows_measured_metrics_and_the_training_command(open_page, tiny_model_dir, tmp_path, monkeypatch):
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model")
    card = json.loads((model_dir / "card.json").read_text())
    card["command"] = "python -m vae train --corpus tiny.txt --out model"
    card["test_metrics"] = {"iw_nll": 41.5, "ppl": 88.2, "kl": 3.25, "active_units": 5, "latent_size": 8,
                            "elbo": -45.0, "recon": 41.75, "mi": 2.5, "reconstruction": {"bleu": 12.5}}
    (model_dir / "card.json").write_text(json.dumps(card))
    monkeypatch.setenv("TEXT_VAE_MODEL", str(model_dir))
    at = no_exception(AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["NLL (nats/sentence)"] == "41.5" and metrics["Perplexity"] == "88.2"
    assert metrics["Active units"] == "5 / 8"
    assert "reconstruction BLEU: 12.500" in all_text(at)
    assert at.code[0].value == card["command"]


def test_without_a_model_every_page_says_how_to_get_one(open_page, monkeypatch, tmp_path):
    monkeypatch.setenv("TEXT_VAE_MODEL", str(tmp_path / "no_model_here"))
    for path in ("streamlit_app.py", "pages/1_Sample.py", "pages/2_Interpolate.py", "pages/3_Latent_map.py"):
        at = no_exception(AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT).run())
        assert "python -m vae train" in at.error[0].value, path
        assert bool(at.latex) == (path == "streamlit_app.py")  # Home still explains the VAE


def test_a_session_model_is_used_until_the_user_goes_back(open_page, tiny_trained):
    at = no_exception(open_page(session_state={"session_model": tiny_trained[0], "session_model_name": "my run"}))
    assert "my run" in at.sidebar.markdown[0].value
    at.sidebar.button[0].click().run()
    assert "shipped model" in at.sidebar.markdown[0].value
    assert "session_model" not in at.session_state


def test_pages_say_when_the_model_has_no_latent_code(open_page):
    baseline = new_model(SENTENCES, dict(embed_size=8, hidden_size=8, latent_size=2, language_model=True),
                         min_freq=1, max_len=12)  # untrained is enough: its codes are zeros by construction
    state = {"session_model": baseline, "session_model_name": "LM baseline"}
    for script in ("pages/2_Interpolate.py", "pages/3_Latent_map.py"):
        at = no_exception(open_page(script, session_state=state))
        assert "no latent code" in at.warning[0].value, script


# Sample


def test_sample_shows_the_requested_number_of_sentences_with_length_and_logprob(open_page):
    at = no_exception(open_page("pages/1_Sample.py"))
    assert len(sentences(at)) == 10
    at.slider(key="samples").set_value(4).run()
    table = no_exception(at).table[0].value
    assert list(table.columns) == ["sentence", "words", "log p(x|z)"] and len(table) == 4
    assert all(table["log p(x|z)"] < 0) and all(table["words"] >= 0)


def test_the_same_seed_and_settings_give_the_same_sentences(open_page):
    first = sentences(no_exception(open_page("pages/1_Sample.py", seed="3", temperature="1.5")))
    again = no_exception(open_page("pages/1_Sample.py", seed="3", temperature="1.5"))
    assert sentences(again) == first
    again.button[0].click().run()  # "New sentences": the next seed
    assert again.number_input(key="seed").value == 4
    assert sentences(again) != first


def test_a_shared_link_restores_the_settings(open_page):
    at = no_exception(open_page("pages/1_Sample.py", seed="9", strategy="top-k", top_k="5", samples="3"))
    assert at.number_input(key="seed").value == 9
    assert at.radio(key="strategy").value == "top-k" and at.slider(key="top_k").value == 5
    assert len(sentences(at)) == 3


def test_beam_search_has_its_width_and_no_temperature(open_page):
    at = no_exception(open_page("pages/1_Sample.py", seed="2", strategy="beam", beam_width="3", samples="4"))
    assert at.slider(key="beam_width").value == 3 and at.slider(key="temperature").disabled
    assert "beam of 3" in at.subheader[0].value and len(sentences(at)) == 4
    at.slider(key="beam_width").set_value(1).run()
    greedy = no_exception(open_page("pages/1_Sample.py", seed="2", strategy="greedy", samples="4"))
    assert sentences(no_exception(at)) == sentences(greedy)  # a beam of one is greedy decoding


def test_the_beam_can_weigh_how_well_each_sentence_encodes_back_to_its_code(open_page):
    plain = no_exception(open_page("pages/1_Sample.py", seed="5", strategy="beam", beam_width="6", samples="12"))
    assert plain.slider(key="posterior_weight").value == 0.0
    weighed = no_exception(open_page("pages/1_Sample.py", seed="5", strategy="beam", beam_width="6", samples="12",
                                     posterior_weight="0.3"))
    assert weighed.slider(key="posterior_weight").value == 0.3 and "code weight 0.30" in weighed.subheader[0].value
    assert sentences(weighed) != sentences(plain)  # the same codes, another choice among the beam's sentences


def test_sampling_near_a_sentence_with_no_spread_decodes_that_sentence(open_page):
    at = no_exception(open_page("pages/1_Sample.py", source="near a sentence", near=SENTENCES[0],
                                spread="0.0", strategy="greedy", samples="3"))
    assert sentences(at) == ["The cat sat on the mat."] * 3
    assert list(at.table[0].value["words"]) == [6] * 3  # the full stop is not a word


def test_sampling_near_an_empty_sentence_warns_instead_of_failing(open_page):
    at = no_exception(open_page("pages/1_Sample.py", source="near a sentence"))
    at.text_input(key="near").set_value("   ").run()
    assert "empty" in no_exception(at).warning[0].value and not at.table


@pytest.mark.parametrize("text, notice", [("the zyzzyva sat", "zyzzyva"), ("zyzzyva quokka ??", "None of these words")])
def test_unknown_words_are_pointed_out(open_page, text, notice):
    at = no_exception(open_page("pages/1_Sample.py", source="near a sentence", near=text))
    assert notice in at.info[0].value and len(sentences(at)) == 10


# Interpolate


def path_lines(at):
    return [m.value for m in at.markdown if m.value.startswith("`t = ")]


def test_interpolation_has_the_requested_steps_between_the_two_sentences(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", sentence_a=SENTENCES[0], sentence_b=SENTENCES[1]))
    at.slider(key="path_steps").set_value(5).run()
    lines = path_lines(no_exception(at))
    assert len(lines) == 5
    assert lines[0].startswith("`t = 0.00`") and lines[-1].startswith("`t = 1.00`")
    plain = [re.sub(r":orange-badge\[(.*?)\]", r"\1", line).replace("\\", "") for line in lines]  # as read
    assert "The cat sat on the mat." in plain[0] and "A dog ran in the park." in plain[-1]
    ends = [m.value for m in at.markdown if m.value.startswith(("**z₀ reads back:**", "**z₁ reads back:**"))]
    assert len(ends) == 2 and all("read back exactly" in e for e in ends)  # the tiny model reconstructs both


def test_words_that_changed_are_highlighted(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py", sentence_a=SENTENCES[0], sentence_b=SENTENCES[1],
                                path="spherical"))
    lines = path_lines(at)
    assert ":orange-badge[" not in lines[0]
    assert any(":orange-badge[" in line for line in lines[1:])


def test_an_overlong_sentence_is_truncated_with_a_notice(open_page):
    long = " ".join(["the cat sat on the mat"] * 4)  # 24 words; the tiny model reads 12
    at = no_exception(open_page("pages/2_Interpolate.py", sentence_a=long, sentence_b=SENTENCES[1]))
    assert "only the first 12" in at.info[0].value and path_lines(at)


def test_an_empty_sentence_warns_instead_of_failing(open_page):
    at = no_exception(open_page("pages/2_Interpolate.py"))
    at.text_input(key="sentence_b").set_value("").run()
    assert "empty" in no_exception(at).warning[0].value and not path_lines(at)


# Latent map


def upload(at, name, data):
    at.selectbox(key="corpus").set_value("your own file").run()
    at.file_uploader[0].set_value((name, data, "text/plain")).run()
    return no_exception(at)


def labelled_csv():
    rows = "\n".join(f'"{s}",{"animals" if i % 2 else "things"}' for i, s in enumerate(SENTENCES))
    return ("text,label\n" + rows).encode()


def test_the_map_of_a_shipped_corpus_has_one_point_per_sentence(open_page):
    at = no_exception(open_page("pages/3_Latent_map.py", corpus="by_author"))
    rows = (CORPORA / "by_author.csv").read_text().count("\n") - 1
    counts = chart_points(at)
    assert sum(counts.values()) == rows and set(counts) == {"Austen", "Dickens", "Verne", "Wells"}
    assert at.get("download_button")


def test_an_uploaded_csv_is_mapped_with_its_labels(open_page):
    at = upload(open_page("pages/3_Latent_map.py"), "mine.csv", labelled_csv())
    assert chart_points(at) == {"things": 10, "animals": 10}


def test_an_uploaded_text_file_is_mapped_without_labels(open_page):
    at = upload(open_page("pages/3_Latent_map.py"), "mine.txt", "\n".join(SENTENCES).encode())
    assert chart_points(at) == {"(no label)": 20}


@pytest.mark.parametrize("name, data, message", [
    ("mine.csv", b"sentence,label\nhello,a\n", "no 'text' column"),
    ("mine.csv", b'text,label\n"unclosed quote,a\n', "malformed CSV"),
    ("mine.txt", "\n".join(["a line"] * 5001).encode(), "the limit is 5,000"),
    ("mine.txt", b"x" * 2_000_001, "2,000,001 bytes (2.0 MB); the limit is 2,000,000 bytes"),
    ("mine.txt", b"\xff\xfe bad bytes", "not UTF-8"),
    ("mine.txt", b"one\ntwo\n", "at least 4 sentences"),
], ids=["no text column", "malformed", "too many rows", "too big", "not utf-8", "too few"])
def test_a_bad_upload_is_refused_with_a_message(open_page, name, data, message):
    at = upload(open_page("pages/3_Latent_map.py"), name, data)
    assert message in at.error[0].value
    assert not at.get("plotly_chart")


def test_a_typed_sentence_lands_on_the_map_among_its_neighbours(open_page):
    at = upload(open_page("pages/3_Latent_map.py"), "mine.csv", labelled_csv())
    at.text_input(key="probe").set_value(SENTENCES[0]).run()
    assert no_exception(at) and chart_points(at)["your sentence"] == 1
    first = at.table[0].value.iloc[0, 0]  # itself: "sentence :gray[:small[label · distance]]"
    assert first.startswith(escape(SENTENCES[0]) + " :gray[") and first.endswith("· 0.00]]")


def test_the_neighbours_column_shows_sentences_and_labels_as_typed():
    import pandas as pd

    from ui.maps import neighbours_column

    table = pd.DataFrame({"sentence": ["*Not* bold [1]."], "label": ["a_b"], "distance": [0.5]})
    assert neighbours_column(table).iloc[0, 0] == r"\*Not\* bold \[1\]\. :gray[:small[a\_b · 0.50]]"


def test_a_precomputed_map_is_shown_as_it_was_saved(open_page, tiny_trained, tiny_model_dir, tmp_path, monkeypatch):
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model")
    corpus = CORPORA / "by_author.csv"
    rows = corpus.read_text().count("\n") - 1
    umap_xy = np.stack([np.arange(rows), -np.arange(rows)], axis=1).astype(np.float32)
    save_map(map_path(model_dir, corpus), np.zeros((rows, 8)), umap_xy, n_neighbors=15, min_dist=0.1,
             weights=weights_fingerprint(tiny_trained[0].model), corpus=bytes_fingerprint(corpus.read_bytes()))
    monkeypatch.setenv("TEXT_VAE_MODEL", str(model_dir))
    at = AppTest.from_file(str(ROOT / "pages/3_Latent_map.py"), default_timeout=TIMEOUT)
    at.query_params.update(corpus="by_author", projection="UMAP")
    no_exception(at.run())  # no UMAP fit: that would take seconds, and give other coordinates
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    xs = np.concatenate([np.frombuffer(base64.b64decode(t["x"]["bdata"]), dtype=t["x"]["dtype"]) for t in spec["data"]])
    assert sorted(xs.tolist()) == list(range(rows))
    assert any("codes precomputed" in c.value for c in at.caption)


def test_a_sentence_lands_on_a_precomputed_umap_map_among_its_neighbours_without_a_fit(
        tiny_trained, tiny_model_dir, tmp_path, monkeypatch):
    from vae.decode import encode_texts

    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model")
    corpus = CORPORA / "by_author.csv"
    texts = read_corpus(corpus).texts
    mu = encode_texts(tiny_trained[0], texts).numpy()
    umap_xy = np.stack([np.arange(len(texts)), -np.arange(len(texts))], axis=1).astype(np.float32)
    save_map(map_path(model_dir, corpus), mu, umap_xy, n_neighbors=15, min_dist=0.1,
             weights=weights_fingerprint(tiny_trained[0].model), corpus=bytes_fingerprint(corpus.read_bytes()))
    monkeypatch.setenv("TEXT_VAE_MODEL", str(model_dir))
    at = AppTest.from_file(str(ROOT / "pages/3_Latent_map.py"), default_timeout=TIMEOUT)
    at.query_params.update(corpus="by_author", projection="UMAP", probe=texts[7])
    no_exception(at.run())  # within AppTest's 3 s: no UMAP fit
    assert any("nearest neighbours' points" in i.value for i in at.info)
    assert at.table[0].value.iloc[0, 0].startswith(escape(texts[7]) + " :gray[")  # itself, nearest
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    star = next(t for t in spec["data"] if t["name"] == "your sentence")
    assert 0 <= star["x"][0] < len(texts)  # among the corpus's own points


def test_a_stale_precomputed_map_is_ignored(open_page, tiny_model_dir, tmp_path, monkeypatch):
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model")
    corpus = CORPORA / "by_author.csv"
    rows = corpus.read_text().count("\n") - 1
    save_map(map_path(model_dir, corpus), np.zeros((rows, 8)), np.zeros((rows, 2)), n_neighbors=15, min_dist=0.1,
             weights="another model", corpus=bytes_fingerprint(corpus.read_bytes()))
    monkeypatch.setenv("TEXT_VAE_MODEL", str(model_dir))
    at = AppTest.from_file(str(ROOT / "pages/3_Latent_map.py"), default_timeout=TIMEOUT)
    at.query_params.update(corpus="by_author")
    summary = [c.value for c in no_exception(at.run()).caption if "sentences, codes" in c.value]
    assert "codes encoded here" in summary[0]
