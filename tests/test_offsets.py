"""Offsets between kinds of sentence: the labels, the fitted offsets, and decoding a moved code."""

import pytest
import torch
from conftest import SENTENCES

from vae.decode import InputError, reconstruct
from vae.offsets import OFFSETS, apply_offset, fit_offsets, is_negative, is_question, tense


def test_the_kinds_are_read_from_the_words_and_the_last_mark():
    assert is_question("Where is the station?") and not is_question("The station is here.")
    assert is_negative("I don't like it.") and is_negative("We never go there.") and not is_negative("I like it.")
    assert tense("She is at home.") == "present" and tense("She was at home.") == "past"
    assert tense("We walked to school yesterday.") == "past" and tense("I will be there.") is None


def test_each_offsets_kinds_are_disjoint():
    examples = ["I am happy.", "Am I happy?", "I am not happy.", "I was happy.", "I will be happy.",
                "They played football.", "Don't go!", "Is it raining?"]
    for name, (_, source, target) in OFFSETS.items():
        assert not [t for t in examples if source(t) and target(t)], name


def corpus():
    # 20 of each kind the offsets need, with the tiny model's words
    return ([f"the cat is on the mat number {i} ." for i in range(20)]
            + [f"is the cat on the mat number {i} ?" for i in range(20)]
            + [f"the cat is not on the mat number {i} ." for i in range(20)]
            + [f"the cat sat on the mat number {i} ." for i in range(20)])


def test_offsets_are_fitted_per_kind_and_move_a_code(tiny_trained):
    trained, _ = tiny_trained
    offsets = fit_offsets(trained, corpus())
    assert set(offsets) == set(OFFSETS)
    assert all(v.shape == (trained.model.config.latent_size,) and torch.isfinite(v).all() for v in offsets.values())
    assert fit_offsets(trained, corpus()).keys() == offsets.keys()
    moved = apply_offset(trained, SENTENCES[0], offsets["statement → question"])
    assert moved.text  # decoded, greedily
    # no move: the sentence's own read-back
    same = apply_offset(trained, SENTENCES[0], offsets["statement → question"], scale=0.0)
    assert same.text == reconstruct(trained, [SENTENCES[0]])[0].text


def test_too_few_sentences_of_a_kind_is_a_clear_error(tiny_trained):
    trained, _ = tiny_trained
    with pytest.raises(InputError, match="an offset needs 20"):
        fit_offsets(trained, SENTENCES)


def test_an_offset_of_the_wrong_size_is_refused(tiny_trained):
    trained, _ = tiny_trained
    with pytest.raises(InputError, match="dimensions"):
        apply_offset(trained, SENTENCES[0], torch.zeros(3))


def test_the_offset_report_moves_each_test_sentence_by_each_offset(tiny_trained):
    from vae.offsets import fit_offsets
    from vae.report import OFFSET_SENTENCES, offset_report

    trained, _ = tiny_trained
    assert len(OFFSET_SENTENCES) == 20
    report = offset_report(trained, corpus(), sentences=SENTENCES[:3], offsets=fit_offsets(trained, corpus()))
    assert set(report) == set(OFFSETS)
    for rows in report.values():
        assert [r["typed"] for r in rows] == SENTENCES[:3]
        assert all(isinstance(r["target_kind"], bool) and r["moved"] for r in rows)


def test_at_strength_0_the_sentence_is_read_back_as_the_card_says(tiny_trained):
    """The page shows "μ reads back" beside the moved sentence: with no move they are the same sentence,
    also where the card reads back otherwise than it decodes a code."""
    import dataclasses

    trained, _ = tiny_trained
    weighed = dataclasses.replace(trained, card={**trained.card, "read_back_decoding":
                                                 {"strategy": "beam", "beam_width": 6, "posterior_weight": 10.0}})
    offset = torch.zeros(trained.model.config.latent_size)
    # word salad, which the tiny model writes one way greedily (code_decoding) and another read back
    words = " ".join(SENTENCES).split()
    jumbles = [" ".join(words[i::7][:6]) for i in range(7)]
    differ = [text for text in jumbles if apply_offset(weighed, text, offset, scale=1.0).text
              != reconstruct(weighed, [text])[0].text]
    assert differ, "every jumble decodes alike both ways: the test would show nothing"
    for text in differ:
        assert apply_offset(weighed, text, offset, scale=0.0).text == reconstruct(weighed, [text])[0].text
