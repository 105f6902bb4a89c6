"""The benchmark keeps working: `python -m bench --quick` on a tiny model writes every section.

Nothing here is timed; the numbers only have to exist and be positive."""

import json
import math

import numpy as np
import pytest

from bench import report
from bench.__main__ import main
from bench.latency import cold_projection
from bench.measure import summary
from bench.training import flops_per_token
from vae.model import ModelConfig


@pytest.fixture(scope="module")
def quick_results(tiny_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    assert main(["--quick", "--model", str(tiny_model_dir), "--json", str(out)]) == 0
    return json.loads(out.read_text())


def positive(section, *keys):
    for key in keys:
        value = section
        for part in key.split("."):
            value = value[part]
        assert value > 0, key


def test_quick_run_measures_the_hardware_ceiling(quick_results):
    positive(quick_results["hardware"], "gflops", "size")


def test_quick_run_measures_training_in_both_configurations(quick_results):
    for name in ("shipped", "ptb"):
        positive(quick_results["training"][name], "tokens_per_s", "flops_per_token", "achieved_gflops", "efficiency")
    ptb = quick_results["training"]["ptb"]["config"]
    assert (ptb["rnn_type"], ptb["embed"], ptb["hidden"], ptb["latent"]) == ("gru", 256, 256, 32)
    assert quick_results["training"]["ptb"]["batch_size"] == 32


def test_quick_run_measures_every_interactive_latency(quick_results):
    latency = quick_results["latency"]
    for name in ("sample_10", "interpolate_10", "read_back_1", "encode", "pca"):
        positive(latency[name], "median_s", "p95_s", "runs")
    positive(latency, "encode.sentences_per_s")
    assert "umap_skipped" in latency  # ~15 s of numba compilation has no place in --quick
    for name in ("sample_10", "interpolate_10"):
        positive(quick_results["ptb_decoding"][name], "median_s", "p95_s")


def test_quick_run_skips_the_browser_and_says_why(quick_results):
    assert "--quick" in quick_results["app"]["skipped"]


def test_quick_run_reports_targets_without_judging_them(quick_results):
    rows = quick_results["rows"]
    assert {"name", "text", "target", "met"} <= set(rows[0])
    assert sum(bool(row["target"]) for row in rows) >= 7
    assert all(row["met"] is None for row in rows)  # quick sizes are not the sizes


def test_flops_per_token_counts_encoder_decoder_and_projection():
    config = ModelConfig(vocab_size=100, embed_size=4, hidden_size=2, latent_size=3)
    flops = flops_per_token(config)
    assert flops["encoder"] == 2 * 3 * 2 * (4 + 2) * 2  # both directions, 3 GRU gates, input embed
    assert flops["decoder"] == 3 * 2 * (4 + 3 + 2) * 2  # input = embed + latent
    assert flops["output"] == 2 * 2 * 4 + 2 * 4 * 100  # hidden -> embed -> vocabulary
    assert flops["train"] == 3 * (flops["encoder"] + flops["decoder"] + flops["output"])


def test_lstm_flops_count_four_gates():
    gru, lstm = (flops_per_token(ModelConfig(vocab_size=10, rnn_type=t)) for t in ("gru", "lstm"))
    assert lstm["decoder"] * 3 == gru["decoder"] * 4


def test_cold_projection_runs_in_a_new_process():
    result = cold_projection(np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32), "pca", runs=1)
    assert result["runs"] == 1 and result["median_s"] > 0 and result["process_s"]["median_s"] > result["median_s"]


def test_summary_gives_median_and_p95():
    s = summary([float(i) for i in range(1, 101)])
    assert s["median_s"] == 50.5 and s["p95_s"] == pytest.approx(95.05) and s["runs"] == 100


def test_a_target_is_met_or_missed_on_the_median():
    assert report.row("x", 40.0, "ms", "{:.0f}", (report.AT_MOST, 50, ""))["met"] is True
    assert report.row("x", 60.0, "ms", "{:.0f}", (report.AT_MOST, 50, ""))["met"] is False
    assert report.row("x", 9e3, "tokens/s", "{:.0f}", (report.AT_LEAST, 1e4, ""))["met"] is False


