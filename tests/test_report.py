"""The card's figures: reconstruction by length, mutual information, sample fluency, the mixture."""

import math
import re

import pytest
import torch
from conftest import SENTENCES

from vae.decode import SAMPLE_DEFAULTS, InputError, default_sample_settings, encode_texts, sample_prior
from vae.density import fit_latent_density, sample_density
from vae.metrics import (
    lm_perplexity,
    mutual_information,
    mutual_information_upper_bound,
    num_words,
    reconstruction_quality,
    reconstruction_scores,
    sample_diversity,
)
from vae.report import BARS, INTERPOLATION_PAIRS, interpolation_report, meets, read_everyday_sentences

WORD = r"\w+(?:'\w+)?"  # a word as the tokenizer splits it (vae/tokenizer.py), punctuation not counted


def test_exact_match_counts_whole_sentences_only():
    pairs = [(["a", "cat", "."], ["a", "cat", "."]), (["a", "dog", "."], ["a", "cat", "."])]
    scores = reconstruction_scores(pairs)
    assert scores["exact_match"] == 0.5
    assert scores["token_accuracy"] == pytest.approx(7 / 8)  # 3 + 1 eos, twice; one word wrong


def test_punctuation_is_not_a_word():
    assert num_words(["i", "love", "it", "."]) == 3


def test_a_memorising_model_reads_every_sentence_back_in_its_length_bucket(tiny_trained):
    trained, _ = tiny_trained
    result = reconstruction_quality(trained, SENTENCES)
    assert result["exact_match"] == 1.0 and result["up_to_12_words"]["sentences"] == len(SENTENCES)
    assert result["by_length"]["<=8 words"]["sentences"] == len(SENTENCES)  # all have 3-7 words
    assert result["by_length"]["13-15 words"]["sentences"] == 0


def test_whole_set_mutual_information_is_not_capped_at_log_64():
    # seeded, not torch's global generator: the estimate's Monte Carlo noise (sd about 0.09 nats here)
    # then does not depend on which tests ran before on the same worker
    mu = torch.randn(512, 8, generator=torch.Generator().manual_seed(0)) * 5  # well separated posteriors
    logvar = torch.full_like(mu, -4.0)
    estimate = mutual_information(mu, logvar, generator=torch.Generator().manual_seed(1))
    assert estimate > math.log(64) + 1  # a batch of 64 could not say more than 4.16
    assert estimate <= math.log(512) + 0.3  # log N, give or take Monte Carlo noise


def test_the_upper_bound_is_above_the_estimate_and_near_zero_without_information():
    mu = torch.randn(400, 4) * 2
    logvar = torch.zeros_like(mu)
    assert mutual_information_upper_bound(mu, logvar) >= mutual_information(mu, logvar) - 0.05
    assert abs(mutual_information_upper_bound(torch.zeros(400, 4), torch.zeros(400, 4))) < 1e-6


def test_an_lm_finds_its_own_training_sentences_likelier_than_shuffled_words(tiny_trained):
    trained, _ = tiny_trained
    shuffled = [" ".join(reversed(s.split())) for s in SENTENCES]
    assert lm_perplexity(trained, SENTENCES) < lm_perplexity(trained, shuffled)


def test_sample_metrics_report_empty_samples_and_fluency(tiny_trained):
    trained, _ = tiny_trained
    result = sample_diversity(trained, n=20, lm=trained, train_texts=SENTENCES)
    assert result["empty"] == 0.0 and result["lm_perplexity"] > 1
    assert 0 < result["distinct_2"] <= 1 and 0 <= result["copied_from_train"] <= 1


def test_the_mixture_is_fitted_to_training_codes_and_sampled_from(tiny_trained):
    trained, _ = tiny_trained
    density = fit_latent_density(encode_texts(trained, SENTENCES), components=2)
    assert density["means"].shape == (2, 8) and density["scale_tril"].shape == (2, 8, 8)
    z = sample_density(density, 500, torch.Generator().manual_seed(0), "cpu")
    assert z.shape == (500, 8)
    # the samples follow the mixture, not N(0, I): their mean is the mixture's mean
    mixture_mean = (density["weights"][:, None] * density["means"]).sum(0)
    assert torch.allclose(z.mean(0), mixture_mean, atol=0.3 * z.std(0).max().item())


