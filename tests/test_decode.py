import math

import pytest
import torch
from conftest import SENTENCES

from vae.decode import (
    InputError,
    decode_codes,
    encode_texts,
    generate,
    interpolate,
    interpolation_path,
    reconstruct,
    sample_near,
    sample_prior,
    sentence_ids,
    slerp,
    traversal_offsets,
    traverse,
    walk_origin,
)
from vae.tokenizer import EOS_ID

ALL = dict(strategy="sample")


def plain(text):
    """A corpus sentence as the model writes it: a capital first letter (vae/casing.py), no space before "."."""
    text = text.replace(" .", ".")
    return text[:1].upper() + text[1:]


def test_greedy_reconstruction_of_memorised_sentences(tiny_trained):
    trained, _ = tiny_trained
    assert [s.text for s in reconstruct(trained, SENTENCES)] == [plain(s) for s in SENTENCES]


def test_autoencoder_mode_also_memorises():
    from conftest import train_tiny

    trained, _ = train_tiny(autoencoder=True)
    assert [s.text for s in reconstruct(trained, SENTENCES)] == [plain(s) for s in SENTENCES]


@pytest.mark.parametrize("strategy", ["greedy", "sample", "top-k", "top-p", "beam"])
def test_same_seed_same_samples(tiny_trained, strategy):
    trained, _ = tiny_trained
    first = sample_prior(trained, 5, seed=3, strategy=strategy, temperature=1.2)
    again = sample_prior(trained, 5, seed=3, strategy=strategy, temperature=1.2)
    assert len(first) == 5
    assert first == again


def test_different_seeds_differ(tiny_trained):
    trained, _ = tiny_trained
    assert sample_prior(trained, 8, seed=1, **ALL) != sample_prior(trained, 8, seed=2, **ALL)


def test_samples_respect_max_len_and_report_logprob(tiny_trained):
    trained, _ = tiny_trained
    for s in sample_prior(trained, 10, seed=0, temperature=5.0, max_len=4):
        assert s.num_words <= 4
        assert s.logprob <= 0


def test_top_k_of_one_is_greedy(tiny_trained):
    trained, _ = tiny_trained
    greedy = sample_prior(trained, 4, seed=0, strategy="greedy")
    top1 = sample_prior(trained, 4, seed=0, strategy="top-k", top_k=1)
    assert [s.text for s in greedy] == [s.text for s in top1]


def test_sample_near_with_zero_spread_is_the_reconstruction(tiny_trained):
    trained, _ = tiny_trained
    near = sample_near(trained, SENTENCES[0], 3, spread=0.0, seed=0, strategy="greedy")
    assert {s.text for s in near} == {plain(SENTENCES[0])}


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_interpolation_endpoints_are_the_inputs(tiny_trained, method):
    trained, _ = tiny_trained
    path = interpolate(trained, SENTENCES[0], SENTENCES[1], steps=6, method=method)
    assert len(path) == 6
    assert path[0].text == plain(SENTENCES[0])
    assert path[-1].text == plain(SENTENCES[1])


def test_traversal_offsets_run_from_minus_three_to_plus_three_prior_deviations():
    assert traversal_offsets(7) == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    assert traversal_offsets(2) == [-3.0, 3.0]


def test_traverse_gives_a_row_per_dimension_and_reads_the_sentence_back_at_t_zero(tiny_trained):
    trained, _ = tiny_trained
    rows = traverse(trained, SENTENCES[0], [5, 0, 2], steps=5)
    assert [len(row) for row in rows] == [5, 5, 5]
    assert {row[2].text for row in rows} == {plain(SENTENCES[0])}  # t = 0 is mu itself, greedy


