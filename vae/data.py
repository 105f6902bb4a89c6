"""Corpora and batches.

A corpus is plain text (one sentence per line, optionally .gz) or a CSV/TSV file with a `text`
column and an optional `label` column. The same parser serves files on disk (CLI, training) and
uploads in the app, so both give the same clear errors.
"""

import csv
import gzip
import io
import random
from dataclasses import dataclass
from pathlib import Path

import torch

from .tokenizer import EOS_ID, PAD_ID


class CorpusError(ValueError):
    """A corpus that cannot be used, with a message meant for the person who supplied it."""


@dataclass
class Corpus:
    texts: list
    labels: list | None = None  # one label per text, or None


def parse_corpus(data: bytes, name: str, max_rows=None) -> Corpus:
    """Parse corpus bytes; `name` (a file name) picks the format by its extension."""
    name = name.lower()
    if name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise CorpusError(f"{name}: not a valid gzip file ({e})") from None
        name = name[:-3]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorpusError(f"{name}: not UTF-8 text") from None
    if name.endswith((".csv", ".tsv")):
        corpus = _parse_table(text, "\t" if name.endswith(".tsv") else ",", name)
    else:
        corpus = Corpus([line.strip() for line in text.splitlines() if line.strip()])
    if not corpus.texts:
        raise CorpusError(f"{name}: no sentences found")
    if max_rows is not None and len(corpus.texts) > max_rows:
        raise CorpusError(f"{name}: {len(corpus.texts):,} sentences; the limit is {max_rows:,}")
    return corpus


def _parse_table(text, delimiter, name):
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter, strict=True))
    except csv.Error as e:
        raise CorpusError(f"{name}: malformed {'TSV' if delimiter == chr(9) else 'CSV'} ({e})") from None
    if not rows:
        raise CorpusError(f"{name}: the file is empty")
    header = [h.strip().lower() for h in rows[0]]
    if "text" not in header:
        raise CorpusError(f"{name}: no 'text' column in the header (found: {', '.join(rows[0]) or 'nothing'})")
    t = header.index("text")
    lab = header.index("label") if "label" in header else None
    texts, labels = [], []
    for row in rows[1:]:
        if t < len(row) and row[t].strip():
            texts.append(row[t].strip())
            labels.append(row[lab].strip() if lab is not None and lab < len(row) else "")
    return Corpus(texts, labels if lab is not None else None)


def read_corpus(path, max_rows=None) -> Corpus:
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    return parse_corpus(path.read_bytes(), path.name, max_rows)


# tensors and batches


def to_batch(ids_list, device=None):
    """Token id lists (words only) -> tokens (B, T) with <eos> appended and <pad> after, lengths (B,)."""
    lengths = [len(ids) + 1 for ids in ids_list]
    tokens = torch.full((len(ids_list), max(lengths)), PAD_ID, dtype=torch.long)
    for row, ids in enumerate(ids_list):
        tokens[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        tokens[row, len(ids)] = EOS_ID
    return tokens.to(device), torch.tensor(lengths, device=device)


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
