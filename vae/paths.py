"""Where the project's files are: the one definition of the repository root, the shipped model and
the shipped corpora. The app, the CLI, the scripts, the benchmarks and the tests all ask here."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "assets" / "corpora"
SHIPPED_MODEL = ROOT / "assets" / "model"
VALID_SPLIT = CORPORA / "valid.txt.gz"  # held-out sentences of the training corpus
EVERYDAY_SENTENCES = ROOT / "tests" / "data" / "everyday_sentences.txt"  # written before the model was trained


def default_model() -> Path:
    """The model to use when none is named: $TEXT_VAE_MODEL if set, else the shipped one."""
    return Path(os.environ.get("TEXT_VAE_MODEL") or SHIPPED_MODEL)
