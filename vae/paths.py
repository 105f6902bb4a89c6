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


def shipped_models() -> list[Path]:
    """The models a user can choose between, the default first: $TEXT_VAE_MODEL alone if set, else
    assets/model and every other shipped model, assets/model_<name> (for example a second model
    that trades walkable samples for read-back)."""
    if os.environ.get("TEXT_VAE_MODEL"):
        return [default_model()]
    others = sorted(p for p in SHIPPED_MODEL.parent.glob("model_*") if (p / "config.json").is_file())
    return [SHIPPED_MODEL, *others]


def model_name(folder: Path) -> str:
    """What a shipped model is called in the app: the part after "model_", "default" for assets/model."""
    return folder.name.removeprefix("model_") if folder.name.startswith("model_") else "default"
