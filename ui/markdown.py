"""Sentences as Markdown: shown as typed (no accidental formatting), with changed words marked."""

import re

from vae.word_diff import changed_words


def escape(text):
    """Markdown-safe: a word like `*` or `[1]` must show as itself."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>$~:])", r"\\\1", text)


def highlighted(text, previous):
    """The sentence with the words that changed since the previous step as orange badges."""
    return " ".join(f":orange-badge[{escape(w)}]" if changed else escape(w)
                    for w, changed in changed_words(previous, text))
