"""Specification of the corpus builder's parsers, on inline snippets (no installed packages)."""
import importlib.util
import random

from vae.paths import ROOT

SCRIPT = ROOT / "scripts" / "build_corpora.py"
spec = importlib.util.spec_from_file_location("build_corpora", SCRIPT)
bc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bc)

WORDNET_LINES = [
    "  1 This software and database is being provided to you, the LICENSEE, by  ",
    '  16 THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON  ',
    ("00003553 03 n 02 whole 0 unit 0 001 @ 00002684 n 0000 | an assemblage of parts that is "
     'regarded as a single entity; "how big is that part compared to the whole?"; '
     '"the team is a unit"  '),
    ("01835496 38 v 01 travel 0 001 @ 01831531 v 0000 01 + 01 00 | change location; move, "
     'travel, or proceed, also metaphorically; "How fast does your new car go?"  '),
    "00001740 05 n 01 beast 0 000 | a living organism  ",
]

FORTUNES = """A day for firm decisions!!!!!  Or is it?
%
Brevity is the soul of wit.  Mr. Polonius says so.
		-- William Shakespeare, "Hamlet"
%
	The first line of a wrapped
entry continues here.

A second paragraph.
%
"""

BIBLE = """
Genesis 1

  1 In the beginning God created the heaven and the earth.
  2 And God said, Let there be light: and there was light.

1 Samuel 3

  10 Then Samuel answered, Speak; for thy servant heareth.
"""


# WordNet

def test_wordnet_gloss_is_the_definition_before_the_examples():
    glosses = [t for _, kind, t in bc.parse_wordnet_data(WORDNET_LINES) if kind == "gloss"]
    assert glosses[0] == "an assemblage of parts that is regarded as a single entity"


def test_wordnet_examples_are_the_quoted_parts():
    examples = [t for _, kind, t in bc.parse_wordnet_data(WORDNET_LINES) if kind == "example"]
    assert examples == ["how big is that part compared to the whole?", "the team is a unit",
                        "How fast does your new car go?"]


def test_wordnet_lexfile_number_gives_the_lexname():
    lexfiles = {text: lexfile for lexfile, _, text in bc.parse_wordnet_data(WORDNET_LINES)}
    assert lexfiles["the team is a unit"] == "noun.Tops"
    assert lexfiles["How fast does your new car go?"] == "verb.motion"
    assert lexfiles["a living organism"] == "noun.animal"


def test_wordnet_skips_the_licence_header():
    texts = [t for _, _, t in bc.parse_wordnet_data(WORDNET_LINES)]
    assert not any("LICENSEE" in t or "PRINCETON" in t for t in texts)


def test_there_are_45_lexnames():
    assert len(bc.LEXNAMES) == 45 and bc.LEXNAMES[44] == "adj.ppl"


# fortunes

def test_fortunes_entries_are_separated_by_percent_lines():
    sentences = bc.parse_fortunes(FORTUNES)
    assert sentences[:2] == ["A day for firm decisions!!!!!", "Or is it?"]


def test_fortunes_drop_attribution_lines():
    sentences = bc.parse_fortunes(FORTUNES)
    assert "Brevity is the soul of wit." in sentences
    assert "Mr. Polonius says so." in sentences
    assert not any("Shakespeare" in s for s in sentences)


def test_fortunes_join_wrapped_lines_but_not_paragraphs():
    sentences = bc.parse_fortunes(FORTUNES)
    assert "The first line of a wrapped entry continues here." in sentences
    assert "A second paragraph." in sentences


# sentence splitting

def test_join_paragraphs_breaks_at_blank_lines():
    lines = ["It is a truth universally", "acknowledged.", "", "  ", "However little known"]
    assert bc.join_paragraphs(lines) == ["It is a truth universally acknowledged.",
                                         "However little known"]


def test_split_keeps_titles_with_their_names():
    text = "Mr. Darcy bowed. Mrs. Bennet and Dr. Jones went to St. Paul's. Then they left."
    assert bc.split_sentences(text) == [
        "Mr. Darcy bowed.", "Mrs. Bennet and Dr. Jones went to St. Paul's.", "Then they left."]


def test_split_keeps_initials_with_their_names():
    assert bc.split_sentences("It was by H. G. Wells. I read it.") == ["It was by H. G. Wells.",
                                                                      "I read it."]


def test_split_keeps_the_closing_quote_with_its_sentence():
    text = '"I am quite sure." She smiled. "Are you?"'
    assert bc.split_sentences(text) == ['"I am quite sure."', "She smiled.", '"Are you?"']


def test_split_does_not_break_before_a_speech_tag():
    text = '"What is his name?" said she. "Bingley."'
    assert bc.split_sentences(text) == ['"What is his name?" said she.', '"Bingley."']


# Bible

def test_bible_gives_book_and_verse_without_reference():
    verses = bc.parse_bible(BIBLE)
    assert verses[0] == ("Genesis", "In the beginning God created the heaven and the earth.")
    assert len(verses) == 3


def test_bible_book_names_may_start_with_a_number():
    book, verse = bc.parse_bible(BIBLE)[-1]
    assert (book, verse) == ("1 Samuel", "Then Samuel answered, Speak; for thy servant heareth.")


def test_every_bible_book_has_a_group():
    assert len(bc.BOOK_GROUP) == 66 and set(bc.BOOK_GROUP.values()) == set(bc.BIBLE_GROUPS)


