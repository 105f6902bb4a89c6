"""The checkpoint shipped in assets/model: loads, is consistent, and reads back what people type.

The bar tests use vae/report.py, the code that wrote the card, on the held-out test split and the 102
everyday sentences in tests/data/ (written before the model was trained)."""

import json

import pytest
from safetensors import safe_open

from vae.checkpoint import load_model
from vae.data import read_corpus
from vae.decode import sample_prior
from vae.paths import CORPORA
from vae.paths import SHIPPED_MODEL as SHIPPED
from vae.report import BARS, reconstruction_report

TEST_SPLIT = CORPORA / "test.txt.gz"
# one worker runs this module (pyproject's --dist loadgroup): its report reads 6,000 sentences back with a beam
pytestmark = pytest.mark.xdist_group("shipped_model")


@pytest.fixture(scope="module")
def shipped():
    return load_model(SHIPPED, device="cpu")


@pytest.fixture(scope="module")
def report(shipped):
    return reconstruction_report(shipped, read_corpus(TEST_SPLIT).texts)


def test_config_matches_the_weights(shipped):
    config = json.loads((SHIPPED / "config.json").read_text())["model"]
    with safe_open(SHIPPED / "model.safetensors", "pt") as f:
        assert f.get_slice("embedding.weight").get_shape() == [config["vocab_size"], config["embed_size"]]
        assert f.get_slice("to_mu_logvar.weight").get_shape()[0] == 2 * config["latent_size"]
    assert len(shipped.tokenizer) == config["vocab_size"]


@pytest.mark.parametrize("folder", [SHIPPED, *sorted(SHIPPED.parent.glob("model_*"))], ids=lambda p: p.name)
def test_each_shipped_model_folder_is_at_most_30_mb_and_loads(folder):
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert total <= 30 * 2**20
    trained = load_model(folder, device="cpu")
    assert sample_prior(trained, 3, seed=0)[0].text


def test_the_card_records_how_it_was_trained_and_measured(shipped):
    assert shipped.card["command"].startswith("python -m vae") and " train " in shipped.card["command"]
    assert {"test_metrics", "bars", "bars_met", "rate_distortion"} <= set(shipped.card)


# The default model (assets/model, "precise") is the 44,000-step model; the second (assets/model_smooth) is
# it fine-tuned for 120,000 steps with word deletion in the encoder's input and a low rate (its bars are in its
# card). The bars stay as vae/report.py sets them.
def test_heldout_sentences_of_up_to_12_words_are_read_back(report):
    assert report["bars"]["heldout_exact_match_up_to_12_words"] >= BARS["heldout_exact_match_up_to_12_words"]


def test_heldout_read_backs_score_a_bleu_of_70(report):
    assert report["bars"]["heldout_bleu_up_to_12_words"] >= BARS["heldout_bleu_up_to_12_words"]


def test_short_everyday_sentences_are_read_back(report):
    assert report["bars"]["everyday_exact_match_4_to_8_words"] >= BARS["everyday_exact_match_4_to_8_words"]


# Met since a typed sentence is read back with a beam of 5 and the encoder's check (card: read_back_decoding):
# 37 of 66 (56.1%); greedily, 26 of 66 (39.4%) since 30 sentences on work, school, travel, cooking, sport and
# weather joined the list.
def test_long_everyday_sentences_are_read_back(report):
    assert report["bars"]["everyday_exact_match_9_to_15_words"] >= BARS["everyday_exact_match_9_to_15_words"]


def test_both_ends_of_the_card_interpolations_are_read_back(report):
    assert report["bars"]["interpolation_endpoints_reproduced"] >= BARS["interpolation_endpoints_reproduced"]


def test_the_card_shows_what_the_code_measures(shipped, report):
    for bar in ("heldout_exact_match_up_to_12_words", "everyday_exact_match_4_to_8_words",
                "everyday_exact_match_9_to_15_words", "interpolation_endpoints_reproduced"):
        # decoding is deterministic; a different CPU may still round one argmax differently
        assert shipped.card["bars"][bar] == pytest.approx(report["bars"][bar], abs=0.03)


@pytest.mark.parametrize("source", ["prior", "mixture"])
def test_samples_from_either_source_are_never_empty(shipped, source):
    samples = sample_prior(shipped, 50, seed=0, source=source)
    assert all(1 <= s.num_words <= shipped.max_len for s in samples)


@pytest.mark.parametrize("folder", [SHIPPED, *sorted(SHIPPED.parent.glob("model_*"))], ids=lambda p: p.name)
def test_no_shipped_model_writes_the_name_of_its_corpus_source(folder):
    # both vocabularies hold "tatoeba" (sentences about the site); emoji alone read back with it before
    from vae.decode import reconstruct

    trained = load_model(folder, device="cpu")
    texts = [s.text for s in sample_prior(trained, 100, seed=0)]
    typed = ["😀😀😀", "I log into Tatoeba weekly."]
    texts += [s.text for s in reconstruct(trained, typed)]  # as the try-it box reads them back
    assert not [t for t in texts if "tatoeba" in t.lower()]
