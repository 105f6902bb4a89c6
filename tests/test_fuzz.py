"""Property-based tests: random input to the public functions of vae/ lets only the project's own
errors escape, never a TypeError, a torch RuntimeError or a ZeroDivisionError.

About 10,000 calls in all (the counts are in each test's settings), on the tiny model. The examples
are derandomised, so a failure here fails the same way on every run."""

import gzip
import json
import math
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vae.checkpoint import CheckpointError, card_problem, config_problem, load_model
from vae.data import CorpusError, parse_corpus, safe_cell
from vae.decode import (
    InputError,
    encode_texts,
    interpolate,
    reconstruct,
    sample_near,
    sample_prior,
    sentence_ids,
)
from vae.metrics import evaluate
from vae.tokenizer import detokenize
from vae.train import NonFiniteLoss

OURS = (InputError, CorpusError, CheckpointError, NonFiniteLoss)


def fuzz(examples):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much])


def only_our_errors(call):
    try:
        return call()
    except OURS:
        return None


# inputs: any unicode (lone surrogates included), and the odd values a caller may pass by mistake
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
texts = st.one_of(any_text, st.sampled_from(["", "   ", "the cat sat on the mat .", "<unk>", "\ud800", "a\ud800b"]))
not_text = st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=5), st.lists(st.integers(), max_size=2))
numbers = st.one_of(st.integers(-10, 10), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, -1, 10**6, 2**70, 0.5, 1.5]), st.none(), st.text(max_size=3), st.booleans())
small_counts = st.one_of(st.integers(-2, 4), numbers)
decoding = st.fixed_dictionaries({}, optional={
    "strategy": st.one_of(st.sampled_from(["greedy", "sample", "top-k", "top-p"]), st.text(max_size=6)),
    "temperature": numbers, "top_k": numbers, "top_p": numbers, "max_len": small_counts})


@pytest.fixture(scope="module")
def trained(tiny_trained):
    return tiny_trained[0]


@fuzz(3_000)
@given(text=st.one_of(texts, any_text))
def test_the_tokenizer_reads_any_text(trained, text):
    tokenizer = trained.tokenizer
    ids = tokenizer.encode(text, max_len=12)
    assert all(0 <= i < len(tokenizer) for i in ids) and len(ids) <= 12
    tokenizer.unknown_words(text)
    assert isinstance(tokenizer.decode(ids), str)


@fuzz(2_000)
@given(text=st.one_of(texts, not_text))
def test_sentence_ids_takes_anything(trained, text):
    result = only_our_errors(lambda: sentence_ids(trained, text))
    if result is not None:
        ids, notes = result
        assert 1 <= len(ids) <= trained.max_len and all(isinstance(n, str) for n in notes)


@fuzz(700)
@given(n=small_counts, seed=numbers, source=st.sampled_from(["prior", "mixture", "bogus"]), options=decoding)
def test_sample_prior_takes_anything(trained, n, seed, source, options):
    samples = only_our_errors(lambda: sample_prior(trained, n, seed, source=source, **options))
    assert samples is None or (len(samples) == n and all(isinstance(s.text, str) for s in samples))


@fuzz(400)
@given(text=texts, n=small_counts, spread=numbers, options=decoding)
def test_sample_near_takes_anything(trained, text, n, spread, options):
    samples = only_our_errors(lambda: sample_near(trained, text, n, spread, **options))
    assert samples is None or all(math.isfinite(s.logprob) for s in samples)


@fuzz(400)
@given(a=texts, b=texts, steps=small_counts, method=st.sampled_from(["linear", "spherical", "bogus", None]))
def test_interpolate_takes_anything(trained, a, b, steps, method):
    path = only_our_errors(lambda: interpolate(trained, a, b, steps, method))
    assert path is None or len(path) == steps


@fuzz(400)
@given(batch=st.one_of(st.lists(texts, max_size=4), texts, not_text, st.lists(not_text, min_size=1, max_size=2)))
def test_reconstruct_and_encode_take_anything(trained, batch):
    only_our_errors(lambda: reconstruct(trained, batch))
    mu = only_our_errors(lambda: encode_texts(trained, batch))
    assert mu is None or mu.shape == (len(batch), trained.model.config.latent_size)


@fuzz(150)
@given(batch=st.one_of(st.lists(texts, max_size=3), texts, not_text), iw_samples=small_counts)
def test_evaluate_takes_anything(trained, batch, iw_samples):
    result = only_our_errors(lambda: evaluate(trained, batch, iw_samples))
    assert result is None or math.isfinite(result["elbo"])


# corpora: any bytes under any of the names the app and the CLI accept

names = st.sampled_from(["c.txt", "c.csv", "c.tsv", "c.txt.gz", "c.csv.gz", "C.TSV", "noext"])
table_text = st.lists(st.lists(st.text(st.characters(codec="utf-8"), max_size=8), max_size=4), max_size=6).map(
    lambda rows: "\n".join(",".join(row) for row in rows))