def test_spread_scales_the_noise_of_the_codes(tiny_trained):
    trained, _ = tiny_trained
    at_the_centre = sample_prior(trained, 4, seed=0, spread=0.0, strategy="greedy")
    assert len({s.text for s in at_the_centre}) == 1  # z = 0 every time
    density = fit_latent_density(encode_texts(trained, SENTENCES), components=2)
    z = sample_density(density, 50, torch.Generator().manual_seed(0), "cpu", spread=0.0)
    assert all(any(torch.allclose(code, mean) for mean in density["means"]) for code in z)  # component means
    with pytest.raises(InputError, match="spread"):
        sample_prior(trained, 2, spread=-0.5)


def test_the_default_sample_settings_fall_back_to_the_prior_without_a_mixture(tiny_trained):
    trained, _ = tiny_trained
    assert default_sample_settings(trained)["source"] == "prior"
    assert {k: v for k, v in default_sample_settings(trained).items() if k != "source"} == \
        {k: v for k, v in SAMPLE_DEFAULTS.items() if k != "source"}
    assert len(sample_prior(trained, 3, **default_sample_settings(trained))) == 3


def test_sampling_from_a_mixture_the_model_lacks_says_so(tiny_trained):
    trained, _ = tiny_trained
    assert trained.density is None
    with pytest.raises(InputError, match="no fitted mixture"):
        sample_prior(trained, 2, source="mixture")
    with pytest.raises(InputError, match="source must be"):
        sample_prior(trained, 2, source="nowhere")


def test_interpolation_ends_count_as_reproduced_only_when_read_back(tiny_trained):
    trained, _ = tiny_trained
    rows = interpolation_report(trained, pairs=[(SENTENCES[0], SENTENCES[1]), ("zebra xylophone", SENTENCES[1])])
    assert [r["ends_reproduced"] for r in rows] == [True, False]


def test_bars_are_floors_or_ceilings_as_stated():
    assert meets("everyday_exact_match_4_to_8_words", 0.9) and not meets("everyday_exact_match_4_to_8_words", 0.89)
    assert meets("everyday_exact_match_9_to_15_words", 0.5) and not meets("everyday_exact_match_9_to_15_words", 0.49)
    assert meets("iw_nll_gap_to_lm", 9.9) and not meets("iw_nll_gap_to_lm", 10.1)
    assert meets("sample_lm_perplexity_ratio", 1.5) and not meets("sample_lm_perplexity_ratio", 1.51)
    assert meets("sample_empty", 0.0) and not meets("sample_empty", 0.001)
    assert BARS["heldout_exact_match_up_to_12_words"] == 0.60 and BARS["heldout_bleu_up_to_12_words"] == 70
    assert BARS["interpolation_endpoints_reproduced"] == 5
    assert meets("sample_copied_from_train", 0.10) and not meets("sample_copied_from_train", 0.11)
    assert meets("blind_reader_samples", 20) and not meets("blind_reader_samples", 19)
    assert BARS["blind_reader_midpoints"] == 20 and BARS["blind_reader_real"] == 27


def test_the_everyday_list_has_short_and_long_sentences_and_nothing_else():
    # 36 of each, then 30 more of 9-15 words on work, school, travel, cooking, sport, weather and plans
    lengths = [len(re.findall(WORD, t)) for t in read_everyday_sentences()]
    assert sum(4 <= n <= 8 for n in lengths) >= 36 and sum(9 <= n <= 15 for n in lengths) >= 66
    assert all(4 <= n <= 15 for n in lengths)


def test_the_everyday_list_and_the_card_pairs_are_in_no_split_of_the_corpus():
    from scripts.build_corpora import normalised
    from vae.data import read_corpus
    from vae.paths import CORPORA

    corpus = {normalised(t) for split in ("train", "valid", "test")
              for t in read_corpus(CORPORA / f"{split}.txt.gz").texts}
    reserved = read_everyday_sentences() + [t for pair in INTERPOLATION_PAIRS for t in pair]
    assert [t for t in reserved if normalised(t) in corpus] == []


def test_two_card_pairs_have_an_end_of_nine_words_or_more():
    lengths = [len(re.findall(WORD, text)) for pair in INTERPOLATION_PAIRS for text in pair]
    assert len(INTERPOLATION_PAIRS) == 5 and sum(n >= 9 for n in lengths) >= 4


def test_nothing_to_measure_is_a_clear_error(tiny_trained):
    trained, _ = tiny_trained
    with pytest.raises(InputError, match="nothing to reconstruct"):
        reconstruction_quality(trained, [])
    for n in (0, -3, 2.5):
        with pytest.raises(InputError):
            sample_diversity(trained, n=n)
