import gzip
import tracemalloc

import pytest

from vae.data import CorpusError, length_bucketed_batches, parse_corpus, read_corpus, safe_cell, size_text


def test_plain_text_is_one_sentence_per_line():
    corpus = parse_corpus(b"first line\n\n  second line  \n", "my.txt")
    assert corpus.texts == ["first line", "second line"]
    assert corpus.labels is None


def test_csv_with_text_and_label_columns():
    corpus = parse_corpus(b'Label,TEXT\npos,"good, very good"\nneg,bad\n', "x.csv")
    assert corpus.texts == ["good, very good", "bad"]
    assert corpus.labels == ["pos", "neg"]


def test_tsv_without_label():
    corpus = parse_corpus(b"id\ttext\n1\thello there\n", "x.tsv")
    assert corpus.texts == ["hello there"]
    assert corpus.labels is None


def test_gzip_text(tmp_path):
    path = tmp_path / "c.txt.gz"
    path.write_bytes(gzip.compress(b"a b c\nd e\n"))
    assert read_corpus(path).texts == ["a b c", "d e"]


@pytest.mark.parametrize("data, name, message", [
    (b"", "empty.txt", "no sentences"),
    (b"\n\n", "blank.txt", "no sentences"),
    (b"sentence,label\nhi,x\n", "x.csv", "no 'text' column"),
    (b"\xff\xfe\x00garbage", "bin.txt", "not UTF-8"),
    (b"not gzip", "x.txt.gz", "not a valid gzip"),
    (b"text\n\"unclosed\n", "x.csv", "malformed CSV"),
])
def test_bad_corpora_give_clear_errors(data, name, message):
    with pytest.raises(CorpusError, match=message):
        parse_corpus(data, name)


def test_row_limit_is_enforced():
    with pytest.raises(CorpusError, match="limit is 2"):
        parse_corpus(b"a\nb\nc\n", "x.txt", max_rows=2)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        read_corpus(tmp_path / "nope.txt")


def test_length_buckets_group_similar_lengths():
    import random

    lengths = [random.Random(i).randint(1, 40) for i in range(1000)]
    batches = length_bucketed_batches(lengths, 32, random.Random(0))
    assert sorted(i for b in batches for i in b) == list(range(1000))
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 5  # random batches would span ~35


def test_a_gzip_bomb_stops_at_the_byte_limit_without_inflating_it_all(tmp_path):
    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip.compress(b"a" * 100_000_000))  # 100 MB of text in about 100 KB
    assert bomb.stat().st_size < 200_000
    tracemalloc.start()
    with pytest.raises(CorpusError, match="decompresses to more than 1,000,000 bytes"):
        read_corpus(bomb, max_bytes=1_000_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20_000_000


def test_the_row_limit_holds_while_parsing():
    with pytest.raises(CorpusError, match="more than 3 sentences"):
        parse_corpus(b"a\nb\nc\nd\ne\n", "x.txt", max_rows=3)
    with pytest.raises(CorpusError, match="more than 2 sentences"):
        parse_corpus(b"text\na\nb\nc\n", "x.csv", max_rows=2)
    assert len(parse_corpus(b"a\nb\nc\n", "x.txt", max_rows=3).texts) == 3


def test_sizes_are_said_exactly():
    with pytest.raises(CorpusError, match=r"2,000,001 bytes \(2.0 MB\); the limit is 2,000,000 bytes"):
        parse_corpus(b"a" * 2_000_001, "big.txt", max_bytes=2_000_000)
    assert size_text(512) == "512 bytes"


def test_multi_member_gzip_and_bad_gzip():
    data = gzip.compress(b"first\n") + gzip.compress(b"second\n")
    assert parse_corpus(data, "x.txt.gz").texts == ["first", "second"]
    with pytest.raises(CorpusError, match="ends too early"):
        parse_corpus(gzip.compress(b"some text\n" * 100)[:-20], "x.txt.gz")
    with pytest.raises(CorpusError, match="not a valid gzip"):
        parse_corpus(b"plain", "x.txt.gz")


@pytest.mark.parametrize("cell, escaped", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("@SUM(A1)", "'@SUM(A1)"), ("+1+2", "'+1+2"),
    ("-2+3", "'-2+3"), ("\tx", "'\tx"), ("-1.5", "-1.5"), ("the cat", "the cat"), ("", ""),
])
def test_formula_cells_are_escaped(cell, escaped):
    assert safe_cell(cell) == escaped


def test_a_line_too_long_to_be_a_sentence_is_refused():
    with pytest.raises(CorpusError, match="sentence 2 has 10,001 characters; the limit is 10,000"):
        parse_corpus(b"short\n" + b"a" * 10_001 + b"\n", "x.txt")
