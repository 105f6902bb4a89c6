import copy
import json
import os
import shutil
from unittest import mock

import pytest
import torch
from conftest import SENTENCES

from vae import checkpoint
from vae.checkpoint import CheckpointError, checkpoint_zip, load_model, save_checkpoint
from vae.data import to_batch
from vae.train import Trainer


def test_save_then_load_gives_identical_outputs(tiny_trained, tmp_path):
    trained, _ = tiny_trained
    save_checkpoint(trained, tmp_path)
    loaded = load_model(tmp_path, device="cpu")
    tokens, lengths = to_batch(trained.tokenizer.encode_batch(SENTENCES[:4]))
    with torch.no_grad():
        # at the sentences' own codes (a random z made the check depend on the tests run before it)
        z = trained.model.encode(tokens, lengths)[0]
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
    assert set(names) == {"model.safetensors", "config.json", "tokenizer.json", "card.json", "casing.json"}


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


def test_a_compacted_training_state_resumes_and_trains_on_close_to_the_full_one(tmp_path):
    from conftest import train_tiny

    _, full = train_tiny(steps=20)
    _, half = train_tiny(steps=10)
    half.save(tmp_path)
    before = (tmp_path / "optimizer.safetensors").stat().st_size
    checkpoint.compact_training_state(tmp_path)
    assert (tmp_path / "optimizer.safetensors").stat().st_size < 0.6 * before
    resumed = Trainer.resume(tmp_path, SENTENCES, device="cpu")
    assert resumed.step == 10
    assert all(v.dtype == torch.float32 for s in resumed.optimizer.state.values() for v in s.values())
    resumed.config.steps = 20
    resumed.run()
    for p, q in zip(full.model.parameters(), resumed.model.parameters()):
        torch.testing.assert_close(p, q, atol=1e-2, rtol=0)  # near (lr 1e-2 here), not bit for bit


def test_weights_stored_in_int8_load_as_fp32_within_half_a_scale_step(tiny_trained, tmp_path):
    trained, _ = tiny_trained
    save_checkpoint(trained, tmp_path)
    before = (tmp_path / "model.safetensors").stat().st_size
    checkpoint.store_weights_in_int8(tmp_path)
    assert (tmp_path / "model.safetensors").stat().st_size < 0.4 * before
    loaded = load_model(tmp_path, device="cpu")  # the step stamped on the file still matches the config
    for p, q in zip(trained.model.parameters(), loaded.model.parameters()):
        assert q.dtype == torch.float32
        if p.dim() == 2:
            step = p.detach().abs().amax(dim=1, keepdim=True) / 127
            # half a step of the fp16-rounded scale; rows below 127 * 6.1e-5 get fp16's smallest normal scale
            assert ((q - p.detach()).abs() <= 0.5 * (1 + 2**-11) * step * 1.0001 + 3.1e-5).all()
        else:
            torch.testing.assert_close(q, p.detach().half().float(), rtol=0, atol=0)
    tokens, lengths = to_batch(trained.tokenizer.encode_batch(SENTENCES[:4]))
    with torch.no_grad():
        # at the sentences' own codes (a random z made the check depend on the tests run before it)
        z = trained.model.encode(tokens, lengths)[0]
        torch.testing.assert_close(loaded.model.reconstruction_nll(tokens, lengths, z),
                                   trained.model.reconstruction_nll(tokens, lengths, z), rtol=2e-2, atol=2e-2)


def test_int8_weights_saved_again_and_stored_again_come_out_the_same_bytes(tiny_trained, tmp_path):
    trained, _ = tiny_trained
    save_checkpoint(trained, tmp_path / "a")
    checkpoint.store_weights_in_int8(tmp_path / "a")
    save_checkpoint(load_model(tmp_path / "a", device="cpu"), tmp_path / "b")  # as ship_model.py does
    checkpoint.store_weights_in_int8(tmp_path / "b")
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()


def test_weights_already_in_int8_are_refused_and_left_as_they_are(tiny_trained, tmp_path):
    trained, _ = tiny_trained
    save_checkpoint(trained, tmp_path)
    checkpoint.store_weights_in_int8(tmp_path)
    before = (tmp_path / "model.safetensors").read_bytes()
    with pytest.raises(CheckpointError, match="already stored in int8"):
        checkpoint.store_weights_in_int8(tmp_path)
    assert (tmp_path / "model.safetensors").read_bytes() == before