def test_quick_run_without_a_reference_checkout_says_how_to_add_it(quick_results):
    assert "--reference" in quick_results["reference"]["skipped"]
    assert any("reference implementation" in row["name"] and "--reference" in row["text"]
               for row in quick_results["rows"])


STAND_IN = '''
import json, os, sys, time
data = sys.argv[sys.argv.index("--data_dir") + 1]
lines = [l.split() for l in open(os.path.join(data, "ptb.train.txt")) if l.strip()]
items = {str(i): {"input": [], "target": [], "length": len(words) + 1} for i, words in enumerate(lines)}
json.dump(items, open(os.path.join(data, "ptb.train.json"), "w"))
json.dump({"w2i": {"<pad>": 0, "<unk>": 1, "a": 2}}, open(os.path.join(data, "ptb.vocab.json"), "w"))
print("model printed first")
for i in range(1000):
    time.sleep(0.01)
    print("TRAIN Batch %04d/999, Loss 1.0" % i)
'''


def test_the_reference_is_timed_by_its_batch_lines_and_counted_in_its_own_tokens(tmp_path):
    """A stand-in for the reference's train.py that prints a batch line every 10 ms and writes the
    preprocessed file the reference writes: about 100 batches/s of 32 sentences of 3 and 5 tokens."""
    from bench.reference import reference_throughput

    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "train.py").write_text(STAND_IN)
    ptb = tmp_path / "ptb"
    ptb.mkdir()
    for split in ("train", "valid", "test"):
        (ptb / f"ptb.{split}.txt").write_text("a b\na b c d\n")
    result = reference_throughput(tmp_path / "ref", ptb, seconds=0.5, warmup_batches=5, threads=1)
    assert result["mean_tokens_per_sentence"] == 4.0 and result["vocab"] == 3
    assert result["seconds"] >= 0.5 and result["batches"] >= 10
    assert 0.3 * 100 * 32 * 4 < result["tokens_per_s"] <= 100 * 32 * 4 * 1.05
    assert "--data_dir" in result["command"]


def test_the_reference_is_timed_only_while_it_trains(tmp_path):
    """The stand-in ends its epoch after 40 batches (a validation pass would follow): the timing stops there."""
    from bench.reference import reference_throughput

    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "train.py").write_text(STAND_IN.replace(
        '    print("TRAIN Batch %04d/999, Loss 1.0" % i)',
        '    print("TRAIN Batch %04d/999, Loss 1.0" % i if i != 40 else "TRAIN Epoch 00/10, Mean ELBO 1.0")'))
    ptb = tmp_path / "ptb"
    ptb.mkdir()
    for split in ("train", "valid", "test"):
        (ptb / f"ptb.{split}.txt").write_text("a b\na b c d\n")
    result = reference_throughput(tmp_path / "ref", ptb, seconds=60, warmup_batches=5, threads=1)
    assert result["batches"] == 40 - 5 - 1 and result["seconds"] < 5


def test_output_layers_trains_both_layers_on_the_same_steps_and_measures_them(tmp_path, monkeypatch, capsys):
    import random

    from bench import output_layers

    words = [f"w{i}" for i in range(2_500)]  # more than the adaptive softmax's head of 2,000
    rng = random.Random(0)
    ptb = tmp_path / "ptb"
    ptb.mkdir()
    for split, n in (("train", 600), ("valid", 8)):
        (ptb / f"ptb.{split}.txt").write_text("\n".join(" ".join(rng.sample(words, 8)) for _ in range(n)))
    monkeypatch.setattr(output_layers, "PTB_DATA", ptb)
    out = tmp_path / "result.json"
    assert output_layers.main(["--data", "ptb", "--steps", "3", "--iw-samples", "2", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["output_layer"] for r in rows] == ["tied", "adaptive"] and all(r["steps"] == 3 for r in rows)
    assert all(math.isfinite(r["iw_nll"]) and r["heldout_sentences"] == 8 for r in rows)
    assert "| adaptive |" in capsys.readouterr().out