def test_traverse_moves_the_code_along_one_dimension_only(tiny_trained, monkeypatch):
    import vae.decode

    trained, _ = tiny_trained
    codes = []
    real_generate = vae.decode.generate
    monkeypatch.setattr(vae.decode, "generate", lambda t, z, **kw: codes.append(z) or real_generate(t, z, **kw))
    traverse(trained, SENTENCES[3], [1, 6], steps=3)
    z = torch.cat(codes).view(2, 3, -1)  # (dims, steps, latent)
    mu = vae.decode.encode_texts(trained, [SENTENCES[3]])[0]
    offsets = torch.tensor([[-3.0], [0.0], [3.0]])
    axis = torch.eye(len(mu))
    torch.testing.assert_close(z[0], mu + offsets * axis[1])  # every other coordinate stays at mu
    torch.testing.assert_close(z[1], mu + offsets * axis[6])


def test_traverse_decodes_more_codes_than_one_call_takes(tiny_trained, monkeypatch):
    import vae.decode

    trained, _ = tiny_trained
    def texts(rows):
        return [[sample.text for sample in row] for row in rows]

    whole = traverse(trained, SENTENCES[1], [0, 1, 2], steps=7)
    monkeypatch.setattr(vae.decode, "MAX_SAMPLES", 4)  # 21 codes: six calls of generate
    assert texts(traverse(trained, SENTENCES[1], [0, 1, 2], steps=7)) == texts(whole)  # log-probs: up to rounding


def test_slerp_keeps_the_norm_of_equal_norm_endpoints():
    a, b = torch.tensor([3.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 3.0])
    path = interpolation_path(a, b, 7, "spherical")
    torch.testing.assert_close(path.norm(dim=1), torch.full((7,), 3.0))
    assert interpolation_path(a, b, 7, "linear").norm(dim=1)[3] < 2.5  # linear cuts the corner


def test_slerp_of_parallel_vectors_falls_back_to_a_line():
    a = torch.tensor([1.0, 1.0])
    torch.testing.assert_close(slerp(a, 2 * a, 0.5), 1.5 * a)


def test_empty_sentence_is_a_clear_error(tiny_trained):
    trained, _ = tiny_trained
    with pytest.raises(InputError, match="empty"):
        sentence_ids(trained, "   ")


def test_unknown_and_overlong_sentences_get_notices(tiny_trained):
    trained, _ = tiny_trained
    _, notes = sentence_ids(trained, "zebra giraffe")
    assert "vocabulary" in notes[0]
    ids, notes = sentence_ids(trained, "the cat " * 50)
    assert len(ids) == trained.max_len
    assert "first" in notes[0]
    _, notes = sentence_ids(trained, "the zebra sat")
    assert "zebra" in notes[0]


def test_a_notice_names_at_most_ten_unknown_words(tiny_trained):
    trained, _ = tiny_trained
    _, notes = sentence_ids(trained, "the " + " ".join(f"zq{letter}" for letter in "abcdefghijklmno"))
    assert notes[-1] == ("Not in the vocabulary (read as <unk>): zqa, zqb, zqc, zqd, zqe, zqf, zqg, zqh, zqi, zqj "
                         "and 5 more")


def test_beam_search_reads_back_memorised_sentences(tiny_trained):
    trained, _ = tiny_trained
    assert [s.text for s in reconstruct(trained, SENTENCES, strategy="beam")] == [plain(s) for s in SENTENCES]


def test_beam_search_of_width_one_is_greedy(tiny_trained):
    trained, _ = tiny_trained
    greedy = sample_prior(trained, 6, seed=0, strategy="greedy", spread=2.0)
    beam1 = sample_prior(trained, 6, seed=0, strategy="beam", beam_width=1, spread=2.0)
    assert [s.text for s in greedy] == [s.text for s in beam1]
    for a, b in zip(greedy, beam1):
        assert math.isclose(a.logprob, b.logprob, rel_tol=1e-5)


