from vae.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, WordTokenizer, detokenize

CORPUS = ["The cat sat on the mat.", "The dog didn't sit, it ran!", "A cat and a dog."]


def make_tokenizer():
    return WordTokenizer.train(CORPUS, max_size=100, min_freq=1)


def test_round_trip_lowercases_the_words_and_keeps_punctuation():
    tok = make_tokenizer()
    assert tok.tokens(tok.encode("The cat sat on the mat.")) == ["the", "cat", "sat", "on", "the", "mat", "."]
    assert tok.decode(tok.encode("The cat sat on the mat.")) == "The cat sat on the mat."  # vae/casing.py


def test_contractions_stay_one_word():
    tok = make_tokenizer()
    assert tok.tokens(tok.encode("didn't")) == ["didn't"]


def test_unknown_words_become_unk():
    tok = make_tokenizer()
    ids = tok.encode("the zebra sat")
    assert ids[1] == UNK_ID
    assert tok.decode(ids) == "The <unk> sat"
    assert tok.unknown_words("The Zebra and a giraffe") == ["Zebra", "giraffe"]


def test_empty_input_gives_no_ids():
    tok = make_tokenizer()
    assert tok.encode("") == []
    assert tok.encode("   ") == []
    assert tok.decode([]) == ""


def test_over_long_input_is_truncated():
    tok = make_tokenizer()
    assert len(tok.encode("the cat " * 500, max_len=30)) == 30


def test_special_tokens_have_fixed_ids_and_decoding_stops_at_eos():
    tok = make_tokenizer()
    cat = tok.encode("cat")[0]
    assert tok.decode([BOS_ID, cat, EOS_ID, cat, PAD_ID]) == "Cat"


def test_vocabulary_respects_max_size_and_min_freq():
    tok = WordTokenizer.train(CORPUS, max_size=8, min_freq=1)
    assert len(tok) == 8
    frequent_only = WordTokenizer.train(CORPUS, max_size=100, min_freq=2)
    assert frequent_only.encode("mat") == [UNK_ID]  # seen once
    assert frequent_only.encode("cat") != [UNK_ID]


def test_save_and_load_give_the_same_ids(tmp_path):
    tok = make_tokenizer()
    tok.save(tmp_path / "tokenizer.json")
    again = WordTokenizer.load(tmp_path / "tokenizer.json")
    assert again.encode_batch(CORPUS) == tok.encode_batch(CORPUS)


def test_detokenize_attaches_punctuation():
    assert detokenize(["hello", ",", "world", "(", "again", ")", "!"]) == "hello, world (again)!"


def test_a_new_vocabulary_leaves_out_the_name_of_the_corpus_source():
    tok = WordTokenizer.train(CORPUS + ["I log into Tatoeba weekly.", "Tatoeba is a website."] * 5, min_freq=1)
    assert tok.encode("Tatoeba") == [UNK_ID] and tok.never_written == []
    assert tok.encode("I log into the website weekly.").count(UNK_ID) == 0  # the rest of those sentences counts
