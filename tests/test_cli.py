"""Smoke tests of `python -m vae`: each subcommand on a tiny corpus, and its error messages."""

import json
import subprocess
import sys

import pytest
from conftest import SENTENCES

from vae.cli import main


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(SENTENCES))
    return path


def test_train_writes_a_checkpoint_and_resumes(corpus, tmp_path):
    out = tmp_path / "model"
    args = ["train", "--corpus", str(corpus), "--out", str(out), "--embed", "16", "--hidden", "32",
            "--latent", "4", "--min-freq", "1", "--batch-size", "10", "--log-every", "5", "--save-every", "10"]
    assert main(args + ["--steps", "10"]) == 0
    assert (out / "model.safetensors").is_file()
    assert json.loads((out / "card.json").read_text())["steps"] == 10
    assert main(args + ["--steps", "20", "--resume"]) == 0
    assert json.loads((out / "card.json").read_text())["steps"] == 20
    assert len((out / "train_log.jsonl").read_text().splitlines()) == 4


def test_sample(tiny_model_dir, capsys):
    assert main(["sample", "--model", str(tiny_model_dir), "-n", "3", "--seed", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_sample_near(tiny_model_dir, capsys):
    assert main(["sample", "--model", str(tiny_model_dir), "-n", "2", "--near", SENTENCES[0], "--spread", "0",
                 "--strategy", "greedy"]) == 0
    assert all(line.endswith("the cat sat on the mat.") for line in capsys.readouterr().out.splitlines())


def test_interpolate(tiny_model_dir, capsys):
    assert main(["interpolate", "--model", str(tiny_model_dir), SENTENCES[0], SENTENCES[1], "--steps", "4",
                 "--method", "spherical"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].endswith("the cat sat on the mat.") and lines[-1].endswith("a dog ran in the park.")


def test_encode(tiny_model_dir, tmp_path):
    table = tmp_path / "c.csv"
    table.write_text("text,label\n" + "\n".join(f"{s},x" for s in SENTENCES[:5]))
    out = tmp_path / "z.csv"
    assert main(["encode", "--model", str(tiny_model_dir), "--corpus", str(table), "--out", str(out)]) == 0
    rows = out.read_text().splitlines()
    assert rows[0].startswith("text,label,z0,")
    assert len(rows) == 6


def test_evaluate(tiny_model_dir, corpus, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["evaluate", "--model", str(tiny_model_dir), "--corpus", str(corpus), "--iw-samples", "5",
                 "--diversity", "10", "--train-corpus", str(corpus), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["estimator"] == "importance sampling, k=5"
    assert result["reconstruction"]["token_accuracy"] == 1.0
    assert result["reconstruction"]["exact_match"] == 1.0 and not result["reconstruction"]["allow_unk"]
    assert 0 < result["diversity"]["prior"]["distinct_2"] <= 1 and result["diversity"]["prior"]["empty"] == 0


def test_missing_corpus_is_a_one_line_error(tiny_model_dir, tmp_path, capsys):
    assert main(["encode", "--model", str(tiny_model_dir), "--corpus", str(tmp_path / "no.txt"),
                 "--out", str(tmp_path / "z.csv")]) == 2
    assert capsys.readouterr().err.strip().startswith("error:")


def test_empty_corpus_is_a_one_line_error(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["train", "--corpus", str(empty), "--out", str(tmp_path / "m")]) == 2
    assert "no sentences" in capsys.readouterr().err


def test_bad_model_path_is_a_one_line_error(tmp_path, capsys):
    assert main(["sample", "--model", str(tmp_path)]) == 2
    assert "not a checkpoint" in capsys.readouterr().err


def test_help_and_unknown_option_from_the_shell():
    ok = subprocess.run([sys.executable, "-m", "vae", "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "interpolate" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "vae", "sample", "--bogus"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unrecognized arguments: --bogus" in bad.stderr
