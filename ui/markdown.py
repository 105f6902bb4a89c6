"""Sentences as Markdown: shown as typed (no accidental formatting), with changed words marked."""

import re

from vae.word_diff import changed_words


def escape(text):
    """Markdown-safe: a word like `*` or `[1]` must show as itself."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>$~:])", r"\\\1", text)


def highlighted(text, previous, mark="orange-badge"):
    """The sentence with the words that changed since the previous step marked: orange badges, or
    with mark="orange-background" an orange background, which takes little more room than the word."""
    return " ".join(f":{mark}[{escape(w)}]" if changed else escape(w)
                    for w, changed in changed_words(previous, text))


def shortened(text, words=30):
    """The first `words` words of `text` and "…", or `text` itself when it has no more: a pasted page
    shown in full would push the outcome out of view."""
    parts = text.split()
    return text if len(parts) <= words else " ".join(parts[:words]) + " …"
