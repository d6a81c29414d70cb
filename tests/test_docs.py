"""The READMEs: what a newcomer needs on the first screen, the chapters with their times, no
machine details outside benchmarks/README.md, and every generated block equal to the result
files it is written from."""

from __future__ import annotations

import re
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import report  # noqa: E402

README = ROOT / "README.md"
CHAPTERS = ["mnist_classification", "experiments", "your_handwriting", "exercises"]


@pytest.mark.parametrize("document", report.DOCUMENTS, ids=lambda path: path.parent.name)
def test_generated_blocks_match_the_result_files(document):
    text = document.read_text()
    assert report.render(text) == text, "run python benchmarks/report.py"


def test_the_first_screen_has_both_commands_and_the_offline_way():
    first_screen = "\n".join(README.read_text().splitlines()[:40])
    assert "pip install -r requirements.txt && .venv/bin/python mnist_classification.py" in (
        first_screen
    )
    assert "python -m pytest" in first_screen
    offline = first_screen[first_screen.index("**Offline**") :]
    assert "MNIST_PATH=" in offline and "`data`" in offline
    assert "deletes it" in offline, "the warning about Keras' own loader"


def test_the_readme_lists_the_lesson_and_each_chapter_with_its_times():
    text = README.read_text()
    block = text[text.index("<!-- results: chapters -->") : text.index("## In Jupyter")]
    for name in CHAPTERS:
        row = next((line for line in block.splitlines() if f"{name}.ipynb" in line), None)
        assert row, name
        assert re.search(r"\d+ min", row), f"{name}: read and run times"


def test_no_machine_details_for_a_newcomer():
    """Processor features, ratios to the classic script and target tallies stay in
    benchmarks/README.md."""
    for path in (README, ROOT / "mnist_classification.py"):
        text = path.read_text()
        assert not re.search(r"avx|x classic|× classic|misses \d+ target", text, re.I), path


def test_the_jax_versions_named_are_the_ones_required():
    required = (ROOT / "requirements-jax.txt").read_text()
    low, high = re.search(r"jax>=0\.(\d+),<0\.(\d+)", required).groups()
    named = [f"0.{minor}" for minor in range(int(low), int(high))]
    assert f"JAX {' or '.join(named)}" in README.read_text()
