"""Precomputed latent maps, fingerprints and the CSV export (vae/latent_map.py)."""

import csv
import io
import runpy
import shutil

import numpy as np
import torch
from conftest import ROOT, SENTENCES
from safetensors.numpy import save_file

from vae.latent_map import bytes_fingerprint, load_map, map_csv, map_path, save_map, stored_codes, weights_fingerprint
from vae.projection import N_EPOCHS


def test_weights_fingerprint_changes_when_any_weight_changes():
    model = torch.nn.Linear(3, 2)
    before = weights_fingerprint(model)
    assert weights_fingerprint(model) == before
    with torch.no_grad():
        model.bias[0] += 1e-6
    assert weights_fingerprint(model) != before


def test_a_saved_map_loads_back_for_the_same_weights_and_corpus(tmp_path):
    mu, xy = np.random.rand(6, 4), np.random.rand(6, 2)
    path = map_path(tmp_path, "assets/corpora/by_author.csv")
    assert path == tmp_path / "maps" / "by_author.safetensors"
    save_map(path, mu, xy, weights="w1", corpus="c1", n_neighbors=15, min_dist=0.1)
    saved = load_map(path, weights="w1", corpus="c1")
    assert saved["mu"].dtype == np.float32  # stored as int8 rows, computed with in fp32
    np.testing.assert_array_equal(saved["mu"], stored_codes(mu))
    assert (np.abs(saved["mu"] - mu) <= np.abs(mu).max(axis=1, keepdims=True) / 254 * 1.001).all()
    np.testing.assert_allclose(saved["umap"], xy, rtol=1e-6)
    assert (saved["n_neighbors"], saved["min_dist"], saved["n_epochs"]) == (15, 0.1, N_EPOCHS)


def test_a_map_saved_with_fp16_codes_before_int8_still_loads(tmp_path):
    path = tmp_path / "x.safetensors"  # what save_map wrote until 2026-12-02
    mu = np.random.rand(3, 4).astype(np.float16)
    save_file({"mu": mu, "umap": np.zeros((3, 2), np.float32)}, str(path),
              metadata={"weights": "w", "corpus": "c", "n_neighbors": "15", "min_dist": "0.1", "n_epochs": "200"})
    saved = load_map(path, weights="w", corpus="c")
    assert saved["mu"].dtype == np.float32
    np.testing.assert_array_equal(saved["mu"], mu.astype(np.float32))


def test_a_map_whose_int8_codes_lost_their_scales_is_computed_live(tmp_path):
    path = tmp_path / "x.safetensors"
    save_file({"mu": np.ones((3, 4), np.int8), "umap": np.zeros((3, 2), np.float32)}, str(path),
              metadata={"weights": "w", "corpus": "c", "n_neighbors": "15", "min_dist": "0.1", "n_epochs": "200"})
    assert load_map(path, weights="w", corpus="c") is None


def test_a_map_saved_before_its_layout_epochs_were_recorded_says_so(tmp_path):
    path = tmp_path / "x.safetensors"  # what an older save_map wrote: no n_epochs
    save_file({"mu": np.zeros((2, 3), np.float32), "umap": np.zeros((2, 2), np.float32)}, str(path),
              metadata={"weights": "w1", "corpus": "c1", "n_neighbors": "15", "min_dist": "0.1"})
    assert load_map(path, weights="w1", corpus="c1")["n_epochs"] is None  # the app then fits UMAP afresh


def test_a_stale_missing_or_corrupt_map_is_ignored(tmp_path):
    path = tmp_path / "maps" / "x.safetensors"
    save_map(path, np.zeros((2, 3)), np.zeros((2, 2)), weights="w1", corpus="c1", n_neighbors=15, min_dist=0.1)
    assert load_map(path, weights="other", corpus="c1") is None  # the model was retrained
    assert load_map(path, weights="w1", corpus="other") is None  # the corpus file changed
    assert load_map(tmp_path / "nothing.safetensors", weights="w1", corpus="c1") is None
    path.write_bytes(b"not a safetensors file")
    assert load_map(path, weights="w1", corpus="c1") is None


def test_bytes_fingerprint_depends_on_the_content():
    assert bytes_fingerprint(b"a") == bytes_fingerprint(b"a") != bytes_fingerprint(b"b")


def test_map_csv_has_text_label_coordinates_and_latents():
    data = map_csv(["a, b", "c"], None, np.array([[1, 2], [3, 4]]), np.zeros((2, 3)))
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0] == ["text", "label", "x", "y", "z0", "z1", "z2"]
    assert rows[1][:4] == ["a, b", "", "1.00000", "2.00000"] and len(rows) == 3



def test_precompute_script_writes_maps_the_app_accepts(tiny_trained, tiny_model_dir, tmp_path):
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model")
    corpus = tmp_path / "tiny.csv"
    corpus.write_text("text,label\n" + "\n".join(f"{s},{i % 2}" for i, s in enumerate(SENTENCES)))
    precompute = runpy.run_path(str(ROOT / "scripts" / "precompute_maps.py"))  # a script, not a module
    precompute["main"](["--model", str(model_dir), str(corpus)])
    saved = load_map(model_dir / "maps" / "tiny.safetensors", weights=weights_fingerprint(tiny_trained[0].model),
                     corpus=bytes_fingerprint(corpus.read_bytes()))
    assert saved["mu"].shape == (len(SENTENCES), 8) and saved["umap"].shape == (len(SENTENCES), 2)


def test_the_map_csv_escapes_formula_cells():
    data = map_csv(["=cmd|' /C calc'!A0", "fine text"], ["@SUM(A1)", "-1"], np.zeros((2, 2)), np.zeros((2, 3)))
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[1][:2] == ["'=cmd|' /C calc'!A0", "'@SUM(A1)"]
    assert rows[2][:2] == ["fine text", "-1"]


def test_an_upload_over_the_limit_says_its_size_exactly():
    import pytest

    from ui import upload
    from vae.data import CorpusError

    class Uploaded:  # what st.file_uploader returns, as far as read_upload looks before reading
        name, size = "big.txt", upload.MAX_BYTES + 1

    with pytest.raises(CorpusError, match="2,000,001 bytes .* the limit is 2,000,000 bytes"):
        upload.read_upload(Uploaded())
