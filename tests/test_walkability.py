"""Walking the latent space: the encoder's word deletion, the fluency proxy, the walkability report
and the blind reader's set and scoring."""

import json

import pytest
import torch
from conftest import SENTENCES

from vae.data import to_batch
from vae.metrics import TrainingText
from vae.objective import ObjectiveConfig, delete_words
from vae.report import (
    BLIND_SOURCES,
    blind_reader_comparison,
    blind_reader_set,
    heldout_pairs,
    score_marks,
    walkability_report,
)
from vae.train import TrainConfig, Trainer, new_model


def test_word_deletion_keeps_order_and_eos_and_pads_the_rest():
    tokens, lengths = to_batch([[5, 6, 7, 8, 9], [10, 11], [12]])
    generator = torch.Generator().manual_seed(0)
    noisy, noisy_lengths = delete_words(tokens, lengths, 0.5, generator)
    for row, n, original in zip(noisy.tolist(), noisy_lengths.tolist(), tokens.tolist()):
        kept = row[:n]
        assert kept[-1] == 3 and all(x == 0 for x in row[n:])  # <eos> last, <pad> after
        words = [x for x in original if x > 3]
        assert [words.index(x) for x in kept[:-1]] == sorted(words.index(x) for x in kept[:-1])  # in order
    assert noisy.size(1) == int(noisy_lengths.max())


def test_word_deletion_at_zero_and_near_one():
    tokens, lengths = to_batch([[5, 6, 7], [8, 9]])
    same, same_lengths = delete_words(tokens, lengths, 0.0)
    assert torch.equal(same, tokens) and torch.equal(same_lengths, lengths)
    empty, empty_lengths = delete_words(tokens, lengths, 0.999999, torch.Generator().manual_seed(1))
    assert empty.tolist() == [[3], [3]] and empty_lengths.tolist() == [1, 1]


def test_word_deletion_deletes_about_its_share():
    tokens, lengths = to_batch([[5] * 20] * 500)
    _, noisy_lengths = delete_words(tokens, lengths, 0.3, torch.Generator().manual_seed(2))
    kept = (noisy_lengths - 1).sum().item() / (20 * 500)
    assert abs(kept - 0.7) < 0.02


def test_a_run_with_word_deletion_trains_and_its_decoder_still_reads_the_whole_sentence():
    trained = new_model(SENTENCES, dict(embed_size=16, hidden_size=32, latent_size=4), min_freq=1, max_len=12)
    objective = ObjectiveConfig(kl_schedule="constant", beta=0.1, word_deletion=0.3)
    trainer = Trainer(trained, SENTENCES, objective, TrainConfig(steps=30, batch_size=10, lr=1e-2, log_every=10))
    first = trainer.train_step() or trainer._window[-1]
    last = trainer.run()
    assert last["recon"] < first["recon"]
    # the same seed and the same noise: a run is still repeatable
    again = Trainer(new_model(SENTENCES, dict(embed_size=16, hidden_size=32, latent_size=4), min_freq=1, max_len=12),
                    SENTENCES, objective, TrainConfig(steps=30, batch_size=10, lr=1e-2, log_every=10))
    assert again.run()["recon"] == last["recon"]


def test_training_text_counts_copies_and_unseen_bigrams(tiny_trained):
    trained, _ = tiny_trained
    text = TrainingText(trained.tokenizer, SENTENCES)
    copies = text.measure(SENTENCES[:4])
    assert copies["copied_from_train"] == 1.0 and copies["unseen_bigrams"] == 0.0
    salad = text.measure(["mat the on sat cat the ."])
    # 8 pairs with both ends; only ". <eos>" is in the training sentences
    assert salad["copied_from_train"] == 0.0 and salad["unseen_bigrams"] == 7 / 8
    one_new = text.measure(["the cat sat on the tea ."])  # only "the tea" is new ("green tea ." is not)
    assert one_new["unseen_bigrams"] == 1 / 8
    assert text.measure([""])["empty"] == 1.0


def held_out():
    """Distinct sentences of the tiny model's own words (two of SENTENCES run together): the pairs need
    60 of 6-12 words, the blind reader 30 more with no unknown word."""
    return [f"{a[:-2]} {b}" for a in SENTENCES for b in SENTENCES if a != b][:150]


def test_walkability_report_measures_each_kind_on_a_fixed_seed(tiny_trained):
    trained, _ = tiny_trained
    test = held_out()
    report = walkability_report(trained, test, SENTENCES, samples=20)
    for kind in ("samples", "interpolations", "neighbour_midpoints"):
        assert 0 <= report[kind]["unseen_bigrams"] <= 1 and report[kind]["examples"]
    assert report["interpolations"]["sentences"] == 90 and report["neighbour_midpoints"]["sentences"] == 30
    assert report["real_heldout"]["sentences"] == 20
    assert walkability_report(trained, test, SENTENCES, samples=20) == report
    assert heldout_pairs(test) == heldout_pairs(test) and len(heldout_pairs(test)) == 30


