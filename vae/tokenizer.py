"""Word-level vocabulary: text <-> token ids.

A thin wrapper over Hugging Face `tokenizers` (WordLevel model). The library gives us a fast Rust
encoder, batch encoding and a single `tokenizer.json` file that is saved next to the weights, so
we only write the parts that are specific to this project: the special tokens, truncation, and
turning ids back into readable text, capitals included (vae/casing.py: the words' forms are learned
with the vocabulary and saved beside tokenizer.json as casing.json).
"""

import json
import os
import re

from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers

from .casing import checked_casing, learn_casing, true_case

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = [PAD, UNK, BOS, EOS]
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3

# The name of the training corpus's source. Tatoeba holds sentences about the site itself ("I log into
# Tatoeba weekly."), and a model that learned the word wrote it where nothing called for it (an input
# of emoji alone read back as "tatoeba you look never full children all."). A new vocabulary leaves
# these words out, so they read as <unk>, and no model writes them (vae/decode.py bans them as it
# bans <unk>): the shipped models' vocabularies were built before this list.
LEFT_OUT = ("tatoeba",)
LEFT_OUT_PATTERN = re.compile(r"\b(?:" + "|".join(LEFT_OUT) + r")\b", re.IGNORECASE)

# words (with one inner apostrophe, so "don't" stays one word) or single punctuation marks
WORD_PATTERN = r"<unk>|\w+(?:'\w+)?|[^\w\s]"
# lone surrogates ("a\ud800b") are not text: Rust's tokenizer refuses them with a TypeError
SURROGATES = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """`text` with every lone surrogate turned into a space (one for one, so offsets still match)."""
    return SURROGATES.sub(" ", text)


class WordTokenizer:
    def __init__(self, tokenizer: Tokenizer, casing=None):
        """`casing`: {word: preferred form} (vae/casing.py), or None for a model saved before casing was
        learned, whose sentences still get their start capitals and "I"."""
        self.tokenizer = tokenizer
        # the special ids are fixed by their order in SPECIALS; check instead of trusting a file
        for token, expected in zip(SPECIALS, (PAD_ID, UNK_ID, BOS_ID, EOS_ID)):
            if tokenizer.token_to_id(token) != expected:
                raise ValueError(f"tokenizer file does not have {token} at id {expected}")
        self.id_to_word = [tokenizer.id_to_token(i) for i in range(tokenizer.get_vocab_size())]
        # ids of LEFT_OUT words in a vocabulary built before they were left out
        self.never_written = [i for i in map(tokenizer.token_to_id, LEFT_OUT) if i is not None]
        self.casing = None if casing is None else checked_casing(tokenizer, casing)

    # constructors

    @classmethod
    def train(cls, sentences, max_size=10_000, min_freq=2, whitespace_only=False):
        """Build the vocabulary from an iterable of sentences: the `max_size` most frequent words
        that occur at least `min_freq` times (specials included in the size), LEFT_OUT words aside.
        `whitespace_only` keeps text that is already tokenised (e.g. Penn Treebank) as it is.
        Each word's preferred form is learned from the same sentences (vae/casing.py)."""
        tokenizer = Tokenizer(models.WordLevel(unk_token=UNK))
        tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
        split = [pre_tokenizers.WhitespaceSplit()]
        if not whitespace_only:
            split.append(pre_tokenizers.Split(Regex(WORD_PATTERN), behavior="isolated"))
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(split)
        trainer = trainers.WordLevelTrainer(
            vocab_size=max_size, min_frequency=min_freq, special_tokens=SPECIALS, show_progress=False
        )
        # a literal "<unk>" in the data (Penn Treebank has many) would be counted as a word and
        # shift the special ids, so it is left out of the counts, as LEFT_OUT words are (a list: the
        # casing reads them again)
        texts = [LEFT_OUT_PATTERN.sub(" ", clean(s).replace(UNK, " ")) for s in sentences]
        tokenizer.train_from_iterator(texts, trainer)
        return cls(tokenizer, learn_casing(tokenizer, texts))

    @classmethod
    def load(cls, path, casing_path=None):
        """The tokenizer saved at `path`, with the casing saved at `casing_path` if that file exists."""
        casing = None
        if casing_path is not None and os.path.isfile(casing_path):
            with open(casing_path, encoding="utf-8") as f:
                casing = json.load(f)
        return cls(Tokenizer.from_file(str(path)), casing)

    def save(self, path):
        self.tokenizer.save(str(path))

    def save_casing(self, path):
        """Write the learned casing as JSON, one word a line (about 29 KB for the shipped model's 1,415)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.casing or {}, f, ensure_ascii=False, indent=0, sort_keys=True)

    # text -> ids -> text

    def __len__(self):
        return len(self.id_to_word)

    def encode(self, text, max_len=None):
        """Token ids of one sentence, without <bos>/<eos>; truncated to `max_len` words."""
        return self.encode_batch([text], max_len)[0]

    def encode_batch(self, texts, max_len=None):
        texts = [clean(text) for text in texts]
        ids = [e.ids for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]
        if max_len is not None:
            ids = [x[:max_len] for x in ids]
        return ids

    def tokens(self, ids):
        """The words of `ids`, dropping <pad>/<bos> and stopping at <eos>; <unk> is kept."""
        words = []
        for i in ids:
            if i == EOS_ID:
                break
            if i not in (PAD_ID, BOS_ID):
                words.append(self.id_to_word[i])
        return words

    def decode(self, ids):
        """Readable text of `ids`, with the capitals people write (vae/casing.py)."""
        return detokenize(true_case(self.tokens(ids), self.casing))

    def unknown_words(self, text):
        """The words of `text` that are not in the vocabulary, as the user typed them."""
        text = clean(text)
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        return [text[start:end] for i, (start, end) in zip(encoding.ids, encoding.offsets) if i == UNK_ID]


def detokenize(words):
    """Join words into readable text: no space before , . ! ? ; : ) and none after (."""
    text = " ".join(words)
    text = re.sub(r" ([,.!?;:)])", r"\1", text)
    return re.sub(r"\( ", "(", text)
