import json

import pytest
import torch
from conftest import SENTENCES

from vae.checkpoint import CheckpointError, checkpoint_zip, load_model, save_checkpoint
from vae.data import to_batch
from vae.train import Trainer


def test_save_then_load_gives_identical_outputs(tiny_trained, tmp_path):
    trained, _ = tiny_trained
    save_checkpoint(trained, tmp_path)
    loaded = load_model(tmp_path, device="cpu")
    tokens, lengths = to_batch(trained.tokenizer.encode_batch(SENTENCES[:4]))
    z = torch.randn(4, trained.model.config.latent_size)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model.reconstruction_nll(tokens, lengths, z),
                                   trained.model.reconstruction_nll(tokens, lengths, z))
    assert loaded.model.config == trained.model.config
    assert loaded.card == trained.card


def test_a_folder_without_checkpoint_files_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="missing"):
        load_model(tmp_path)


def test_a_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_model(tmp_path / "nope")


def test_corrupt_weights_are_a_clear_error(tiny_model_dir, tmp_path):
    for name in ("config.json", "tokenizer.json", "card.json"):
        (tmp_path / name).write_bytes((tiny_model_dir / name).read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"\x80\x04 this is a pickle, not safetensors")
    with pytest.raises(CheckpointError, match="not a valid checkpoint"):
        load_model(tmp_path)


def test_config_that_does_not_fit_the_weights_is_a_clear_error(tiny_model_dir, tmp_path):
    for name in ("model.safetensors", "tokenizer.json", "card.json"):
        (tmp_path / name).write_bytes((tiny_model_dir / name).read_bytes())
    config = json.loads((tiny_model_dir / "config.json").read_text())
    config["model"]["hidden_size"] += 1
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="not a valid checkpoint"):
        load_model(tmp_path)


def test_zip_holds_the_checkpoint_files(tiny_model_dir):
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(checkpoint_zip(tiny_model_dir))).namelist()
    assert set(names) == {"model.safetensors", "config.json", "tokenizer.json", "card.json"}


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    from conftest import train_tiny

    _, full = train_tiny(steps=20)
    _, half = train_tiny(steps=10)
    half.save(tmp_path)
    resumed = Trainer.resume(tmp_path, SENTENCES, device="cpu")
    assert resumed.step == 10
    resumed.config.steps = 20
    resumed.run()
    assert resumed.step == 20
    for p, q in zip(full.model.parameters(), resumed.model.parameters()):
        torch.testing.assert_close(p, q)
