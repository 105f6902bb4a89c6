"""Checkpoints: a folder with plain, non-executable files.

    model.safetensors   weights (safetensors: loading cannot run code, unlike a pickled .pt)
    config.json         ModelConfig and max_len
    tokenizer.json      the vocabulary (Hugging Face tokenizers format)
    card.json           the model card: data, training command, steps, measured metrics
    density.safetensors optional: a Gaussian mixture fitted to the training codes (vae/density.py)
    casing.json         optional: each word's preferred form, for decoded text (vae/casing.py); a model
                        without it gets only the capitals of sentence starts and "I"

Saving is atomic: every file is written and fsynced in a staging folder inside the checkpoint,
a marker says the set is complete, and only then are the files moved in with os.replace. A save cut
short (a kill, a full disk) is finished by the next load, or thrown away by the next save or resume,
so a checkpoint is always one whole set, never new weights next to an old optimiser state. The weights, config and
card carry the training step, so a set mixed by hand is refused too.
"""

import io
import json
import math
import os
import shutil
import zipfile
from dataclasses import asdict, fields
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from safetensors.torch import save_model as save_weights

from .model import DeviceError, ModelConfig, SentenceVAE, TrainedModel, pick_device
from .quantize import SCALE_SUFFIX, packed, unpacked
from .tokenizer import WordTokenizer

FORMAT = "text-vae/1"
FILES = ("model.safetensors", "config.json", "tokenizer.json", "card.json")
DENSITY_FILE = "density.safetensors"
CASING_FILE = "casing.json"
STAGING = ".saving"  # a save in progress; moved in once STAGED marks it complete
STAGED = "COMPLETE"
MAX_LEN = 500  # longest sentence a checkpoint may ask for, in words
MAX_PARAMETERS = 500_000_000  # a config asking for more is a typo, not a model (2 GB of fp32 weights)


class CheckpointError(ValueError):
    """A path that is not a usable checkpoint, with a message saying why."""


def save_checkpoint(trained: TrainedModel, path, extra=None):
    """Write the checkpoint atomically (see the module's docstring). `extra` maps more file names to
    functions that write them to a given path (the trainer's optimiser and state); they are part of
    the same all-or-nothing set. The step recorded in the card (if any) is stamped on every file."""
    path = Path(path)
    step = trained.card.get("steps") if isinstance(trained.card.get("steps"), int) else None
    stamp = {"step": str(step)} if step is not None else None
    config = {"format": FORMAT, "model": asdict(trained.model.config), "max_len": trained.max_len, "step": step}
    writers = {
        "model.safetensors": lambda p: save_weights(trained.model, str(p), metadata=stamp),
        "config.json": lambda p: p.write_text(json.dumps(config, indent=2)),
        "tokenizer.json": lambda p: trained.tokenizer.save(p),
        "card.json": lambda p: p.write_text(json.dumps(trained.card, indent=2)),
        **(extra or {}),
    }
    if trained.density is not None:
        # fp16: half the bytes (the repository's size budget); fit_latent_density already rounds to it
        tensors = {k: fp16_or_refused(f"the mixture's {k}", v).contiguous() for k, v in trained.density.items()}
        writers[DENSITY_FILE] = lambda p: save_file(tensors, str(p), metadata=stamp)
    if trained.tokenizer.casing is not None:
        writers[CASING_FILE] = trained.tokenizer.save_casing
    write_atomically(path, writers)


def save_training_state(trained: TrainedModel, path, optimizer_state: dict, rng_state, state: dict):
    """A checkpoint plus what a resumed run needs, in the same atomic set: the optimiser's state
    (Adam's moments) and the random state in optimizer.safetensors, and `state` (step, position in
    the data, configs) with the optimiser's param_groups in trainer_state.json."""
    tensors = {f"{i}.{k}": v.contiguous() for i, s in optimizer_state["state"].items() for k, v in s.items()}
    tensors["torch_rng_state"] = rng_state  # so a resumed run draws the same noise
    state = {**state, "param_groups": optimizer_state["param_groups"]}
    save_checkpoint(trained, path, extra={
        "optimizer.safetensors": lambda p: save_file(tensors, str(p), metadata={"step": str(state["step"])}),
        "trainer_state.json": lambda p: p.write_text(json.dumps(state, indent=2)),
    })


