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
