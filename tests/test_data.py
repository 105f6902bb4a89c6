import gzip

import pytest

from vae.data import CorpusError, length_bucketed_batches, parse_corpus, read_corpus


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
