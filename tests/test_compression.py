"""The VAE as a compressor (vae/compression.py): its bits per sentence beside gzip, bz2 and lzma."""

import gzip
import math

import pytest
from conftest import SENTENCES

from vae import compression as compression_module
from vae.compression import as_read, compressed_bits, compression, sentence_bits
from vae.decode import InputError
from vae.metrics import evaluate
from vae.train import new_model


def test_compressed_bits_count_every_byte_of_the_file():
    text = "the cat sat on the mat. " * 20
    bits = compressed_bits(text)
    assert bits["utf8"] == 8 * len(text.encode())
    assert bits["gzip"] == 8 * len(gzip.compress(text.encode(), mtime=0))
    assert bits["gzip"] < bits["utf8"] and bits["bz2"] < bits["utf8"] and bits["lzma"] < bits["utf8"]


def test_compressed_bits_are_the_same_every_time():
    assert compressed_bits("a dog ran in the park.") == compressed_bits("a dog ran in the park.")  # no timestamp


def test_the_compressors_get_the_text_as_the_model_reads_it(tiny_trained):
    trained, _ = tiny_trained
    assert as_read(trained, ["The CAT sat on the zebra .", "   "]) == ["the cat sat on the <unk>."]


def test_the_vae_figures_are_evaluates_in_bits(tiny_trained):
    trained, _ = tiny_trained
    nats = evaluate(trained, SENTENCES, iw_samples=5, seed=3)
    figures = compression(trained, SENTENCES, iw_samples=5, seed=3)["vae"]
    assert figures["neg_elbo"] == pytest.approx(-nats["elbo"] / math.log(2))
    assert figures["rate"] == pytest.approx(nats["kl"] / math.log(2))
    assert figures["distortion"] == pytest.approx(nats["recon"] / math.log(2))
    assert figures["iw_nll"] == pytest.approx(nats["iw_nll"] / math.log(2))
    assert figures["neg_elbo"] == pytest.approx(figures["rate"] + figures["distortion"])


def test_an_evaluation_already_made_is_reused(tiny_trained, monkeypatch):
    trained, _ = tiny_trained
    evaluation = evaluate(trained, SENTENCES, iw_samples=2)
    monkeypatch.setattr(compression_module, "evaluate", None)  # calling it would fail
    assert compression(trained, SENTENCES, evaluation=evaluation)["vae"]["neg_elbo"] == pytest.approx(
        -evaluation["elbo"] / math.log(2))


def test_an_evaluation_of_other_sentences_is_refused(tiny_trained):
    trained, _ = tiny_trained
    with pytest.raises(ValueError, match="not these"):
        compression(trained, SENTENCES, evaluation=evaluate(trained, SENTENCES[:3], iw_samples=1))


def test_sentences_alone_pay_the_header_and_together_share_it(tiny_trained):
    trained, _ = tiny_trained
    figures = compression(trained, SENTENCES, iw_samples=1)
    read = as_read(trained, SENTENCES)
    assert figures["sentences"] == len(SENTENCES) and figures["unit"] == "bits per sentence"
    assert figures["alone"]["gzip"] == sum(compressed_bits(text)["gzip"] for text in read) / len(read)
    assert figures["together"]["gzip"] == compressed_bits("\n".join(read) + "\n")["gzip"] / len(read)
    for name in ("gzip", "bz2", "lzma"):
        assert figures["alone"][name] > figures["empty_file"][name] > 0
        assert figures["together"][name] < figures["alone"][name]


def test_the_figures_cite_bits_back_coding(tiny_trained):
    trained, _ = tiny_trained
    coding = compression(trained, SENTENCES[:2], iw_samples=1)["coding"]
    assert "Hinton & van Camp 1993" in coding and "Townsend et al. 2019" in coding and "-ELBO" in coding


def test_an_autoencoder_is_no_compressor():
    trained = new_model(SENTENCES, dict(embed_size=16, hidden_size=16, latent_size=4, autoencoder=True), min_freq=1)
    figures = compression(trained, SENTENCES, iw_samples=1)
    assert figures["vae"] is None and figures["alone"]["gzip"] > 0
    assert sentence_bits(trained, SENTENCES[0], iw_samples=1)["neg_elbo_bits"] is None


def test_one_sentences_bits(tiny_trained):
    trained, _ = tiny_trained
    bits = sentence_bits(trained, SENTENCES[0], iw_samples=2)
    whole = compression(trained, [SENTENCES[0]], iw_samples=2)
    assert bits["neg_elbo_bits"] == whole["vae"]["neg_elbo"] and bits["rate_bits"] == whole["vae"]["rate"]
    assert bits["gzip_bits"] == compressed_bits("the cat sat on the mat.")["gzip"]
    assert set(bits) == {"rate_bits", "distortion_bits", "neg_elbo_bits", "iw_nll_bits", "utf8_bits", "gzip_bits",
                         "bz2_bits", "lzma_bits"}


def test_a_sentence_with_no_words_has_no_figures(tiny_trained):
    trained, _ = tiny_trained
    with pytest.raises(InputError):
        sentence_bits(trained, "   ")
