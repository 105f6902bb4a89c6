"""Smoke tests of `python -m vae`: each subcommand on a tiny corpus, and its error messages."""

import csv
import json
import math
import subprocess
import sys

import pytest
from conftest import SENTENCES

from vae.checkpoint import load_model
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


def test_a_resumed_runs_card_holds_every_command_that_trained_it(corpus, tmp_path):
    out = tmp_path / "model"
    args = ["train", "--corpus", str(corpus), "--out", str(out), "--embed", "16", "--hidden", "32",
            "--latent", "4", "--min-freq", "1", "--batch-size", "10", "--save-every", "10"]
    assert main(args + ["--steps", "10"]) == 0
    assert main(args + ["--steps", "14", "--resume", "--lr-schedule", "cosine", "--lr-min", "0.0001"]) == 0
    first, resumed = json.loads((out / "card.json").read_text())["command"].split(" && ")
    assert first.startswith("python -m vae train") and first.endswith("--steps 10")
    assert resumed.endswith("--steps 14 --resume --lr-schedule cosine --lr-min 0.0001")
    assert main(args + ["--steps", "14", "--resume", "--lr-schedule", "cosine", "--lr-min", "0.0001"]) == 0
    assert json.loads((out / "card.json").read_text())["command"] == f"{first} && {resumed}"  # continued, not new


def test_a_resumed_run_can_change_its_free_bits_and_its_card_says_when(corpus, tmp_path):
    out = tmp_path / "model"
    args = ["train", "--corpus", str(corpus), "--out", str(out), "--embed", "16", "--hidden", "32",
            "--latent", "4", "--min-freq", "1", "--batch-size", "10", "--save-every", "10"]
    assert main(args + ["--steps", "10", "--free-bits", "0.5"]) == 0
    assert main(args + ["--steps", "14", "--resume"]) == 0  # no --free-bits: the run keeps its own
    assert json.loads((out / "trainer_state.json").read_text())["objective"]["free_bits"] == 0.5
    assert main(args + ["--steps", "20", "--resume", "--free-bits", "1.5"]) == 0
    assert json.loads((out / "trainer_state.json").read_text())["objective"]["free_bits"] == 1.5
    card = json.loads((out / "card.json").read_text())
    assert card["objective"]["free_bits"] == 1.5 and card["steps"] == 20
    assert card["objective_changes"] == [{"after_step": 14, "free_bits": {"from": 0.5, "to": 1.5}}]
    assert load_model(out).card["objective_changes"] == card["objective_changes"]


def test_the_encoder_reads_forward_only_when_asked(corpus, tmp_path):
    args = ["train", "--corpus", str(corpus), "--embed", "16", "--hidden", "32", "--latent", "4", "--min-freq", "1",
            "--batch-size", "10", "--steps", "2"]
    for encoder, two_ways in (("forward", False), ("bidirectional", True)):
        assert main(args + ["--out", str(tmp_path / encoder), "--encoder", encoder]) == 0
        trained = load_model(tmp_path / encoder)
        assert trained.model.config.bidirectional is two_ways
        assert any(name.endswith("_reverse") for name, _ in trained.model.named_parameters()) is two_ways


def test_word_deletion_is_a_training_flag_and_a_resumed_run_can_change_it(corpus, tmp_path):
    out = tmp_path / "model"
    args = ["train", "--corpus", str(corpus), "--out", str(out), "--embed", "16", "--hidden", "32",
            "--latent", "4", "--min-freq", "1", "--batch-size", "10", "--save-every", "10"]
    assert main(args + ["--steps", "10", "--word-deletion", "0.3"]) == 0
    assert json.loads((out / "trainer_state.json").read_text())["objective"]["word_deletion"] == 0.3
    assert main(args + ["--steps", "14", "--resume", "--word-deletion", "0.1"]) == 0
    card = json.loads((out / "card.json").read_text())
    assert card["objective"]["word_deletion"] == 0.1
    assert card["objective_changes"] == [{"after_step": 10, "word_deletion": {"from": 0.3, "to": 0.1}}]


