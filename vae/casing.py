"""True-casing: the vocabulary is lower case, sentences as people write them are not.

The tokenizer lowercases every word, so a decoded sentence comes out as "tom went to london." This
module gives it back its capitals the simplest way, a unigram true-caser (the baseline of Lita et al.
2003, "tRuEcasIng", ACL) and the rules of written English:

- each vocabulary word in the form it most often has in the training sentences, counted only where
  it does not start a sentence (there "The" is capitalised by the rule below, not by the word);
- a capital at the start of a sentence, and after . ! ? inside one;
- "i" and its contractions as "I", "I'm", "I'll", "I've", "I'd", also for a model with no learned casing.

The learned forms are stored with a checkpoint as casing.json: {"london": "London", ...}, only for
words whose preferred form is not their lower-case one. Casing never changes which word it is: a form
is kept only if the tokenizer's own normaliser turns it back into the word, so read-back and every
comparison of decoded and training text (which encode through the tokenizer) stay case-blind.
"""

import re
import unicodedata
from collections import Counter

SENTENCE_ENDS = set(".!?")
I_WORDS = re.compile(r"i(?:'(?:m|ll|ve|d))?")  # "i", "i'm", "i'll", "i've", "i'd"


def sentence_starts(words):
    """For each word of `words`, whether it starts a sentence: the first word with a letter or digit,
    and the first one after . ! ? (quotes and brackets in between do not count)."""
    starts, start = [], True
    for word in words:
        is_word = word.isalnum() or any(c.isalnum() for c in word)  # the first test is the quick common case
        starts.append(start and is_word)
        if is_word:
            start = False
        elif word and set(word) <= SENTENCE_ENDS:
            start = True
    return starts


def learn_casing(tokenizer, texts) -> dict:
    """{word: preferred form} for the words of a Hugging Face `tokenizer` whose most frequent form in
    `texts`, away from a sentence's start, is not all lower case (ties go to lower case).
    The words are split by the tokenizer's own pre-tokenizer, before lowercasing: 12 s for the
    466,000 sentences of assets/corpora/train.txt.gz on a busy core, where reading the forms off the
    tokenizer's encodings took 21 s."""
    split = tokenizer.pre_tokenizer.pre_tokenize_str  # -> [(word, (start, end)), ...]
    counts = Counter()  # each form's uses away from a sentence's start
    for text in texts:
        words = [word for word, _ in split(unicodedata.normalize("NFKC", text))]  # NFKC: the first normaliser
        counts.update(word for word, starts in zip(words, sentence_starts(words)) if not starts)
    totals, capitals, best = Counter(), Counter(), {}
    for form, count in counts.items():
        word = form.lower()
        totals[word] += count
        if form != word:
            capitals[word] += count
            if count > best.get(word, ("", 0))[1]:
                best[word] = (form, count)
    casing = {word: form for word, (form, count) in best.items() if count > totals[word] - capitals[word]}
    return checked_casing(tokenizer, casing)


def checked_casing(tokenizer, casing) -> dict:
    """The entries of `casing` that are a vocabulary word and a form the tokenizer turns back into it
    (a hand-edited casing.json cannot change which word a sentence says)."""
    if not isinstance(casing, dict):
        raise ValueError(f"casing must map words to their forms, not be a {type(casing).__name__}")
    normalize = tokenizer.normalizer.normalize_str if tokenizer.normalizer is not None else str
    vocabulary = tokenizer.get_vocab()
    return {word: form for word, form in casing.items()
            if isinstance(word, str) and isinstance(form, str) and word in vocabulary and normalize(form) == word}


def true_case(words, casing=None):
    """`words` (lower-case tokens) in their preferred forms, with the capitals of sentence starts and "I"."""
    casing = casing or {}
    cased = []
    for word, starts in zip(words, sentence_starts(words)):
        word = casing.get(word, word)
        if I_WORDS.fullmatch(word) or starts:
            word = capitalised(word)
        cased.append(word)
    return cased


def capitalised(word):
    """`word` with a capital first letter, if that capital lowercases back to the same letter
    ("ß" would become "SS", and "ı" would come back as "i": both are left as they are)."""
    upper = word[:1].upper()
    return upper + word[1:] if len(upper) == 1 and upper.lower() == word[:1] else word