def load_training_state(path, device=None):
    """(TrainedModel, state, optimizer_state, rng_state or None) of a folder written by
    save_training_state. Raises CheckpointError for a folder that is not a whole, resumable set."""
    path = Path(path)
    finish_save(path)  # a save cut short: finished if its set was complete, else thrown away
    trained = load_model(path, device)
    try:
        state = json.loads((path / "trainer_state.json").read_text())
        steps = {"trainer_state.json": state["step"], "model.safetensors": file_step(path / "model.safetensors"),
                 "optimizer.safetensors": file_step(path / "optimizer.safetensors")}
        tensors = load_file(str(path / "optimizer.safetensors"), device=str(trained.device))
        param_groups = state["param_groups"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path}: not a resumable run ({type(e).__name__}: {e})") from None
    # files saved before steps were stamped on them have none, and are taken as they are
    if len({step for step in steps.values() if step is not None}) > 1:
        raise CheckpointError(f"{path}: the files are from different training steps "
                              f"({', '.join(f'{k} {v}' for k, v in steps.items())}); resuming would mix them")
    rng_state = tensors.pop("torch_rng_state", None)
    moments = {}
    for name, value in tensors.items():
        i, key = name.split(".", 1)
        moments.setdefault(int(i), {})[key] = value
    return trained, state, {"state": moments, "param_groups": param_groups}, rng_state


def compact_training_state(path, keep_moments=True):
    """Shrink a saved run for a repository with a size budget on its history.

    keep_moments=True stores Adam's moments in bf16, half their fp32 size. A resume continues the run,
    no longer bit for bit: `Optimizer.load_state_dict` casts the moments back to the parameters' dtype,
    and bf16 keeps fp32's exponent range but only 8 of its 24 significant bits (a relative error
    of about 0.4%).
    keep_moments=False drops them, keeping the random state: a resume keeps the step, the position in
    the data and the objective, and Adam starts its moments afresh (its first steps are then about
    lr in size for every weight, as at the start of training)."""
    moments = (".exp_avg", ".exp_avg_sq", ".step")

    def compact(tensors):
        if keep_moments:
            return {name: value.to(torch.bfloat16) if name.endswith(moments[:2]) else value
                    for name, value in tensors.items()}
        return {name: value for name, value in tensors.items() if not name.endswith(moments)}

    rewrite_tensors(path, "optimizer.safetensors", compact)


def store_weights_in_int8(path):
    """Rewrite a checkpoint's fp32 weights for the shipped model (the repository's size budget): every
    matrix as int8 rows with one fp16 scale each (vae/quantize.py), stored under its name and
    name + SCALE_SUFFIX; vectors (biases) in fp16. About a quarter of fp32's bytes: 6.4 MB for the
    shipped model's 6.4M weights, where fp16 took 12.7 MB. Loading (read_weights) multiplies the
    values back, so the model computes in fp32 on weights within half a scale step of the trained ones.
    Measured on the 28,000-step Tatoeba model against its fp16 weights, on the everyday list and 1,500
    test sentences: 1,142 of 1,572 read back where fp16 read back 1,146, and 1,525 decoded the same
    sentence. Weights that hold NaN or inf, or that fp16 cannot hold, and weights already stored in
    int8 are refused and left as they are."""
    def shrink(tensors):
        if any(name.endswith(SCALE_SUFFIX) for name in tensors):
            raise CheckpointError(f"{path}: the weights are already stored in int8; left as they are")
        stored = {}
        for name, value in tensors.items():
            try:
                if value.dtype.is_floating_point and value.dim() == 2:
                    stored.update(packed(name, value))
                elif value.dtype.is_floating_point:
                    stored[name] = fp16_or_refused(name, value)
                else:
                    stored[name] = value
            except ValueError as e:
                raise CheckpointError(f"{path}: {name}: {e}; the weights are left as they are") from None
        return stored

    rewrite_tensors(path, "model.safetensors", shrink)


def fp16_or_refused(name, value):
    """value in fp16; ValueError for NaN, inf or a value beyond fp16's range (65,504)."""
    half = value.half()
    if not half.isfinite().all():
        raise ValueError(f"{name} holds NaN or inf, or values beyond fp16's range")
    return half


def read_weights(file) -> dict:
    """A model.safetensors as tensors by parameter name, for Module.load_state_dict (which casts fp16
    into the fp32 parameters): int8 matrices (store_weights_in_int8) multiplied back by their scales."""
    tensors = load_file(str(file))
    try:
        return {name: unpacked(tensors, name) for name in tensors if not name.endswith(SCALE_SUFFIX)}
    except ValueError as e:
        raise CheckpointError(f"{file}: {e}") from None


