"""The README as a newcomer meets it: short, with pictures that exist and stay small (the repository
keeps every version of every picture), and speaking of things, not of the project's issue numbers."""

import re

import pytest

from vae.paths import ROOT

README = ROOT / "README.md"
MAX_README_BYTES = 15_000
MAX_IMAGE_BYTES = 250_000
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)|<img[^>]*\bsrc=\"([^\"]+)\"")


def images(text):
    return [a or b for a, b in IMAGE.findall(text)]


def test_the_readme_is_short():
    assert README.stat().st_size <= MAX_README_BYTES


def test_the_readme_shows_pictures():
    assert len(images(README.read_text(encoding="utf-8"))) >= 3


@pytest.mark.parametrize("name", images(README.read_text(encoding="utf-8")))
def test_every_picture_it_names_exists_and_is_small(name):
    path = ROOT / name
    assert path.is_file(), f"{name}: missing (python scripts/screenshots.py makes the pictures)"
    assert path.stat().st_size <= MAX_IMAGE_BYTES, f"{name}: {path.stat().st_size:,} bytes"


@pytest.mark.parametrize("name", ["README.md", "bench/README.md", "assets/model/README.md", "docs/app.md"])
def test_words_for_users_name_no_issue_numbers(name):
    path = ROOT / name
    if not path.is_file():
        pytest.skip(f"no {name}")
    assert not re.search(r"\bissue \d", path.read_text(encoding="utf-8"), re.I)


def test_its_links_to_files_in_the_repository_resolve():
    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s#]+)\)", text):
        if not re.match(r"[a-z]+:", target):
            assert (ROOT / target).exists(), target
