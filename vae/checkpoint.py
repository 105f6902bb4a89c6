"""Checkpoints: a folder with plain, non-executable files.

    model.safetensors   weights (safetensors: loading cannot run code, unlike a pickled .pt)
    config.json         ModelConfig and max_len
    tokenizer.json      the vocabulary (Hugging Face tokenizers format)
    card.json           the model card: data, training command, steps, measured metrics
    density.safetensors optional: a Gaussian mixture fitted to the training codes (vae/density.py)
"""

import io
import json
import zipfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from safetensors.torch import load_model as load_weights
from safetensors.torch import save_model as save_weights

from .model import ModelConfig, SentenceVAE
from .tokenizer import WordTokenizer

FORMAT = "text-vae/1"
FILES = ("model.safetensors", "config.json", "tokenizer.json", "card.json")
DENSITY_FILE = "density.safetensors"


class CheckpointError(ValueError):
    """A path that is not a usable checkpoint, with a message saying why."""


@dataclass
class TrainedModel:
    """What every page, command and test works with: the network, its vocabulary, its card."""

    model: SentenceVAE
    tokenizer: WordTokenizer
    max_len: int = 30  # longest sentence, in words, that is encoded or generated
    card: dict = field(default_factory=dict)
    density: dict | None = None  # tensors of a Gaussian mixture over training codes, if one was fitted

    @property
    def device(self):
        return self.model.device


def pick_device(device=None):
    """The given device, else CUDA, then Apple's MPS, then the CPU."""
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def save_checkpoint(trained: TrainedModel, path):
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    save_weights(trained.model, str(path / "model.safetensors"))
    config = {"format": FORMAT, "model": asdict(trained.model.config), "max_len": trained.max_len}
    (path / "config.json").write_text(json.dumps(config, indent=2))
    trained.tokenizer.save(path / "tokenizer.json")
    save_card(path, trained.card)
    if trained.density is not None:
        save_file({k: v.contiguous() for k, v in trained.density.items()}, str(path / DENSITY_FILE))


def save_card(path, card: dict):
    (Path(path) / "card.json").write_text(json.dumps(card, indent=2))


def load_model(path, device=None) -> TrainedModel:
    """Load a checkpoint folder onto `device` (default: see pick_device), in eval mode."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path}: not a checkpoint folder")
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise CheckpointError(f"{path}: not a checkpoint, missing {', '.join(missing)}")
    try:
        config = json.loads((path / "config.json").read_text())
        card = json.loads((path / "card.json").read_text())
        if config.get("format") != FORMAT:
            raise CheckpointError(f"{path}: config.json is not a {FORMAT} config")
        known = {f.name for f in fields(ModelConfig)}
        model = SentenceVAE(ModelConfig(**{k: v for k, v in config["model"].items() if k in known}))
        load_weights(model, str(path / "model.safetensors"))
        tokenizer = WordTokenizer.load(path / "tokenizer.json")
        density = load_file(str(path / DENSITY_FILE)) if (path / DENSITY_FILE).is_file() else None
        if density is not None and density["means"].shape[1] != model.config.latent_size:
            raise CheckpointError(f"{path}: {DENSITY_FILE} does not fit the latent size")
    except CheckpointError:
        raise
    except Exception as e:
        # bad JSON, a config that does not fit the weights, a corrupt safetensors or tokenizer file
        raise CheckpointError(f"{path}: not a valid checkpoint ({type(e).__name__}: {e})") from None
    if len(tokenizer) != model.config.vocab_size:
        raise CheckpointError(f"{path}: tokenizer has {len(tokenizer)} words, model expects {model.config.vocab_size}")
    model.to(pick_device(device)).eval()
    return TrainedModel(model, tokenizer, config.get("max_len", 30), card, density)


def checkpoint_zip(path) -> bytes:
    """The checkpoint folder as zip bytes (for a download button)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in FILES + (DENSITY_FILE,):
            if (Path(path) / name).is_file():
                zf.write(Path(path) / name, name)
    return buffer.getvalue()
