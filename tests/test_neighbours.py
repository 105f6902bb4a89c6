"""Nearest neighbours by posterior mean, and sentence arithmetic z_c + z_b - z_a."""

import numpy as np
import pytest
from conftest import SENTENCES

from vae.decode import InputError, arithmetic, encode_texts
from vae.neighbours import distances, nearest


def plain(text):
    """A sentence as the model writes it (a capital first letter: vae/casing.py), without its full stop."""
    text = text.replace(" .", ".").rstrip(".").strip()
    return text[:1].upper() + text[1:]


def test_euclidean_nearest_comes_first_with_its_distance():
    mu = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]])
    order, d = nearest(mu, np.array([0.9, 0.0]), k=2)
    assert order.tolist() == [2, 0]
    np.testing.assert_allclose(d, [0.9, np.hypot(2.1, 4.0), 0.1])


def test_cosine_ignores_length_and_sees_direction():
    mu = np.array([[10.0, 0.0], [0.1, 0.1], [-1.0, 0.0]])
    d = distances(mu, np.array([1.0, 0.0]), "cosine")
    np.testing.assert_allclose(d, [0.0, 1 - np.sqrt(0.5), 2.0])
    assert nearest(mu, np.array([1.0, 0.0]), k=3, metric="cosine")[0].tolist() == [0, 1, 2]


def test_a_zero_code_has_cosine_distance_one_not_nan():
    d = distances(np.zeros((2, 3)), np.array([1.0, 0.0, 0.0]), "cosine")
    np.testing.assert_allclose(d, [1.0, 1.0])


def test_unknown_metric_is_an_error():
    with pytest.raises(ValueError, match="metric"):
        distances(np.zeros((1, 2)), np.zeros(2), "manhattan")


def test_a_corpus_sentence_is_its_own_nearest_neighbour(tiny_trained):
    mu = encode_texts(tiny_trained[0], SENTENCES).numpy()
    for metric in ("cosine", "euclidean"):
        assert nearest(mu, mu[4], k=1, metric=metric)[0].tolist() == [4]


def test_arithmetic_with_a_equal_b_gives_back_c(tiny_trained):
    result = arithmetic(tiny_trained[0], SENTENCES[0], SENTENCES[0], SENTENCES[3])
    assert plain(result.text) == plain(SENTENCES[3])


def test_arithmetic_with_c_equal_a_gives_b(tiny_trained):
    result = arithmetic(tiny_trained[0], SENTENCES[1], SENTENCES[7], SENTENCES[1])
    assert plain(result.text) == plain(SENTENCES[7])


def test_arithmetic_with_an_empty_sentence_is_a_clear_error(tiny_trained):
    with pytest.raises(InputError, match="empty"):
        arithmetic(tiny_trained[0], SENTENCES[0], "  ", SENTENCES[1])
