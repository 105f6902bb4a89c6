"""Word-level vocabulary: text <-> token ids.

A thin wrapper over Hugging Face `tokenizers` (WordLevel model). The library gives us a fast Rust
encoder, batch encoding and a single `tokenizer.json` file that is saved next to the weights, so
we only write the parts that are specific to this project: the special tokens, truncation, and
turning ids back into readable text.
"""

import re

from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = [PAD, UNK, BOS, EOS]
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3

# words (with one inner apostrophe, so "don't" stays one word) or single punctuation marks
WORD_PATTERN = r"<unk>|\w+(?:'\w+)?|[^\w\s]"
# lone surrogates ("a\ud800b") are not text: Rust's tokenizer refuses them with a TypeError
SURROGATES = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """`text` with every lone surrogate turned into a space (one for one, so offsets still match)."""
    return SURROGATES.sub(" ", text)


class WordTokenizer:
    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        # the special ids are fixed by their order in SPECIALS; check instead of trusting a file
        for token, expected in zip(SPECIALS, (PAD_ID, UNK_ID, BOS_ID, EOS_ID)):
            if tokenizer.token_to_id(token) != expected:
                raise ValueError(f"tokenizer file does not have {token} at id {expected}")
        self.id_to_word = [tokenizer.id_to_token(i) for i in range(tokenizer.get_vocab_size())]

    # constructors

    @classmethod
    def train(cls, sentences, max_size=10_000, min_freq=2, whitespace_only=False):
        """Build the vocabulary from an iterable of sentences: the `max_size` most frequent words
        that occur at least `min_freq` times (specials included in the size).
        `whitespace_only` keeps text that is already tokenised (e.g. Penn Treebank) as it is."""
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
        # shift the special ids, so it is left out of the counts
        tokenizer.train_from_iterator((clean(s).replace(UNK, " ") for s in sentences), trainer)
        return cls(tokenizer)

    @classmethod
    def load(cls, path):
        return cls(Tokenizer.from_file(str(path)))

    def save(self, path):
        self.tokenizer.save(str(path))

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
        return detokenize(self.tokens(ids))

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
