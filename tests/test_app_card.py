"""The home page's model card with everything ship_model.py writes: bars, reconstruction by length,
KL per dimension, the rate-distortion sweep, samples from each source, interpolations."""

import json
import shutil

from conftest import ROOT
from streamlit.testing.v1 import AppTest

from vae.report import BARS

TIMEOUT = 60


def full_card():
    scores = {"exact_match": 0.5, "token_accuracy": 0.8, "bleu": 60.0, "sentences": 10}
    row = {"run": "free bits 2", "kl": 60.5, "recon": 29.1, "iw_nll": 83.9, "nll_gap_to_lm": 29.1,
           "exact_match": 0.04, "bleu": 15.9, "everyday_exact_match": 0.325, "sample_ppl_ratio": 4.6,
           "sample_distinct_2": 0.95, "active_units": 8, "mi_upper_bound": 57.6}
    return {
        "command": "python -m vae train --corpus tiny.txt --out model",
        "steps": 300, "initial_steps": 2000,
        "objective": {"free_bits": 2.0},
        "objective_changes": [{"after_step": 1500, "free_bits": {"from": 1.0, "to": 2.0}}, 3, {"free_bits": 7},
                              {"after_step": 2000, "word_deletion": {"from": 0.0, "to": 0.3}}],
        "test_metrics": {"iw_nll": 41.5, "iw_nll_mixture_prior": 37.25, "ppl": 88.2, "kl": 16.25, "active_units": 8,
                         "latent_size": 8,
                         "elbo": -45.0, "recon": 28.75, "mi": 2.5, "mi_upper_bound": 15.0,
                         "mi_estimator": "He et al. 2019 over all 10 sentences",
                         "kl_per_dim": [2.0, 2.1, 2.0, 2.5, 2.0, 1.9, 2.0, 1.75],
                         "reconstruction": {**scores, "by_length": {"<=8 words": scores, "9-12 words": scores,
                                                                    "13-15 words": scores}},
                         "reconstruction_unk_allowed": {**scores, "by_length": {"<=8 words": scores}},
                         "compression": {"sentences": 10, "vae": {"neg_elbo": 64.9, "rate": 23.4, "distortion": 41.5,
                                                                  "iw_nll": 59.9},
                                         "alone": {"utf8": 300.0, "gzip": 452.0, "bz2": 580.0, "lzma": 750.0},
                                         "together": {"utf8": 300.0, "gzip": 170.0, "bz2": 190.0, "lzma": 200.0}}},
        "bars": {name: 0.0 for name in BARS},
        "bars_met": {name: name == "sample_empty" for name in BARS},
        "rate_distortion": {"rows": [row, {**row, "run": "free bits 0.25", "kl": 8.4, "recon": 49.3}],
                            "shipped": {**row, "run": "shipped (26000 steps)", "kl": 60.0, "recon": 12.0},
                            "longer_runs": [{**row, "run": "free bits 2, 20000 steps", "kl": 59.5, "recon": 19.5}],
                            "budget": "--steps 1000", "test_sentences": 537, "note": "Free bits 2 won."},
        "samples": {"prior": ["a prior sample ."], "mixture": ["a mixture sample ."]},
        "interpolations": [{"from": "a", "to": "b", "path": ["a .", "b ."]}],
        "walkability": {kind: {"sentences": 30, "unseen_bigrams": 0.05, "copied_from_train": 0.1, "distinct_2": 0.7}
                        for kind in ("samples", "interpolations", "neighbour_midpoints", "real_heldout")},
        "blind_reader": {"sample": {"grammatical": 21, "of": 30}, "midpoint": {"grammatical": 19, "of": 30},
                         "real": {"grammatical": 29, "of": 30}},
        "offsets": {"strength 2": {"present → past": [{"typed": "I am tired.", "moved": "I was tired.",
                                                          "target_kind": True}]}},
    }


def test_the_card_shows_bars_trade_off_kl_per_dimension_and_samples(tiny_model_dir, tmp_path, monkeypatch):
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model")
    card = {**json.loads((model_dir / "card.json").read_text()), **full_card()}
    (model_dir / "card.json").write_text(json.dumps(card))
    monkeypatch.setenv("TEXT_VAE_MODEL", str(model_dir))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception[0].value
    assert "The rate-distortion trade-off" in [h.value for h in at.subheader]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [c["layout"]["title"]["text"] for c in charts]
    assert "KL of each latent dimension on held-out sentences" in titles
    sweep = charts[titles.index("Each dot is one run")]
    assert [t["name"] for t in sweep["data"]] == ["sweep: same short budget", "long runs (hours of training)",
                                                  "the shipped model"]
    assert sweep["data"][1]["text"] == ["free bits 2, 20000 steps"]
    tables = [t.value for t in at.dataframe]
    bars = next(t for t in tables if "bar" in t.columns)
    assert len(bars) == len(BARS) and list(bars["met"]).count("yes") == 1
    assert any("exact match, <unk> allowed" in t.columns for t in tables)
    bits = next(t for t in tables if "each sentence alone" in t.columns).set_index("code")
    assert bits.loc["gzip", "each sentence alone"] == 452.0 and bits.loc["gzip", "the whole split as one file"] == 170.0
    assert bits.loc["this VAE: −ELBO (rate + distortion)", "each sentence alone"] == 64.9
    text = "\n".join(e.value for e in [*at.markdown, *at.caption])
    assert "a prior sample ." in text and "a mixture sample ." in text and "Free bits 2 won." in text
    assert "2,000 training steps, then 300 more fine-tuning it" in text
    # a broken entry is skipped
    assert "After step 1,500, free bits went from 1.0 to 2.0 nats per dimension." in text
    assert "After step 2,000, the encoder's word deletion went from 0.0 to 0.3." in text
    assert "default samples 21 of 30, path midpoints 19 of 30, real sentences 29 of 30" in text
    assert "present → past 1 of 1" in text
    walk = next(t for t in tables if "decoded from" in t.columns)
    assert len(walk) == 4 and list(walk["word pairs never seen in training"]) == [0.05] * 4
    assert "I was tired." in list(next(t for t in tables if "moved" in t.columns)["moved"])
    assert ("NLL with the fitted mixture (the Sample page's default source of codes, at spread 1) as the prior: "
            "37.250") in text