def test_beam_search_reports_the_models_own_log_probability_of_what_it_chose(tiny_trained):
    from vae.data import to_batch

    trained, _ = tiny_trained
    z = 2.0 * torch.randn(6, trained.model.config.latent_size, generator=torch.Generator().manual_seed(1))
    samples = generate(trained, z, strategy="beam", beam_width=4)
    tokens, lengths = to_batch(trained.tokenizer.encode_batch([s.text for s in samples]))
    with torch.no_grad():
        nll = trained.model.reconstruction_nll(tokens, lengths, z)
    torch.testing.assert_close(torch.tensor([s.logprob for s in samples]), -nll, atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_unk_is_never_generated_unless_allowed(tiny_trained, strategy):
    trained, _ = tiny_trained
    z = torch.zeros(3, trained.model.config.latent_size)
    bias = trained.model.out_bias
    saved = bias.detach().clone()  # the fixture is shared: restore it bit for bit
    with torch.no_grad():
        bias[1] += 100.0  # make <unk> overwhelmingly likely
    try:
        assert all("<unk>" not in s.text for s in generate(trained, z, strategy=strategy))
        assert all("<unk>" in s.text for s in generate(trained, z, strategy=strategy, allow_unk=True))
    finally:
        with torch.no_grad():
            bias.copy_(saved)


def test_sampling_follows_the_distribution():
    from vae.decode import pick_next

    logits = torch.log(torch.tensor([[0.7, 0.0, 0.2, 0.1]])).repeat(20_000, 1)
    picks = pick_next(logits, "sample", 1.0, 0, 1.0, torch.Generator().manual_seed(0))
    freq = torch.bincount(picks, minlength=4).float() / len(picks)
    torch.testing.assert_close(freq, torch.tensor([0.7, 0.0, 0.2, 0.1]), atol=0.015, rtol=0)


BAD_CALLS = {  # the cases: each must end in InputError, not a torch error or garbage
    "no samples": lambda t: sample_prior(t, 0),
    "negative samples": lambda t: sample_prior(t, -1),
    "too many samples": lambda t: sample_prior(t, 1_000_000),
    "top-k zero": lambda t: sample_prior(t, 2, strategy="top-k", top_k=0),
    "top-k negative": lambda t: sample_prior(t, 2, strategy="top-k", top_k=-5),
    "temperature NaN": lambda t: sample_prior(t, 2, temperature=math.nan),
    "temperature inf": lambda t: sample_prior(t, 2, temperature=math.inf),
    "top-p NaN": lambda t: sample_prior(t, 2, strategy="top-p", top_p=math.nan),
    "top-p zero": lambda t: sample_prior(t, 2, strategy="top-p", top_p=0.0),
    "spread inf": lambda t: sample_near(t, "the cat", 2, spread=math.inf),
    "a million steps": lambda t: interpolate(t, "the cat", "the dog", steps=1_000_000),
    "one step": lambda t: interpolate(t, "the cat", "the dog", steps=1),
    "unknown method": lambda t: interpolate(t, "the cat", "the dog", method="bogus"),
    "unknown strategy": lambda t: sample_prior(t, 2, strategy="bogus"),
    "beam width zero": lambda t: sample_prior(t, 2, strategy="beam", beam_width=0),
    "beam width past the most": lambda t: sample_prior(t, 2, strategy="beam", beam_width=1_000),
    "negative posterior weight": lambda t: sample_prior(t, 2, strategy="beam", posterior_weight=-0.1),
    "posterior weight NaN": lambda t: sample_prior(t, 2, strategy="beam", posterior_weight=math.nan),
    "a number for a sentence": lambda t: sentence_ids(t, 5),
    "a string for a list": lambda t: reconstruct(t, "the cat"),
    "negative max_len": lambda t: sample_prior(t, 2, max_len=-1),
    "negative seed": lambda t: sample_prior(t, 2, seed=-1),
    "z of the wrong size": lambda t: generate(t, torch.zeros(2, 1)),
    "z with NaN": lambda t: generate(t, torch.full((1, t.model.config.latent_size), math.nan)),
    "traverse a dimension past the last": lambda t: traverse(t, "the cat", [t.model.config.latent_size]),
    "traverse a negative dimension": lambda t: traverse(t, "the cat", [-1]),
    "traverse a fractional dimension": lambda t: traverse(t, "the cat", [1.5]),
    "traverse no dimension": lambda t: traverse(t, "the cat", []),
    "traverse a dimension twice": lambda t: traverse(t, "the cat", [2, 2]),
    "traverse a string of dimensions": lambda t: traverse(t, "the cat", "12"),
    "traverse in one step": lambda t: traverse(t, "the cat", [0], steps=1),
    "traverse in a million steps": lambda t: traverse(t, "the cat", [0], steps=1_000_000),
    "traverse an empty sentence": lambda t: traverse(t, " ", [0]),
}


@pytest.mark.parametrize("call", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_arguments_raise_input_error(tiny_trained, call):
    trained, _ = tiny_trained
    with pytest.raises(InputError):
        call(trained)


def test_a_lone_surrogate_is_read_as_a_space(tiny_trained):
    trained, _ = tiny_trained
    ids, _ = sentence_ids(trained, "the\ud800cat")
    assert ids == sentence_ids(trained, "the cat")[0]


@pytest.mark.parametrize("strategy", ["sample", "beam"])
def test_no_sample_is_ever_empty(tiny_trained, strategy):
    trained, _ = tiny_trained
    saved = trained.model.out_bias.detach().clone()
    with torch.no_grad():
        trained.model.out_bias[EOS_ID] += 100.0  # a decoder that wants to stop at once
    try:
        samples = sample_prior(trained, 20, seed=0, strategy=strategy)
    finally:
        with torch.no_grad():
            trained.model.out_bias.copy_(saved)  # the shared model, restored bit for bit
    assert all(s.num_words >= 1 for s in samples)


def test_a_card_that_names_beam_search_decodes_every_given_code_with_it(tiny_trained, monkeypatch):
    """Reading back, paths, walks and arithmetic follow the card's code_decoding; a caller's own
    strategy wins; a card without it (or with a bad one) keeps greedy decoding."""
    import dataclasses

    import vae.decode as decode
    from vae.decode import arithmetic, code_decoding

    trained, _ = tiny_trained
    beamed = dataclasses.replace(trained, card={**trained.card, "code_decoding": {"strategy": "beam", "beam_width": 3}})
    seen = []
    real_generate = decode.generate
    monkeypatch.setattr(decode, "generate", lambda *a, **kw: seen.append(kw) or real_generate(*a, **kw))
    a, b = SENTENCES[:2]
    for call in (lambda t: reconstruct(t, [a]), lambda t: interpolate(t, a, b, 3),
                 lambda t: traverse(t, a, [0], 3), lambda t: arithmetic(t, a, b, a)):
        seen.clear()
        call(beamed)
        assert seen and all(kw["strategy"] == "beam" and kw["beam_width"] == 3 for kw in seen)
        seen.clear()
        call(trained)
        assert seen and all(kw["strategy"] == "greedy" for kw in seen)
    seen.clear()
    interpolate(beamed, a, b, 3, strategy="greedy")
    assert seen[0]["strategy"] == "greedy"
    for bad in ({"strategy": "beam", "beam_width": 0}, {"strategy": "sample"}, "beam", None):
        assert code_decoding({"code_decoding": bad}) == {"strategy": "greedy"}
    # a bad weight alone falls back to the plain beam
    for bad_weight in (-1, True, "0.1", math.nan, 100.0):
        beam = {"strategy": "beam", "beam_width": 3, "posterior_weight": bad_weight}
        assert code_decoding({"code_decoding": beam}) == {"strategy": "beam", "beam_width": 3, "posterior_weight": 0.0}


def test_a_typed_sentences_own_code_is_read_back_as_the_card_says_and_the_rest_as_code_decoding(tiny_trained):
    """read_back_decoding serves reading back and the two ends of a path (the sentences' own codes, so
    the pages show one read-back for each); every other code of a path, and a walk, follow code_decoding."""
    import dataclasses

    from vae.decode import read_back_decoding

    trained, _ = tiny_trained
    beam = {"strategy": "beam", "beam_width": 6}
    weighed = dataclasses.replace(trained, card={**trained.card, "code_decoding": beam,
                                                 "read_back_decoding": {**beam, "posterior_weight": 10.0}})
    assert read_back_decoding(weighed.card) == {**beam, "posterior_weight": 10.0}
    assert read_back_decoding(trained.card) == {"strategy": "greedy"}  # none: as code_decoding
    a, b = SENTENCES[0], SENTENCES[3]
    own = [s.text for s in reconstruct(weighed, [a, b])]
    assert own == [s.text for s in reconstruct(trained, [a, b], strategy="beam", beam_width=6, posterior_weight=10.0)]
    for method in ("spherical", "linear"):
        path = interpolate(weighed, a, b, 5, method)
        assert [path[0].text, path[-1].text] == own
    plain_path = interpolate(weighed, a, b, 5, posterior_weight=0.0)  # the caller's own weight wins, ends too
    plain_ends = [s.text for s in reconstruct(weighed, [a, b], posterior_weight=0.0)]
    assert [plain_path[0].text, plain_path[-1].text] == plain_ends
    assert [s.text for s in path[1:-1]] == [s.text for s in plain_path[1:-1]]
    walk = traverse(weighed, a, [0, 1], 5)  # t = 0 in the middle of five steps: mu, as code_decoding writes it
    as_walked = decode_codes(weighed, encode_texts(weighed, [a]))[0].text
    assert all(row[2].text == as_walked for row in walk) and walk_origin(weighed, a) == as_walked


def test_a_beams_candidates_are_encoded_as_typed_sentences_are(tiny_trained):
    """own_code_log_density reads beam_search's rows (<eos>, then <eos> to the end) as encode_ids reads the
    same sentences (<eos>, then <pad>), for sentences of different lengths."""
    from vae.decode import encode_ids, own_code_log_density
    from vae.model import gaussian_log_density

    trained, _ = tiny_trained
    ids = [trained.tokenizer.encode(text) for text in SENTENCES[:6]]
    width = max(map(len, ids)) + 3
    rows = torch.tensor([sentence + [EOS_ID] * (width - len(sentence)) for sentence in ids])
    lengths = torch.tensor([len(sentence) + 1 for sentence in ids], dtype=torch.float)  # as the beam counts them
    z = torch.randn(len(ids), trained.model.config.latent_size, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        mu, logvar = encode_ids(trained, ids)
        torch.testing.assert_close(own_code_log_density(trained.model, z, rows, lengths),
                                   gaussian_log_density(z, mu, logvar))


def test_the_pages_say_how_a_model_decodes_a_code():
    from ui.common import decoded_how

    beam = {"code_decoding": {"strategy": "beam", "beam_width": 5}}
    assert decoded_how(beam) == "with a beam of 5" and decoded_how({}) == "greedily"
    assert "likeliest word" in decoded_how({}, explain=True) and "whole sentence" in decoded_how(beam, explain=True)
    weighed = {"code_decoding": {"strategy": "beam", "beam_width": 5},
               "read_back_decoding": {"strategy": "beam", "beam_width": 10, "posterior_weight": 0.1}}
    assert decoded_how(weighed) == "with a beam of 5"
    assert decoded_how(weighed, read_back=True) == "with a beam of 10 and the encoder's check"
    assert "its own code near it" in decoded_how(weighed, explain=True, read_back=True)


def test_beam_search_keeps_an_lstms_pair_of_states_row_for_row():
    """Two layers of LSTM: the state is a pair, reordered and refilled row by row as beginnings end."""
    from vae.train import new_model

    trained = new_model(SENTENCES, dict(embed_size=8, hidden_size=16, latent_size=4, rnn_type="lstm", num_layers=2),
                        min_freq=1, max_len=8, seed=3)
    trained.model.eval()
    z = 3.0 * torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    greedy = generate(trained, z, strategy="greedy")
    beam1 = generate(trained, z, strategy="beam", beam_width=1)
    assert [s.text for s in greedy] == [s.text for s in beam1]
    wide = generate(trained, z, strategy="beam", beam_width=4)
    assert all(s.num_words >= 1 and math.isfinite(s.logprob) for s in wide)


def test_a_beam_over_many_codes_runs_in_chunks_with_the_same_sentences(tiny_trained, monkeypatch):
    import vae.decode as decode

    trained, _ = tiny_trained
    z = 2.0 * torch.randn(7, trained.model.config.latent_size, generator=torch.Generator().manual_seed(5))
    whole = generate(trained, z, strategy="beam", beam_width=3)
    monkeypatch.setattr(decode, "BEAM_ROWS", 6)  # two codes of three beginnings at a time
    chunked = generate(trained, z, strategy="beam", beam_width=3)
    assert [s.text for s in chunked] == [s.text for s in whole]
    torch.testing.assert_close(torch.tensor([s.logprob for s in chunked]), torch.tensor([s.logprob for s in whole]))


@pytest.mark.parametrize("bad, kept", [({"strategy": "beam", "beam_width": 50}, "beam"),
                                       ({"strategy": "beam", "beam_width": True}, "beam"),
                                       ({"strategy": "bogus", "beam_width": 3}, "greedy")])
def test_a_cards_bad_sample_decoding_falls_back_to_the_defaults(tiny_trained, bad, kept):
    import dataclasses

    from vae.decode import default_sample_settings

    trained, _ = tiny_trained
    settings = default_sample_settings(dataclasses.replace(trained, card={"sample_defaults": bad}))
    width = bad["beam_width"] if bad["strategy"] == "bogus" else 5  # each bad value alone goes back to its default
    assert (settings["strategy"], settings["beam_width"]) == (kept, width)


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_a_vocabulary_built_before_source_names_were_left_out_never_writes_them(monkeypatch, strategy):
    import re

    from vae import tokenizer
    from vae.train import new_model

    # as the shipped models' vocabularies were built: with the word in them
    monkeypatch.setattr(tokenizer, "LEFT_OUT_PATTERN", re.compile("(?!)"))
    trained = new_model(["Tatoeba is a website .", "the cat sat ."], dict(embed_size=8, hidden_size=16, latent_size=4),
                        min_freq=1, max_len=8, seed=0)
    word = trained.tokenizer.never_written
    assert len(word) == 1 and trained.tokenizer.tokens(word) == ["tatoeba"]
    with torch.no_grad():
        trained.model.out_bias[word[0]] += 100.0  # the likeliest word by far
    samples = generate(trained, torch.zeros(3, 4), strategy=strategy, generator=torch.Generator().manual_seed(0))
    assert all("tatoeba" not in s.text.lower() for s in samples)
    assert all(s.text for s in samples)  # nor <pad> or <bos>, which an untrained model may prefer next


def own_code_fit(trained, z, samples):
    """log q(z|x) of each code under the posterior of the sentence written for it."""
    from vae.decode import encode_ids
    from vae.model import gaussian_log_density

    mu, logvar = encode_ids(trained, [trained.tokenizer.encode(s.text) for s in samples])
    return gaussian_log_density(z, mu, logvar)


def test_a_posterior_weight_makes_the_beam_keep_a_sentence_whose_own_code_fits_better(tiny_trained):
    """Among the beam's ended sentences the weighed choice trades log p(x|z) per word for log q(z|x):
    with a large weight, each code's sentence fits it at least as well as the plain beam's, and the
    likelihood per word it gives up is the price (never the other way round)."""
    trained, _ = tiny_trained
    z = 2.0 * torch.randn(40, trained.model.config.latent_size, generator=torch.Generator().manual_seed(11))
    plain = generate(trained, z, strategy="beam", beam_width=6)
    assert [s.text for s in generate(trained, z, strategy="beam", beam_width=6, posterior_weight=0.0)] == \
        [s.text for s in plain]
    weighed = generate(trained, z, strategy="beam", beam_width=6, posterior_weight=10.0)
    fit_plain, fit_weighed = own_code_fit(trained, z, plain), own_code_fit(trained, z, weighed)
    changed = [i for i, (a, b) in enumerate(zip(plain, weighed)) if a.text != b.text]
    assert changed, "the weight changed no choice: the test would show nothing"
    for i in changed:
        assert fit_weighed[i] > fit_plain[i] - 1e-4
        per_word = [s.logprob / (s.num_words + 1) for s in (plain[i], weighed[i])]  # + 1: <eos>
        assert per_word[1] <= per_word[0] + 1e-4
