"""Every page, in AppTest, with a model folder whose card.json or config.json holds wrong types or
ranges (the issue's cases): the page says what is wrong with the model, it never shows a traceback."""

import json
import shutil

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

PAGES = ["streamlit_app.py", "pages/1_Sample.py", "pages/2_Interpolate.py", "pages/3_Latent_map.py",
         "pages/4_Train.py"]
BROKEN = {  # file -> edit of its JSON
    "card steps as text": ("card.json", lambda card: {**card, "steps": "many"}),
    "card as a list": ("card.json", lambda card: ["steps", 3]),
    "max_len -1": ("config.json", lambda config: {**config, "max_len": -1}),
    "max_len as text": ("config.json", lambda config: {**config, "max_len": "30"}),
}


@pytest.fixture(params=BROKEN.values(), ids=BROKEN.keys())
def broken_model(request, tiny_model_dir, tmp_path, monkeypatch):
    file, edit = request.param
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    (folder / file).write_text(json.dumps(edit(json.loads((folder / file).read_text()))))
    monkeypatch.setenv("TEXT_VAE_MODEL", str(folder))
    return file


@pytest.mark.parametrize("page", PAGES)
def test_a_broken_checkpoint_is_a_message_on_every_page(broken_model, page):
    at = AppTest.from_file(str(ROOT / page), default_timeout=60).run()
    assert not at.exception, at.exception[0].value
    assert any(broken_model in e.value for e in at.error), [e.value for e in at.error]