def test_weights_stored_in_fp16_still_load(tiny_trained, tmp_path):
    trained, _ = tiny_trained
    save_checkpoint(trained, tmp_path)  # the shipped model's format until 2026-12-02
    checkpoint.rewrite_tensors(tmp_path, "model.safetensors", lambda tensors: {k: v.half() for k, v in tensors.items()})
    loaded = load_model(tmp_path, device="cpu")
    for p, q in zip(trained.model.parameters(), loaded.model.parameters()):
        assert q.dtype == torch.float32
        torch.testing.assert_close(q, p.detach().half().float(), rtol=0, atol=0)


def test_the_mixture_is_stored_in_fp16_and_loads_as_fp32(tiny_trained, tmp_path):
    trained, _ = tiny_trained
    with_mixture = copy.deepcopy(trained)
    latent = trained.model.config.latent_size
    with_mixture.density = {"weights": torch.full((2,), 0.5), "means": torch.randn(2, latent),
                            "scale_tril": torch.eye(latent).repeat(2, 1, 1)}
    save_checkpoint(with_mixture, tmp_path)
    loaded = load_model(tmp_path, device="cpu")
    for name, value in with_mixture.density.items():
        assert loaded.density[name].dtype == torch.float32
        torch.testing.assert_close(loaded.density[name], value.half().float(), rtol=0, atol=0)


def test_an_int8_matrix_without_its_scale_is_refused_with_a_message(tiny_trained, tmp_path):
    trained, _ = tiny_trained
    save_checkpoint(trained, tmp_path)
    checkpoint.store_weights_in_int8(tmp_path)
    checkpoint.rewrite_tensors(tmp_path, "model.safetensors",
                               lambda tensors: {k: v for k, v in tensors.items() if k != "embedding.weight:scale"})
    with pytest.raises(CheckpointError, match="int8 without its scale"):
        load_model(tmp_path, device="cpu")


def test_a_training_state_without_moments_resumes_at_its_step_with_fresh_ones(tmp_path):
    from conftest import train_tiny

    _, half = train_tiny(steps=10)
    half.save(tmp_path)
    checkpoint.compact_training_state(tmp_path, keep_moments=False)
    resumed = Trainer.resume(tmp_path, SENTENCES, device="cpu")
    assert (resumed.step, resumed.batch_in_epoch) == (half.step, half.batch_in_epoch)
    assert resumed.optimizer.state_dict()["state"] == {}  # Adam starts its moments afresh
    before = [p.detach().clone() for p in resumed.model.parameters()]
    resumed.config.steps = 12
    resumed.run()
    assert resumed.step == 12 and resumed.weights_are_finite()
    assert any(not torch.equal(p, q) for p, q in zip(before, resumed.model.parameters()))


@pytest.mark.parametrize("name, value, message", [
    ("embedding.weight", float("nan"), "NaN or inf"),
    ("embedding.weight", 1e7, "fp16 scale"),  # a row whose scale fp16 cannot hold
    ("out_bias", 1e6, "beyond fp16's range"),  # a vector, stored in fp16
])
def test_weights_int8_cannot_hold_are_refused_and_left_as_they_are(tiny_trained, tmp_path, name, value, message):
    trained, _ = tiny_trained
    bad = copy.deepcopy(trained)
    with torch.no_grad():
        bad.model.state_dict()[name].view(-1)[0] = value
    save_checkpoint(bad, tmp_path)
    before = (tmp_path / "model.safetensors").read_bytes()
    with pytest.raises(CheckpointError, match=message):
        checkpoint.store_weights_in_int8(tmp_path)
    assert (tmp_path / "model.safetensors").read_bytes() == before


# atomic saves