def test_blind_reader_set_hides_its_sources_and_scores_marks(tiny_trained):
    trained, _ = tiny_trained
    test = held_out()
    rows, key = blind_reader_set(trained, test)
    assert len(rows) == 90 and [i for i, _ in rows] == list(range(1, 91))
    assert sorted(key.values()).count("real") == 30 and set(key.values()) == set(BLIND_SOURCES)
    real = [text for i, text in rows if key[i] == "real"]
    tokenizer = trained.tokenizer  # real ones look like decoded ones: through the tokenizer and back
    assert all(text == tokenizer.decode(tokenizer.encode(text)) for text in real)
    marks = {i: key[i] == "real" for i in key}
    assert score_marks(key, marks) == {"sample": (0, 30), "midpoint": (0, 30), "real": (30, 30)}
    del marks[1]
    try:
        score_marks(key, marks)
    except ValueError as e:
        assert "unmarked" in str(e)
    else:
        raise AssertionError("a missing mark must be an error")


def test_the_blind_reader_script_writes_a_set_and_records_a_readers_marks_in_a_card(tiny_model_dir, tmp_path):
    import shutil

    from scripts import blind_reader

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    out = tmp_path / "blind"
    corpus = tmp_path / "heldout.txt"
    corpus.write_text("\n".join(held_out()))
    blind_reader.main(["write", "--model", str(model), "--out", str(out), "--corpus", str(corpus)])
    lines = (out / "sentences.txt").read_text().splitlines()
    assert len(lines) == 90 and "real" not in (out / "sentences.txt").read_text()
    marks = tmp_path / "marks.txt"
    marks.write_text("".join(f"{line.split(chr(9))[0]}\ty\n" for line in lines))
    blind_reader.main(["score", "--out", str(out), "--marks", str(marks), "--card", str(model / "card.json")])
    card = json.loads((model / "card.json").read_text())
    assert card["bars"]["blind_reader_samples"] == 30 and card["bars_met"]["blind_reader_real"] is True
    assert len(card["blind_reader"]["midpoint"]["sentences"]) == 30


def test_one_reader_compares_models_on_the_same_pairs_with_one_set_of_real_sentences(tiny_trained):
    trained, _ = tiny_trained
    test = held_out()
    rows, key = blind_reader_comparison({"a": trained, "b": trained}, test)
    sources = ["a/midpoint", "a/sample", "b/midpoint", "b/sample", "real"]
    assert len(rows) == 150 and sorted(set(key.values())) == sources
    by_source = {s: sorted(t for i, t in rows if key[i] == s) for s in sources}
    assert by_source["a/midpoint"] == by_source["b/midpoint"]  # the same model, the same pairs
    one_rows, one_key = blind_reader_set(trained, test)
    assert by_source["real"] == sorted(text for i, text in one_rows if one_key[i] == "real")
    marks = {i: key[i] != "b/sample" for i in key}
    assert score_marks(key, marks)["b/sample"] == (0, 30) and score_marks(key, marks)["real"] == (30, 30)


def test_the_blind_reader_script_compares_two_models_and_scores_each(tiny_model_dir, tmp_path, capsys):
    from scripts import blind_reader

    corpus = tmp_path / "test.txt"
    corpus.write_text("\n".join(held_out()) + "\n")
    out = tmp_path / "blind"
    blind_reader.main(["write", "--model", str(tiny_model_dir), "--model", str(tiny_model_dir), "--out", str(out),
                       "--corpus", str(corpus)])
    key = json.loads((out / "key.json").read_text())["key"]
    (tmp_path / "marks.txt").write_text("".join(f"{i}\t{'y' if s == 'real' else 'n'}\n" for i, s in key.items()))
    blind_reader.main(["score", "--out", str(out), "--marks", str(tmp_path / "marks.txt")])
    assert f"{tiny_model_dir}/sample: 0 of 30" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="not among the compared"):
        blind_reader.main(["score", "--out", str(out), "--marks", str(tmp_path / "marks.txt"),
                           "--card", str(tmp_path / "card.json")])


def test_a_comparison_records_each_models_own_counts_in_its_card(tiny_model_dir):
    from scripts import blind_reader

    result = {f"{tiny_model_dir}/sample": {"grammatical": 4}, f"{tiny_model_dir}/midpoint": {"grammatical": 5},
              "other/sample": {"grammatical": 9}, "other/midpoint": {"grammatical": 8}, "real": {"grammatical": 30}}
    own = blind_reader.own_result(result, tiny_model_dir / "card.json")
    assert own["sample"] == {"grammatical": 4} and own["real"] == {"grammatical": 30}
    assert own["compared_with"] == {"other": {"sample": 9, "midpoint": 8}}
