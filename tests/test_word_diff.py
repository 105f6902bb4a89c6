"""Highlighting the words that changed between two steps of an interpolation (vae/word_diff.py)."""

from vae.word_diff import changed_words


def test_identical_sentences_have_no_changes():
    assert not any(changed for _, changed in changed_words("the cat sat .", "the cat sat ."))


def test_a_replaced_word_is_marked():
    assert changed_words("the cat sat .", "the dog sat .") == [
        ("the", False), ("dog", True), ("sat", False), (".", False)]


def test_an_inserted_word_does_not_mark_the_rest():
    assert [w for w, c in changed_words("the cat sat", "the big cat sat") if c] == ["big"]


def test_everything_is_new_after_an_empty_sentence():
    assert changed_words("", "hello there") == [("hello", True), ("there", True)]


def test_a_word_that_only_gained_a_capital_is_not_marked():
    # "the" starts the second sentence, so it is written "The" (vae/casing.py)
    assert [w for w, c in changed_words("so the cat sat .", "The cat sat .") if c] == []
