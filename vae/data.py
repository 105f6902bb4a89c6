"""Corpora and batches.

A corpus is plain text (one sentence per line, optionally .gz) or a CSV/TSV file with a `text`
column and an optional `label` column. The same parser serves files on disk (CLI, training) and
uploads in the app, so both give the same clear errors. Limits hold while parsing: a .gz is
decompressed only up to `max_bytes`, and reading stops at the first row past `max_rows`.
"""

import csv
import io
import itertools
import random
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .tokenizer import EOS_ID, PAD_ID

MAX_TEXT_BYTES = 50_000_000  # of text, after decompression: 25x the shipped training corpus
MAX_ROWS = 5_000_000
MAX_SENTENCE_CHARS = 10_000  # a longer "sentence" is a file that is not one sentence per line


class CorpusError(ValueError):
    """A corpus that cannot be used, with a message meant for the person who supplied it."""


def size_text(num_bytes: int) -> str:
    """A size said exactly: '2,000,001 bytes (2.0 MB)', so it never looks equal to the limit."""
    return f"{num_bytes:,} bytes ({num_bytes / 1e6:.1f} MB)" if num_bytes >= 100_000 else f"{num_bytes:,} bytes"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A CSV cell a spreadsheet will not run: text that starts like a formula (= + - @, tab, CR)
    gets a leading apostrophe (OWASP's advice on CSV injection). Numbers such as -1.5 stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


@dataclass
class Corpus:
    texts: list
    labels: list | None = None  # one label per text, or None


def parse_corpus(data: bytes, name: str, max_rows=MAX_ROWS, max_bytes=MAX_TEXT_BYTES) -> Corpus:
    """Parse corpus bytes; `name` (a file name) picks the format by its extension. At most
    `max_rows` sentences and `max_bytes` of text (after decompression); None = the defaults."""
    name = name.lower()
    max_rows = MAX_ROWS if max_rows is None else max_rows
    max_bytes = MAX_TEXT_BYTES if max_bytes is None else max_bytes
    if name.endswith(".gz"):
        data = gunzip(data, max_bytes, name)
        name = name[:-3]
    if len(data) > max_bytes:
        raise CorpusError(f"{name}: {size_text(len(data))}; the limit is {size_text(max_bytes)}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CorpusError(f"{name}: not UTF-8 text (byte {e.start:,} is not valid UTF-8)") from None
    if name.endswith((".csv", ".tsv")):
        corpus = _parse_table(text, "\t" if name.endswith(".tsv") else ",", name, max_rows)
    else:
        texts = []
        for line in io.StringIO(text):  # one line at a time: stop at the first one past the limit
            if line.strip():
                texts.append(_sentence(line, len(texts), name))
                _check_rows(len(texts), max_rows, name)
        corpus = Corpus(texts)
    if not corpus.texts:
        raise CorpusError(f"{name}: no sentences found")
    return corpus


def _sentence(text, index, name):
    text = text.strip()
    if len(text) > MAX_SENTENCE_CHARS:
        raise CorpusError(f"{name}: sentence {index + 1:,} has {len(text):,} characters; the limit is "
                          f"{MAX_SENTENCE_CHARS:,} (one sentence per line or row)")
    return text


def _check_rows(count, max_rows, name):
    if count > max_rows:
        raise CorpusError(f"{name}: more than {max_rows:,} sentences; the limit is {max_rows:,}")


def gunzip(data: bytes, max_bytes: int, name: str) -> bytes:
    """The decompressed bytes of a (possibly multi-member) gzip file, stopping as soon as they pass
    `max_bytes`: a small "zip bomb" never gets to fill the memory."""
    parts, size = [], 0
    while data:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer
        try:
            part = inflater.decompress(data, max_bytes - size + 1)
        except zlib.error as e:
            raise CorpusError(f"{name}: not a valid gzip file ({e})") from None
        size += len(part)
        if size > max_bytes:
            raise CorpusError(f"{name}: decompresses to more than {size_text(max_bytes)}, the limit")
        if not inflater.eof:
            raise CorpusError(f"{name}: not a valid gzip file (it ends too early)")
        parts.append(part)
        data = inflater.unused_data.lstrip(b"\0")  # the next member, if any (some tools pad with zeros)
    return b"".join(parts)


def _parse_table(text, delimiter, name, max_rows):
    kind = "TSV" if delimiter == "\t" else "CSV"
    texts, labels, header = [], [], None
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter, strict=True):
            if header is None:
                header = [h.strip().lower() for h in row]
                if "text" not in header:
                    found = ", ".join(row) or "nothing"
                    raise CorpusError(f"{name}: no 'text' column in the header (found: {found[:200]})")
                t = header.index("text")
                lab = header.index("label") if "label" in header else None
            elif t < len(row) and row[t].strip():
                texts.append(_sentence(row[t], len(texts), name))
                labels.append(row[lab].strip() if lab is not None and lab < len(row) else "")
                _check_rows(len(texts), max_rows, name)
    except csv.Error as e:
        raise CorpusError(f"{name}: malformed {kind} ({e})") from None
    if header is None:
        raise CorpusError(f"{name}: the file is empty")
    return Corpus(texts, labels if lab is not None else None)


def read_corpus(path, max_rows=MAX_ROWS, max_bytes=MAX_TEXT_BYTES) -> Corpus:
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    # a plain file is refused before it is read; a .gz may hold up to max_bytes once decompressed
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise CorpusError(f"{path}: {size_text(size)}; the limit is {size_text(max_bytes)}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CorpusError(f"{path}: cannot be read ({e.strerror})") from None
    return parse_corpus(data, path.name, max_rows, max_bytes)


# tensors and batches


def to_batch(ids_list, device=None):
    """Token id lists (words only) -> tokens (B, T) with <eos> appended and <pad> after, lengths (B,).
    Built with one numpy fill, not a tensor per sentence: for 5,000 sentences to encode, the
    per-sentence version was most of the time spent outside the encoder."""
    lengths = np.fromiter(map(len, ids_list), dtype=np.int64, count=len(ids_list)) + 1
    tokens = np.full((len(ids_list), int(lengths.max())), PAD_ID, dtype=np.int64)
    words = np.arange(tokens.shape[1]) < (lengths - 1)[:, None]
    tokens[words] = np.fromiter(itertools.chain.from_iterable(ids_list), dtype=np.int64, count=int(words.sum()))
    tokens[np.arange(len(ids_list)), lengths - 1] = EOS_ID
    return torch.from_numpy(tokens).to(device), torch.from_numpy(lengths).to(device)


def length_bucketed_batches(lengths, batch_size, rng: random.Random, pool_batches=50):
    """Index batches of similar lengths, in random order: shuffle, sort within pools of
    `pool_batches` batches, cut into batches, shuffle the batches. Little padding, still random."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches = []
    pool_size = batch_size * pool_batches
    for start in range(0, len(order), pool_size):
        pool = sorted(order[start : start + pool_size], key=lambda i: lengths[i])
        batches += [pool[i : i + batch_size] for i in range(0, len(pool), batch_size)]
    rng.shuffle(batches)
    return batches


def sorted_batches(lengths, batch_size):
    """Index batches in length order, for evaluation and encoding (deterministic, least padding)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