def rewrite_tensors(path, name, transform):
    """Replace the safetensors file `name` of a checkpoint by transform(its tensors), keeping its
    metadata (the step stamp), atomically like every save."""
    path = Path(path)
    finish_save(path)
    file = path / name
    with safe_open(str(file), framework="pt") as f:
        metadata = f.metadata()
    tensors = transform(load_file(str(file)))
    write_atomically(path, {name: lambda p: save_file(tensors, str(p), metadata=metadata)})


def save_card(path, card: dict):
    write_atomically(Path(path), {"card.json": lambda p: p.write_text(json.dumps(card, indent=2))})


def write_atomically(path: Path, writers: dict):
    """Write {name: write(file path)} into the folder `path` as one set: all of them or none."""
    path.mkdir(parents=True, exist_ok=True)
    finish_save(path)  # an older save cut short goes first
    staging = path / STAGING
    staging.mkdir()
    for name, write in writers.items():
        write(staging / name)
        _fsync(staging / name)
    (staging / STAGED).write_text("every file of this save is written\n")
    _fsync(staging / STAGED)
    _fsync(staging)
    finish_save(path)


def finish_save(path, discard_incomplete=True):
    """Complete a save that was cut short after its set was written, or discard one cut short before.
    Safe to repeat: a kill while it runs leaves work that the next call finishes. A reader passes
    discard_incomplete=False: an incomplete set may be a save still being written by another process."""
    staging = Path(path) / STAGING
    if not staging.is_dir():
        return
    if (staging / STAGED).is_file():
        for file in sorted(staging.iterdir()):
            if file.name != STAGED:
                try:
                    os.replace(file, Path(path) / file.name)
                except FileNotFoundError:  # the saving process moved it in meanwhile
                    pass
        _fsync(Path(path))
    elif not discard_incomplete:
        return
    shutil.rmtree(staging, ignore_errors=True)


def _fsync(path: Path):
    """Make a file's bytes, or a folder's entries, durable before anything depends on them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_step(path):
    """The training step stamped on a .safetensors file, or None if it has none."""
    with safe_open(str(path), framework="pt") as f:
        step = (f.metadata() or {}).get("step")
    return int(step) if step is not None and step.isdigit() else None


def load_model(path, device=None) -> TrainedModel:
    """Load a checkpoint folder onto `device` (default: see pick_device), in eval mode."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path}: not a checkpoint folder")
    try:
        finish_save(path, discard_incomplete=False)
    except OSError as e:  # e.g. a read-only folder
        raise CheckpointError(f"{path}: an interrupted save cannot be finished ({e})") from None
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise CheckpointError(f"{path}: not a checkpoint, missing {', '.join(missing)}")
    try:
        config = json.loads((path / "config.json").read_text())
        card = json.loads((path / "card.json").read_text())
        problem = config_problem(config) or card_problem(card)
        if problem:
            raise CheckpointError(f"{path}: {problem}")
        known = {f.name for f in fields(ModelConfig)}
        model = SentenceVAE(ModelConfig(**{k: v for k, v in config["model"].items() if k in known}))
        if config.get("step") is not None and file_step(path / "model.safetensors") != config["step"]:
            raise CheckpointError(f"{path}: model.safetensors and config.json are from different training "
                                  "steps (files copied together from two saves?)")
        model.load_state_dict(read_weights(path / "model.safetensors"))
        tokenizer = WordTokenizer.load(path / "tokenizer.json", path / CASING_FILE)
        density = ({k: v.float() for k, v in load_file(str(path / DENSITY_FILE)).items()}
                   if (path / DENSITY_FILE).is_file() else None)
        if density is not None and density["means"].shape[1] != model.config.latent_size:
            raise CheckpointError(f"{path}: {DENSITY_FILE} does not fit the latent size")
    except CheckpointError:
        raise
    except Exception as e:
        # bad JSON, a config that does not fit the weights, a corrupt safetensors or tokenizer file
        raise CheckpointError(f"{path}: not a valid checkpoint ({type(e).__name__}: {e})") from None
    if len(tokenizer) != model.config.vocab_size:
        raise CheckpointError(f"{path}: tokenizer has {len(tokenizer)} words, model expects {model.config.vocab_size}")
    try:
        model.to(pick_device(device)).eval()
    except DeviceError as e:
        raise CheckpointError(f"{path}: {e}") from None
    return TrainedModel(model, tokenizer, config.get("max_len", 30), card, density)


