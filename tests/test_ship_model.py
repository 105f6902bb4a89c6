"""scripts/ship_model.py's flags for how a shipped model decodes, as the library reads them back."""

import copy

from scripts.ship_model import decoding_card
from vae.decode import SAMPLE_DEFAULTS, code_decoding, default_sample_settings, read_back_decoding


def test_the_decoding_flags_become_the_models_sample_defaults_and_code_decoding(tiny_trained):
    trained = copy.copy(tiny_trained[0])
    trained.card = {**trained.card, **decoding_card(spread=2.0, source="prior", beam_width=5)}
    assert default_sample_settings(trained) == {**SAMPLE_DEFAULTS, "spread": 2.0, "source": "prior",
                                                "strategy": "beam", "beam_width": 5}
    assert code_decoding(trained.card) == {"strategy": "beam", "beam_width": 5, "posterior_weight": 0.0}
    assert read_back_decoding(trained.card) == code_decoding(trained.card)  # no read-back flags: as code_decoding
    trained.card = {**trained.card, **decoding_card(read_back_beam=4, read_back_weight=0.03)}
    assert read_back_decoding(trained.card) == {"strategy": "beam", "beam_width": 4, "posterior_weight": 0.03}
    assert code_decoding(trained.card) == {"strategy": "beam", "beam_width": 5, "posterior_weight": 0.0}  # unchanged


def test_flags_not_given_leave_the_librarys_defaults():
    assert decoding_card() == {}
    assert decoding_card(source="mixture") == {"sample_defaults": {"source": "mixture"}}
    assert "code_decoding" not in decoding_card(spread=1.5)


def test_refresh_read_back_changes_only_how_the_card_reads_back(tiny_model_dir, tmp_path):
    """scripts/refresh_read_back.py: the card gets the new read_back_decoding and the read-back figures
    measured with it, the same as vae/report.py gives; the weights and the other figures stay."""
    import json
    import shutil

    from scripts import refresh_read_back
    from vae.checkpoint import load_model
    from vae.data import read_corpus
    from vae.paths import CORPORA
    from vae.report import reconstruction_report

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    card = json.loads((folder / "card.json").read_text())
    card.update(test_metrics={"kl": 1.5}, bars={"sample_distinct_2": 0.7}, rate_distortion={"shipped": {"kl": 1.5}})
    (folder / "card.json").write_text(json.dumps(card))
    weights = (folder / "model.safetensors").read_bytes()

    refresh_read_back.main(["--model", str(folder), "--read-back-beam", "3", "--read-back-weight", "0.5"])
    trained = load_model(folder)
    card = trained.card
    assert card["read_back_decoding"] == {"strategy": "beam", "beam_width": 3, "posterior_weight": 0.5}
    expected = reconstruction_report(trained, read_corpus(CORPORA / "test.txt.gz").texts)
    assert card["bars"] == {"sample_distinct_2": 0.7, **expected["bars"]}
    assert card["test_metrics"]["kl"] == 1.5 and card["test_metrics"]["everyday"] == expected["everyday"]
    assert card["rate_distortion"] == {"shipped": {"kl": 1.5}}  # the recipes' table stays as measured
    assert (folder / "model.safetensors").read_bytes() == weights
    assert "decoded with a beam of 3 and the encoder's check" in (folder / "README.md").read_text()