corpus_bytes = st.one_of(
    st.binary(max_size=200),
    any_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    table_text.map(lambda t: ("text,label\n" + t).encode()),
    table_text.map(str.encode),
    st.binary(max_size=100).map(gzip.compress),
    table_text.map(lambda t: gzip.compress(("text\n" + t).encode())[:-3]),  # truncated gzip
)


@fuzz(2_000)
@given(data=corpus_bytes, name=names, max_rows=st.sampled_from([None, 1, 3]), max_bytes=st.sampled_from([None, 50]))
def test_parse_corpus_takes_any_bytes(data, name, max_rows, max_bytes):
    corpus = only_our_errors(lambda: parse_corpus(data, name, max_rows, max_bytes))
    if corpus is not None:
        assert corpus.texts and all(isinstance(t, str) and t.strip() == t and t for t in corpus.texts)
        assert max_rows is None or len(corpus.texts) <= max_rows
        assert corpus.labels is None or len(corpus.labels) == len(corpus.texts)


@fuzz(500)
@given(words=st.lists(any_text, max_size=6), cell=st.one_of(any_text, st.sampled_from(["=1+2", "@SUM(A1)", "-1.5"])))
def test_detokenize_and_safe_cell_take_any_text(words, cell):
    assert isinstance(detokenize(words), str)
    escaped = safe_cell(cell)
    assert escaped == cell or escaped == "'" + cell
    if escaped == cell and cell.startswith(("=", "+", "-", "@", "\t", "\r")):
        float(cell)  # only a number such as -1.5 or +2 may keep its sign unescaped


# checkpoints with any JSON in config.json and card.json

json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3), max_leaves=8)
card_keys = st.sampled_from(["steps", "training_sentences", "command", "test_metrics", "samples", "bars", "other"])


@fuzz(600)
@given(model=st.dictionaries(st.sampled_from(["vocab_size", "embed_size", "hidden_size", "latent_size", "num_layers",
                                                "dropout", "rnn_type", "bidirectional"]), json_values, max_size=4),
       max_len=json_values, card=st.one_of(json_values, st.dictionaries(card_keys, json_values, max_size=3)))
def test_config_and_card_checks_take_any_json(model, max_len, card):
    config = {"format": "text-vae/1", "model": {"vocab_size": 40, **model}, "max_len": max_len}
    for problem in (config_problem(config), card_problem(card)):
        assert problem is None or isinstance(problem, str)


@fuzz(150)
@given(card=st.one_of(json_values, st.dictionaries(card_keys, json_values, max_size=3)),
       max_len=st.one_of(st.integers(-2, 600), json_values))
def test_load_model_takes_any_card_and_max_len(tiny_model_dir, tmp_path_factory, card, max_len):
    folder = tmp_path_factory.mktemp("fuzzed")
    for file in tiny_model_dir.iterdir():
        shutil.copy(file, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "max_len": max_len}))
    (folder / "card.json").write_text(json.dumps(card))
    loaded = only_our_errors(lambda: load_model(folder, "cpu"))
    if loaded is not None:  # what loads must also decode
        assert sample_prior(loaded, 1, 0)
    shutil.rmtree(folder)


# the command line: any mix of options and values ends in exit 0 or a one-line error with exit 2

VALUES = st.sampled_from(["0", "-1", "1", "2", "3", "0.5", "nan", "inf", "-inf", "1e9", "abc", "", " "])
OPTIONS = {
    "sample": ["-n", "--seed", "--temperature", "--top-k", "--top-p", "--spread", "--strategy", "--source",
               "--near", "--device"],
    "interpolate": ["--steps", "--method", "--device"],
    "encode": ["--device"],
    "evaluate": ["--iw-samples", "--max-sentences", "--diversity", "--seed", "--device"],
}


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(OPTIONS)))
    argv = [command]
    if command == "interpolate":
        argv += [draw(texts), draw(texts)]
    for option in draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=4)):
        value = draw(st.one_of(VALUES, st.sampled_from(["greedy", "top-p", "mixture", "cpu", "cuda", "spherical"]),
                               texts))
        argv += [option, value]
    return argv


@fuzz(250)
@given(argv=command_lines())
def test_the_command_line_takes_any_options(tiny_model_dir, tmp_path_factory, argv):
    from vae.cli import main

    folder = tmp_path_factory.mktemp("cli")
    (folder / "c.txt").write_text("the cat sat on the mat .\na dog ran in the park .\n")
    if argv[0] in ("encode", "evaluate"):
        argv += ["--corpus", str(folder / "c.txt")]
    if argv[0] == "encode":
        argv += ["--out", str(folder / "z.csv")]
    try:
        status = main(argv + ["--model", str(tiny_model_dir)])
    except SystemExit as e:  # argparse
        status = e.code
    assert status in (0, 2)
    shutil.rmtree(folder)