# checks of the JSON files: a hand-edited or damaged file gets one sentence, not a crash in a page

MODEL_FIELDS = {  # ModelConfig field -> (type, low, high) for numbers, or the allowed values
    "vocab_size": (int, 5, 2_000_000),
    "embed_size": (int, 1, 65_536),
    "hidden_size": (int, 1, 65_536),
    "latent_size": (int, 1, 4_096),
    "num_layers": (int, 1, 16),
    "dropout": (float, 0.0, 0.99),
    "rnn_type": ("gru", "lstm"),
    "bidirectional": (True, False),
    "autoencoder": (True, False),
    "language_model": (True, False),
    "bag_of_words": (True, False),
    # absent from checkpoints saved before the adaptive softmax: ModelConfig's default, "tied", applies
    # (its cutoffs, a list, are checked by ModelConfig and the layer itself: a bad one is a ValueError)
    "output_layer": ("tied", "adaptive"),
    "adaptive_div_value": (float, 1.0, 1_024.0),
}
CARD_FIELDS = {  # card key -> the JSON types it may hold; other keys are free
    "steps": int, "training_sentences": int, "parameters": int, "vocab_size": int,
    "command": str, "training_corpus": str, "samples_settings": str,
    "test_metrics": dict, "baseline_lm": dict, "objective": dict, "train": dict,
    "samples": (list, dict), "interpolations": list, "bars": dict, "bars_met": dict, "rate_distortion": dict,
}


def config_problem(config) -> str | None:
    """What is wrong with a parsed config.json, in one sentence, or None."""
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        return f"config.json is not a {FORMAT} config"
    model = config.get("model")
    if not isinstance(model, dict) or "vocab_size" not in model:
        return "config.json has no 'model' settings with a vocab_size"
    for name, rule in MODEL_FIELDS.items():
        if name in model and (problem := _field_problem(model[name], rule)):
            return f"config.json: model.{name} {problem}"
    max_len = config.get("max_len", 30)
    if (problem := _field_problem(max_len, (int, 1, MAX_LEN))):
        return f"config.json: max_len {problem}"
    step = config.get("step")
    if step is not None and (problem := _field_problem(step, (int, 0, 10**12))):
        return f"config.json: step {problem}"
    size = estimated_parameters(model)
    if size > MAX_PARAMETERS:
        return f"config.json describes a model of about {size:,} parameters; the limit is {MAX_PARAMETERS:,}"
    return None


def estimated_parameters(model: dict) -> int:
    """A generous upper bound on a config's parameter count, checked before any memory is taken."""
    vocab, embed = model.get("vocab_size", 0), model.get("embed_size", 256)
    hidden, latent, layers = model.get("hidden_size", 256), model.get("latent_size", 32), model.get("num_layers", 1)
    embeddings_and_output = vocab * (2 * embed + 2 * hidden + latent)
    recurrent = 3 * 4 * layers * (embed + latent + 2 * hidden) * hidden  # encoder (2 ways) and decoder, LSTM-sized
    return embeddings_and_output + recurrent + 4 * hidden * latent


def card_problem(card) -> str | None:
    """What is wrong with a parsed card.json, in one sentence, or None."""
    if not isinstance(card, dict):
        return f"card.json must hold a JSON object, not a {type(card).__name__}"
    for key, kinds in CARD_FIELDS.items():
        value = card.get(key)
        if value is None:
            continue
        if not isinstance(value, kinds) or isinstance(value, bool):
            return f"card.json: {key!r} has the wrong type ({type(value).__name__}: {str(value)[:40]!r})"
        if isinstance(value, int) and value < 0:
            return f"card.json: {key!r} must not be negative, not {value}"
    return None


def _field_problem(value, rule) -> str | None:
    if rule and isinstance(rule[0], type):
        kind, low, high = rule
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or (kind is int and not isinstance(value, int)):
            return f"must be {'a whole number' if kind is int else 'a number'}, not {value!r}"
        if not (math.isfinite(value) and low <= value <= high):
            return f"must be from {low:,} to {high:,}, not {value!r}"
        return None
    return None if value in rule and type(value) is type(rule[0]) else f"must be one of {rule}, not {value!r}"


def checkpoint_zip(path) -> bytes:
    """The checkpoint folder as zip bytes (for a download button)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in FILES + (DENSITY_FILE, CASING_FILE):
            if (Path(path) / name).is_file():
                zf.write(Path(path) / name, name)
    return buffer.getvalue()
