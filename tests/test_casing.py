"""Sentences as people write them: the true-caser learned with the vocabulary (vae/casing.py)."""

import json

import pytest

from vae.casing import true_case
from vae.checkpoint import CASING_FILE, CheckpointError, load_model, save_checkpoint
from vae.decode import reads_back
from vae.metrics import TrainingText
from vae.paths import SHIPPED_MODEL
from vae.tokenizer import UNK_ID, WordTokenizer
from vae.train import new_model

CORPUS = [
    "We met Anna in London.",
    "Anna likes the city.",
    "London is big and the BBC is there.",
    "The train to London was late.",
    "Then I saw the bill.",
    "Bill paid the bill.",
    "Yesterday Bill came.",
]


def make_tokenizer():
    return WordTokenizer.train(CORPUS, max_size=100, min_freq=1)


def decoded(tokenizer, text):
    return tokenizer.decode(tokenizer.encode(text))


def test_each_word_gets_its_most_frequent_form_away_from_sentence_starts():
    # "The", "Then" and "Yesterday" are capitalised only where a sentence starts; "bill" twice, "Bill" once
    # (the "Bill" that starts a sentence does not count)
    assert make_tokenizer().casing == {"anna": "Anna", "london": "London", "bbc": "BBC", "i": "I"}


def test_decoded_text_has_the_learned_forms_and_a_start_capital():
    tokenizer = make_tokenizer()
    assert decoded(tokenizer, "we met anna in london .") == "We met Anna in London."
    assert decoded(tokenizer, "the train to london was late .") == "The train to London was late."


def test_every_sentence_in_a_text_starts_with_a_capital():
    assert true_case(["hi", ".", "how", "are", "you", "?", "fine", "!", "good"]) == \
        ["Hi", ".", "How", "are", "you", "?", "Fine", "!", "Good"]


def test_quotes_and_brackets_before_the_first_word_do_not_take_its_capital():
    assert true_case(['"', "hello", '"', "(", "again", ")"]) == ['"', "Hello", '"', "(", "again", ")"]


def test_i_and_its_contractions_are_capitalised_without_any_learned_casing():
    words = ["so", "i", "said", "i'm", "sure", "i'll", "try", "and", "i've", "seen", "what", "i'd", "do", "in", "it"]
    assert true_case(words) == \
        ["So", "I", "said", "I'm", "sure", "I'll", "try", "and", "I've", "seen", "what", "I'd", "do", "in", "it"]


def test_unknown_words_and_numbers_are_left_as_they_are():
    assert true_case(["<unk>", "went", "home"]) == ["<unk>", "went", "home"]
    assert true_case(["3", "cats", "sat"]) == ["3", "cats", "sat"]


def test_a_capital_that_would_change_the_word_is_not_made():
    assert true_case(["ßtraße", "ıt"]) == ["ßtraße", "ıt"]  # "SS" and "I" would not lowercase back to them


def test_a_casing_that_changes_the_word_is_dropped():
    tokenizer = make_tokenizer()
    edited = WordTokenizer(tokenizer.tokenizer, {"london": "Paris", "anna": "ANNA", "zebra": "Zebra", "bbc": 3})
    assert edited.casing == {"anna": "ANNA"}


def test_casing_does_not_change_the_tokens():
    tokenizer = make_tokenizer()
    for text in CORPUS:
        ids = tokenizer.encode(text)
        assert tokenizer.encode(tokenizer.decode(ids)) == ids
        assert tokenizer.tokens(ids) == [w.lower() for w in tokenizer.tokens(ids)]
    assert UNK_ID not in tokenizer.encode("WE MET ANNA")


@pytest.fixture
def cased_model():
    return new_model(CORPUS, dict(embed_size=8, hidden_size=8, latent_size=2), min_freq=1, max_len=12)


def test_save_and_load_keep_the_casing(cased_model, tmp_path):
    save_checkpoint(cased_model, tmp_path)
    assert json.loads((tmp_path / CASING_FILE).read_text(encoding="utf-8")) == cased_model.tokenizer.casing
    assert load_model(tmp_path, device="cpu").tokenizer.casing == cased_model.tokenizer.casing


def test_a_checkpoint_without_casing_loads_and_still_capitalises_starts_and_i(cased_model, tmp_path):
    save_checkpoint(cased_model, tmp_path)
    (tmp_path / CASING_FILE).unlink()
    tokenizer = load_model(tmp_path, device="cpu").tokenizer
    assert tokenizer.casing is None
    assert decoded(tokenizer, "then i met anna in london .") == "Then I met anna in london."
    save_checkpoint(load_model(tmp_path, device="cpu"), tmp_path)  # saved again: still no casing claimed
    assert not (tmp_path / CASING_FILE).exists()


def test_a_damaged_casing_file_is_a_clear_error(cased_model, tmp_path):
    save_checkpoint(cased_model, tmp_path)
    (tmp_path / CASING_FILE).write_text("[1, 2")
    with pytest.raises(CheckpointError, match="not a valid checkpoint"):
        load_model(tmp_path)


def test_read_back_and_copy_checks_are_case_blind(cased_model):
    assert reads_back(cased_model, "we met anna in london.", "We met Anna in London.")
    assert not reads_back(cased_model, "we met anna in london.", "We met Anna in the city.")
    copies = TrainingText(cased_model.tokenizer, [text.lower() for text in CORPUS])
    assert copies.measure(["We met Anna in London."])["copied_from_train"] == 1.0


def test_the_shipped_model_writes_sentences_as_people_do():
    tokenizer = WordTokenizer.load(SHIPPED_MODEL / "tokenizer.json", SHIPPED_MODEL / CASING_FILE)
    assert decoded(tokenizer, "the train to london was late again this morning .") == \
        "The train to London was late again this morning."
    assert decoded(tokenizer, "i'm going to see you now .") == "I'm going to see you now."
    assert decoded(tokenizer, "tom and mary watched tv in boston on monday .") == \
        "Tom and Mary watched TV in Boston on Monday."