# cleaning

def test_clean_rejects_fewer_than_three_words():
    assert bc.clean_sentence("Go home.") is None


def test_clean_rejects_more_than_thirty_words():
    assert bc.clean_sentence(" ".join(["word"] * 31)) is None
    assert bc.clean_sentence(" ".join(["word"] * 30)) is not None


def test_clean_rejects_markup_and_control_characters():
    assert bc.clean_sentence("<dark> Knghtbrd: We have lots.") is None
    assert bc.clean_sentence("This is _\bu_\bn_\bd_\be_\br_\bl_\bi_\bn_\be_\bd text") is None


def test_clean_rejects_all_caps_headings():
    assert bc.clean_sentence("THE COMING OF THE MARTIANS") is None
    assert bc.clean_sentence("And the LORD spake unto Moses.") is not None


def test_clean_rejects_digit_heavy_lines():
    assert bc.clean_sentence("30' N. lat. and 69 deg. 15' W.") is None


def test_clean_rejects_mostly_non_ascii_text():
    assert bc.clean_sentence("Это не английское предложение") is None
    assert bc.clean_sentence("We met in a little café downtown.") is not None


def test_clean_normalises_whitespace_and_strips_italic_underscores():
    assert bc.clean_sentence("  Between _them_ it was\tmore  the intimacy ") == \
        "Between them it was more the intimacy"


def test_clean_keeps_casing():
    assert bc.clean_sentence("Emma Woodhouse was handsome.") == "Emma Woodhouse was handsome."


def test_clean_closes_a_quote_cut_by_splitting():
    assert bc.clean_sentence('"I went home.') == '"I went home."'
    assert bc.clean_sentence('Then I slept," said he.') == '"Then I slept," said he.'


# building

def test_source_cap_keeps_every_source_under_the_share():
    sizes = {"wordnet": 150_000, "novels": 38_000, "fortunes": 23_000, "bible": 22_000}
    cap = bc.source_cap(sizes, 0.3)
    kept = {s: min(n, cap) for s, n in sizes.items()}
    assert max(kept.values()) <= 0.3 * sum(kept.values())
    assert bc.source_cap(sizes, 0.3 + 1e-3) >= cap  # and it is the largest such cap


def test_balanced_sample_has_at_most_n_per_label():
    records = [bc.Record(f"sentence {i}", "src", "a" if i % 3 else "b", "") for i in range(30)]
    rows = bc.balanced(records, lambda r: r.label, 5, random.Random(0))
    assert sorted(label for _, label in rows) == ["a"] * 5 + ["b"] * 5


# the shipped model's corpus: Tatoeba


def test_a_blocklisted_word_keeps_a_line_out_whatever_its_case():
    assert bc.is_clean("Where is the library?")
    assert not bc.is_clean("That was a DAMN good film.")
    assert bc.is_clean("Damnation is a word, not the word.")  # whole words only


def test_sentence_kinds_follow_the_last_mark_and_the_words():
    assert bc.sentence_kind("Where is the library?") == "question"
    assert bc.sentence_kind("What a lovely day!") == "exclamation"
    assert bc.sentence_kind("I don\u2019t like it.") == "negation"
    assert bc.sentence_kind("He never sleeps.") == "negation"
    assert bc.sentence_kind("The soup is hot.") == "statement"


def test_the_splits_share_no_sentence_and_hold_no_reserved_one(tmp_path):
    lines = [f"Sentence number {i} is here." for i in range(7000)]
    lines += ["sentence NUMBER 5 is here!", "I love this restaurant.", "Shit happens every day."]
    source = tmp_path / "sentences.txt.gz"
    bc.write_gz(source, lines)
    splits, counts = bc.build_training(source, tmp_path, random.Random(0), reserved=["I love this restaurant!"])
    keys = {name: {bc.normalised(t) for t in split} for name, split in splits.items()}
    assert not keys["train"] & keys["valid"] and not keys["train"] & keys["test"] and not keys["valid"] & keys["test"]
    every = keys["train"] | keys["valid"] | keys["test"]
    assert "i love this restaurant" not in every and "shit happens every day" not in every
    assert len(splits["test"]) == len(splits["valid"]) == bc.TATOEBA_HELDOUT
    assert sum(map(len, splits.values())) == 7000  # the case variant of sentence 5 counted once
    assert (tmp_path / "train.txt.gz").is_file() and (tmp_path / "sentence_kinds.csv").is_file()


def test_classroom_phrases_leave_a_map_row_out_as_whole_words_only():
    rows = [("My little sister gave me the finger!", "exclamation"), ("That's pure BS!", "exclamation"),
            ("He gave me the finger-post to the village.", "statement"), ("The cock crew at dawn.", "statement"),
            ("She bought a bracelet.", "statement"), ("The bra-ket notation.", "statement")]
    # a hyphen joins words ("the finger-post" is not "the finger"), and "bra" is not "bracelet"
    assert bc.for_the_classroom(rows) == rows[2:]


def test_no_committed_map_row_holds_a_classroom_phrase():
    import csv

    for name in ("sentence_kinds", "by_source", "by_author", "wordnet_topics", "bible_books"):
        with open(ROOT / "assets" / "corpora" / f"{name}.csv", encoding="utf-8") as f:
            rows = [(r["text"], r["label"]) for r in csv.DictReader(f)]
        assert bc.for_the_classroom(rows) == rows, name
