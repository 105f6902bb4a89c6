"""The model card (assets/model/README.md) is written by scripts/model_card.py from card.json and
config.json: it has the Hugging Face header and sections, its figures are the card's, the shipped
one is up to date, and a new model's sparse card renders too."""

import json
import re
import shutil

import pytest

from scripts.model_card import (
    CARD_FILE,
    NOTES_BEGIN,
    kept_notes,
    render_model_card,
    weights_digest,
    write_model_card,
)
from vae.paths import SHIPPED_MODEL

SECTIONS = ["## Model details", "## Intended uses and limits", "## Training data", "## Training procedure",
            "## Evaluation", "## Limitations and biases", "## How to cite"]


@pytest.fixture(scope="module")
def shipped():
    card = json.loads((SHIPPED_MODEL / "card.json").read_text())
    config = json.loads((SHIPPED_MODEL / "config.json").read_text())
    return card, config


def header(text):
    """The YAML header's keys and values: `key: value` lines, and `- item` lines listed under a key
    (all the form the card uses; pyyaml is not a requirement)."""
    assert text.startswith("---\n")
    meta, key = {}, None
    for line in text.split("---\n")[1].splitlines():
        if line.startswith("- "):
            meta[key].append(line[2:])
        else:
            key, value = (part.strip() for part in line.split(":", 1))
            meta[key] = value or []
    return meta


def test_the_shipped_card_renders_with_the_hugging_face_header_and_sections(shipped):
    card, config = shipped
    text = render_model_card(card, config, folder=SHIPPED_MODEL)
    meta = header(text)
    assert {"license", "language", "datasets", "metrics", "library_name"} <= set(meta)
    assert meta["language"] == ["en"] and meta["datasets"] == ["tatoeba"]
    for title in SECTIONS:
        assert title in text
    assert "Tatoeba contributors" in text and "CC BY 2.0 FR" in text and "Tom or Mary" in text
    assert not re.search(r"\bissue \d", text, re.I)


def test_its_figures_are_the_cards(shipped):
    card, config = shipped
    text = render_model_card(card, config, folder=SHIPPED_MODEL)
    assert f"{card['parameters']:,} parameters" in text
    assert f"{config['model']['latent_size']}-dimensional" in text
    for bucket, scores in card["test_metrics"]["reconstruction"]["by_length"].items():
        assert f"| {bucket} | {scores['sentences']:,} | {100 * scores['exact_match']:.1f}% |" in text
    for texts in card["samples"].values():  # quoted exactly as they came out
        assert "\n".join(texts) in text
    for path in card["interpolations"]:
        assert path["from"] in text and path["path"][-1] in text
    for line in card["command"].split(" (")[0].split(" && "):
        assert line.strip() in text
    assert f"{card['test_metrics']['iw_nll']:.1f}" in text
    assert f"{card['bars']['sample_lm_perplexity_ratio']:.2f}" in text
    assert text.count("**no**") == sum(not met for met in card["bars_met"].values())


def test_the_shipped_card_is_up_to_date(shipped):
    """Rerun `python scripts/model_card.py` after the model or its card.json changes."""
    card, config = shipped
    path = SHIPPED_MODEL / CARD_FILE
    digest = weights_digest(SHIPPED_MODEL)
    expected = render_model_card(card, config, kept_notes(path, digest), SHIPPED_MODEL, digest)
    assert path.read_text(encoding="utf-8") == expected, "run: python scripts/model_card.py"


@pytest.mark.parametrize("card", [{}, {"steps": 40}, {"steps": 40, "training_corpus": "x.txt", "bars": {},
                                                    "test_metrics": {"reconstruction": {}}, "samples": ["a b"],
                                                    "objective_changes": [None, {"after_step": 3}]}])
def test_a_sparse_card_renders_without_the_lines_it_lacks(card, tmp_path):
    path = write_model_card(card, tmp_path / "README.md", config={})
    text = path.read_text()
    assert {"license", "language", "datasets", "metrics", "library_name"} <= set(header(text))
    assert "## Model details" in text and "None" not in text and "n/a" not in text
    assert "baseline" not in text  # no baseline_lm, so no line about it


def test_notes_are_kept_for_the_same_weights_only(tmp_path):
    for name in ("model.safetensors", "config.json", "card.json"):
        shutil.copy(SHIPPED_MODEL / name, tmp_path / name)
    card = json.loads((tmp_path / "card.json").read_text())
    path = write_model_card(card, tmp_path / CARD_FILE, notes="Trained on a *Tuesday*.")
    assert NOTES_BEGIN.format(digest=weights_digest(tmp_path)) in path.read_text()
    write_model_card(card, path)  # rewritten for the same weights: the notes stay
    assert "Trained on a *Tuesday*." in path.read_text()
    (tmp_path / "model.safetensors").write_bytes(b"other weights")
    write_model_card(card, path)  # new weights: the old model's notes go
    assert "Tuesday" not in path.read_text()


def test_every_blind_reader_of_a_model_is_on_its_card():
    from scripts.model_card import blind_reader

    card = {"blind_reader": {"sample": {"grammatical": 20, "of": 30}, "real": {"grammatical": 30, "of": 30}},
            "blind_readers_later": [{"sample": 15, "midpoint": 27, "real": 30, "when": "reader 15"}, "junk"]}
    text = blind_reader(card)
    assert "sample: 20 of 30" in text
    assert "Later readers" in text and "sample 15 of 30, midpoint 27 of 30, real 30 of 30 (reader 15)" in text


def test_a_recorded_command_of_a_tied_model_says_how_to_retrain_it_now_that_auto_is_the_default():
    from scripts.model_card import training_procedure

    fresh = {"command": "python -m vae train --corpus c.txt --out runs/x --vocab-size 15000"}
    tied, small = {"vocab_size": 15_000}, {"vocab_size": 900}  # a config.json of before the option: tied
    assert "--output-layer tied" in training_procedure(fresh, tied)
    assert "--output-layer tied" not in training_procedure(fresh, small)  # auto gives it the tied layer too
    assert "--output-layer tied" not in training_procedure(fresh, {**tied, "output_layer": "adaptive"})
    fine_tune = {"command": "python -m vae train --init-from assets/model --corpus c.txt --out runs/y"}
    assert "--output-layer tied" not in training_procedure(fine_tune, tied)  # it keeps its model's layer
