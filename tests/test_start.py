"""The README's Start section: two lines, each complete on a fresh machine, and CI runs the second."""

import re

from conftest import ROOT


def start_lines():
    start = (ROOT / "README.md").read_text().split("## Start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", start, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def test_start_is_two_lines_app_then_tests():
    app, tests = start_lines()
    assert app.startswith("pip install torch==2.13.0 -r requirements.txt &&")
    assert app.endswith("streamlit run streamlit_app.py")
    assert tests == "bash scripts/test.sh"


def test_ci_runs_the_readme_test_line_which_installs_chromium_and_runs_pytest():
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    script = (ROOT / "scripts" / "test.sh").read_text()
    for step in ("pip install --quiet --disable-pip-version-check torch==2.13.0", "-r requirements-dev.txt",
                 "apt-get install -y -qq chromium", "python -m pytest -q"):
        assert step in script


def test_the_readme_names_pytorchs_cpu_wheel_index():
    assert "https://download.pytorch.org/whl/cpu" in (ROOT / "README.md").read_text().split("## The app")[0]