def test_train_init_from_starts_at_a_checkpoints_weights_with_a_new_dropout(corpus, tiny_model_dir, tmp_path):
    out = tmp_path / "tuned"
    assert main(["train", "--corpus", str(corpus), "--out", str(out), "--init-from", str(tiny_model_dir),
                 "--steps", "2", "--dropout", "0.3", "--lr-schedule", "cosine", "--batch-size", "10"]) == 0
    start, tuned = load_model(tiny_model_dir), load_model(out)
    assert tuned.tokenizer.id_to_word == start.tokenizer.id_to_word
    assert tuned.model.config.dropout == 0.3 and tuned.model.config.hidden_size == start.model.config.hidden_size
    assert tuned.card["initialised_from"] == str(tiny_model_dir) and tuned.card["steps"] == 2
    assert json.loads((out / "card.json").read_text())["train"]["lr_schedule"] == "cosine"
    assert tuned.card["initial_steps"] == start.card["steps"]

    again = tmp_path / "tuned again"  # a fine-tune of a fine-tune counts every step behind its start
    assert main(["train", "--corpus", str(corpus), "--out", str(again), "--init-from", str(out),
                 "--steps", "3", "--batch-size", "10"]) == 0
    assert load_model(again).card["initial_steps"] == start.card["steps"] + 2


