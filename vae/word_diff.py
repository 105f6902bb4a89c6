"""Which words changed between two sentences (for the interpolation page's highlighting)."""

import difflib


def changed_words(before: str, after: str):
    """The words of `after`, each paired with True if it is new or different compared with
    `before`. Words are aligned with difflib, so an inserted word does not mark the rest; case does not
    count ("the" that starts a sentence becomes "The": vae/casing.py)."""
    old, new = before.split(), after.split()
    changed = [True] * len(new)
    matcher = difflib.SequenceMatcher(a=[w.lower() for w in old], b=[w.lower() for w in new], autojunk=False)
    for block in matcher.get_matching_blocks():
        for j in range(block.b, block.b + block.size):
            changed[j] = False
    return list(zip(new, changed))