def test_a_save_cut_short_before_its_set_was_complete_is_thrown_away(tiny_trained, tmp_path, monkeypatch):
    trained, _ = tiny_trained
    save_checkpoint(trained, tmp_path)
    before = (tmp_path / "model.safetensors").read_bytes()
    monkeypatch.setattr(checkpoint, "_fsync", lambda path: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        save_checkpoint(trained, tmp_path)  # dies while writing the staged files
    monkeypatch.undo()
    assert (tmp_path / checkpoint.STAGING).is_dir()
    load_model(tmp_path, "cpu")  # a reader leaves it: it may be another process's save in progress
    assert (tmp_path / "model.safetensors").read_bytes() == before
    save_checkpoint(trained, tmp_path)  # the next save throws it away
    assert not (tmp_path / checkpoint.STAGING).exists()


def test_a_save_cut_short_while_moving_its_files_in_is_finished_by_the_next_load(tmp_path):
    from conftest import train_tiny

    _, trainer = train_tiny(steps=3)
    trainer.save(tmp_path)
    trainer.train_step()
    moved = []

    def replace_then_die(src, dst):  # the kill comes after the first file is moved in
        if moved:
            raise KeyboardInterrupt
        moved.append(dst)
        os.replace(src, dst)

    with mock.patch.object(checkpoint.os, "replace", replace_then_die), pytest.raises(KeyboardInterrupt):
        trainer.save(tmp_path)
    resumed = Trainer.resume(tmp_path, SENTENCES, device="cpu")
    assert resumed.step == 4
    for p, q in zip(resumed.model.parameters(), trainer.model.parameters()):
        assert torch.equal(p, q)


def test_resume_refuses_files_from_different_steps(tmp_path):
    from conftest import train_tiny

    _, trainer = train_tiny(steps=3)
    trainer.save(tmp_path / "a")
    trainer.train_step()
    trainer.save(tmp_path / "b")
    shutil.copy(tmp_path / "a" / "optimizer.safetensors", tmp_path / "b")
    with pytest.raises(CheckpointError, match="different training steps"):
        Trainer.resume(tmp_path / "b", SENTENCES, device="cpu")


def test_sigkills_during_saves_leave_checkpoints_that_resume_bit_exactly(tmp_path):
    """The issue's bar (tests/kill_during_save.py): 0 of 50 SIGKILLs during saves leave a checkpoint
    that fails to load or resumes differently. About 75 s on one CPU core."""
    import kill_during_save

    # the reference must outlast the run: a faster CPU gets further between kills (405 steps on a Xeon
    # with AMX, so 400 were too few there)
    steps, mid_save = kill_during_save.kill_while_saving(kills=50, seed=0, folder=tmp_path, max_wait=0.15,
                                                         reference_steps=1500)
    assert len(steps) == 50 and steps == sorted(steps)
    assert mid_save >= 10  # many kills did land inside a save (24 of 50 when measured)


# config.json and card.json as a user may leave them


BAD_CONFIGS = {
    "max_len -1": ("max_len", -1),
    "max_len as text": ("max_len", "30"),
    "a huge hidden size": ("model.hidden_size", 1_000_000_000),
    "latent size as text": ("model.latent_size", "8"),
    "unknown rnn": ("model.rnn_type", "transformer"),
    "dropout NaN": ("model.dropout", float("nan")),
    "no model settings": ("model", None),
}
BAD_CARDS = {
    "steps as text": {"steps": "many"},
    "a list": ["not", "a", "card"],
    "negative steps": {"steps": -5},
    "metrics as a list": {"test_metrics": [1, 2]},
}


def edited_copy(tiny_model_dir, tmp_path, file, edit):
    folder = tmp_path / "edited"
    shutil.copytree(tiny_model_dir, folder)
    data = json.loads((folder / file).read_text())
    data = edit(data)
    (folder / file).write_text(json.dumps(data))
    return folder


def set_field(config, field, value):
    target = config
    *parents, last = field.split(".")
    for name in parents:
        target = target[name]
    target[last] = value
    return config


@pytest.mark.parametrize("field, value", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_a_config_with_wrong_types_or_ranges_is_a_checkpoint_error(tiny_model_dir, tmp_path, field, value):
    folder = edited_copy(tiny_model_dir, tmp_path, "config.json", lambda c: set_field(c, field, value))
    with pytest.raises(CheckpointError, match="config.json"):
        load_model(folder, "cpu")


@pytest.mark.parametrize("card", BAD_CARDS.values(), ids=BAD_CARDS.keys())
def test_a_card_with_wrong_types_is_a_checkpoint_error(tiny_model_dir, tmp_path, card):
    folder = edited_copy(tiny_model_dir, tmp_path, "card.json", lambda _: card)
    with pytest.raises(CheckpointError, match="card.json"):
        load_model(folder, "cpu")


def test_an_unknown_device_is_a_checkpoint_error(tiny_model_dir):
    with pytest.raises(CheckpointError, match="device"):
        load_model(tiny_model_dir, "bogus")