def test_sample(tiny_model_dir, capsys):
    assert main(["sample", "--model", str(tiny_model_dir), "-n", "3", "--seed", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_sample_decodes_as_the_models_sample_page_does_unless_told_otherwise(tiny_model_dir, tmp_path, capsys):
    import shutil

    folder = tmp_path / "beam_model"
    shutil.copytree(tiny_model_dir, folder)
    card = json.loads((folder / "card.json").read_text())
    card["sample_defaults"] = {"strategy": "beam", "beam_width": 2, "spread": 2.0, "source": "prior"}
    (folder / "card.json").write_text(json.dumps(card))
    outputs = {}
    for name, extra in (("own", []), ("beam", ["--strategy", "beam", "--beam-width", "2", "--spread", "2"]),
                        ("greedy", ["--strategy", "greedy"])):
        assert main(["sample", "--model", str(folder), "-n", "6", "--seed", "4", "--source", "prior", *extra]) == 0
        outputs[name] = capsys.readouterr().out
    assert outputs["own"] == outputs["beam"] != outputs["greedy"]


def test_sample_near(tiny_model_dir, capsys):
    assert main(["sample", "--model", str(tiny_model_dir), "-n", "2", "--near", SENTENCES[0], "--spread", "0",
                 "--strategy", "greedy"]) == 0
    assert all(line.endswith("The cat sat on the mat.") for line in capsys.readouterr().out.splitlines())


def test_interpolate(tiny_model_dir, capsys):
    assert main(["interpolate", "--model", str(tiny_model_dir), SENTENCES[0], SENTENCES[1], "--steps", "4",
                 "--method", "spherical"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].endswith("The cat sat on the mat.") and lines[-1].endswith("A dog ran in the park.")


def test_traverse_walks_the_dimensions_asked_for(tiny_model_dir, capsys):
    assert main(["traverse", "--model", str(tiny_model_dir), SENTENCES[0], "--dims", "5", "2", "--steps", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith("dimension")] == ["dimension 5", "dimension 2"]
    assert len(lines) == 2 + 2 * 3
    assert lines[2] == " +0.00  The cat sat on the mat." and lines[1].startswith(" -3.00  ")


def test_traverse_walks_the_dimensions_that_change_the_sentence_most_by_default(tiny_model_dir, capsys):
    assert main(["traverse", "--model", str(tiny_model_dir), SENTENCES[16], "--top", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "the 2 dimensions whose walks change this sentence most"
    headers = [line for line in lines if line.startswith("dimension")]
    changed = [int(line.split(", ")[1].split()[0]) for line in headers]
    assert len(headers) == 2 and changed == sorted(changed, reverse=True)
    assert len(lines) == 1 + 2 * (1 + 7)


def test_traverse_walks_the_most_used_dimensions_by_kl(tiny_model_dir, corpus, capsys):
    assert main(["traverse", "--model", str(tiny_model_dir), SENTENCES[0], "--top", "2", "--by-kl", str(corpus)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"the 2 most used dimensions by KL (nats) over {corpus}"
    headers = [line for line in lines if line.startswith("dimension")]
    assert len(headers) == 2 and all(", KL (nats) " in line for line in headers)
    kls = [float(line.rsplit(" ", 1)[1]) for line in headers]
    assert kls == sorted(kls, reverse=True)
    assert len(lines) == 1 + 2 * (1 + 7)


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


def test_evaluate_gives_bits_per_sentence_beside_gzip(tiny_model_dir, corpus, tmp_path):
    out = tmp_path / "m.json"
    assert main(["evaluate", "--model", str(tiny_model_dir), "--corpus", str(corpus), "--iw-samples", "2",
                 "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    bits = result["compression"]
    assert bits["sentences"] == result["sentences"] == len(SENTENCES)
    assert bits["vae"]["neg_elbo"] == pytest.approx(-result["elbo"] / math.log(2))
    assert bits["vae"]["neg_elbo"] == pytest.approx(bits["vae"]["rate"] + bits["vae"]["distortion"])
    assert set(bits["alone"]) == set(bits["together"]) == {"utf8", "gzip", "bz2", "lzma"}


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


def run_cli(argv, capsys):
    """(exit status, stderr) of `python -m vae argv`, run in this process (argparse exits itself)."""
    try:
        status = main(argv)
    except SystemExit as e:
        status = e.code
    return status, capsys.readouterr().err


BAD_INVOCATIONS = {  # the cases, and more of the same kind: each a one-line error, exit 2
    "encode into a missing folder": ["encode", "--corpus", "{corpus}", "--out", "/missing/dir/o.csv"],
    "encode into a folder": ["encode", "--corpus", "{corpus}", "--out", "{tmp}"],
    "evaluate --iw-samples 0": ["evaluate", "--corpus", "{corpus}", "--iw-samples", "0"],
    "evaluate --json into a missing folder": ["evaluate", "--corpus", "{corpus}", "--json", "/missing/r.json"],
    "evaluate an empty corpus": ["evaluate", "--corpus", "{blank}"],
    "sample --top-k 0": ["sample", "--top-k", "0"],
    "sample -n 0": ["sample", "-n", "0"],
    "sample -n -1": ["sample", "-n", "-1"],
    "sample -n a million": ["sample", "-n", "1000000"],
    "sample --temperature nan": ["sample", "--temperature", "nan"],
    "sample --top-p 0": ["sample", "--top-p", "0"],
    "sample --spread inf": ["sample", "--near", "the cat", "--spread", "inf"],
    "sample --near ''": ["sample", "--near", ""],
    "sample --seed -1": ["sample", "--seed", "-1"],
    "sample --device bogus": ["sample", "--device", "bogus"],
    "sample --device cuda without one": ["sample", "--device", "cuda:99"],
    "interpolate --steps 1000000": ["interpolate", "a", "b", "--steps", "1000000"],
    "interpolate an empty sentence": ["interpolate", "", "the cat"],
    "traverse a dimension the model lacks": ["traverse", "the cat", "--dims", "99"],
    "traverse a dimension twice": ["traverse", "the cat", "--dims", "1", "1"],
    "traverse --dims -1": ["traverse", "the cat", "--dims", "-1"],
    "traverse --steps 1": ["traverse", "the cat", "--steps", "1"],
    "traverse --top 0": ["traverse", "the cat", "--top", "0"],
    "traverse an empty sentence": ["traverse", "", "--dims", "0"],
    "traverse ranked over a missing corpus": ["traverse", "the cat", "--corpus", "{tmp}/no.txt"],
    "train --save-every 0": ["train", "--corpus", "{corpus}", "--out", "{tmp}/m", "--save-every", "0"],
    "train --batch-size 0": ["train", "--corpus", "{corpus}", "--out", "{tmp}/m", "--batch-size", "0"],
    "train --hidden 1000000000": ["train", "--corpus", "{corpus}", "--out", "{tmp}/m", "--hidden", "1000000000"],
    "train a huge vocabulary and size": ["train", "--corpus", "{corpus}", "--out", "{tmp}/m", "--hidden", "60000",
                                         "--embed", "60000", "--vocab-size", "1000000"],
    "train --lr nan": ["train", "--corpus", "{corpus}", "--out", "{tmp}/m", "--lr", "nan"],
    "train --out onto a file": ["train", "--corpus", "{corpus}", "--out", "{corpus}"],
    "train on a gzip that is not one": ["train", "--corpus", "{fake_gz}", "--out", "{tmp}/m"],
}


@pytest.mark.parametrize("argv", BAD_INVOCATIONS.values(), ids=BAD_INVOCATIONS.keys())
def test_bad_invocations_are_one_line_errors(argv, tiny_model_dir, corpus, tmp_path, capsys):
    (tmp_path / "blank.txt").write_text("   \n\n")
    (tmp_path / "fake.txt.gz").write_bytes(b"not gzip at all")
    paths = dict(corpus=corpus, tmp=tmp_path, blank=tmp_path / "blank.txt", fake_gz=tmp_path / "fake.txt.gz")
    argv = [arg.format(**paths) for arg in argv]
    if argv[0] != "train":
        argv += ["--model", str(tiny_model_dir)]
    status, err = run_cli(argv, capsys)
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "m").exists() or argv[0] != "train"  # refused before any work


def test_encode_escapes_formula_cells(tiny_model_dir, tmp_path, capsys):
    corpus = tmp_path / "c.csv"
    corpus.write_text("text,label\n\"=cmd|' /C calc'!A0\",@SUM(A1)\nthe cat sat on the mat .,-1\n")
    out = tmp_path / "z.csv"
    assert main(["encode", "--model", str(tiny_model_dir), "--corpus", str(corpus), "--out", str(out)]) == 0
    rows = list(csv.reader(out.open()))
    assert rows[1][:2] == ["'=cmd|' /C calc'!A0", "'@SUM(A1)"]
    assert rows[2][:2] == ["the cat sat on the mat .", "-1"]  # a number stays a number


def test_a_nan_loss_saves_the_last_good_step(corpus, tmp_path, capsys, monkeypatch):
    from vae import train

    real_loss_terms = train.loss_terms

    def nan_after_five(out, *args, **kwargs):  # the loss becomes NaN at the sixth step
        loss, stats = real_loss_terms(out, *args, **kwargs)
        calls.append(1)
        return (loss * float("nan") if len(calls) > 5 else loss), stats

    calls = []
    monkeypatch.setattr(train, "loss_terms", nan_after_five)
    out = tmp_path / "m"
    status, err = run_cli(["train", "--corpus", str(corpus), "--out", str(out), "--steps", "20", "--save-every", "100",
                           "--embed", "16", "--hidden", "16", "--latent", "4", "--min-freq", "1"], capsys)
    assert status == 2 and "step 5, the last good one, is saved" in err
    assert json.loads((out / "trainer_state.json").read_text())["step"] == 5


def test_sample_takes_the_beams_posterior_weight_and_refuses_a_negative_one(tiny_model_dir, capsys):
    common = ["sample", "--model", str(tiny_model_dir), "-n", "8", "--seed", "3", "--source", "prior", "--spread", "2",
              "--strategy", "beam", "--beam-width", "6"]
    assert main(common) == 0
    plain = capsys.readouterr().out
    assert main([*common, "--posterior-weight", "10"]) == 0
    assert capsys.readouterr().out != plain  # the same codes, another choice among the beam's sentences
    with pytest.raises(SystemExit):
        main([*common, "--posterior-weight", "-1"])
