"""Every number the READMEs and the lesson's prose quote is the one a result file holds."""

from __future__ import annotations

import json
import re
import sys

import jupytext
import pytest

from conftest import LESSON, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import report  # noqa: E402

RESULTS = json.loads((ROOT / "benchmarks" / "results.json").read_text())
STEP_PROFILE = json.loads((ROOT / "benchmarks" / "step_profile.json").read_text())


def prose(text: str) -> str:
    """``text`` without its generated blocks."""
    return report.BLOCK.sub("", text)


def lesson_markdown() -> str:
    notebook = jupytext.read(LESSON)
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def about(value: float, decimals: int) -> str:
    return f"about {100 * value:.{decimals}f}%"


@pytest.mark.parametrize("document", report.DOCUMENTS, ids=lambda path: path.parent.name)
def test_generated_blocks_match_the_result_files(document):
    text = document.read_text()
    assert report.BLOCK.search(text), "the document quotes its numbers from result files"
    assert report.render(text) == text, "run python benchmarks/report.py"


@pytest.mark.parametrize(
    "text", [(ROOT / "README.md").read_text(), lesson_markdown()], ids=["README", "lesson"]
)
def test_the_accuracies_in_the_prose_are_the_benchmarks_medians(text):
    """The prose says "about 92%" and "about 98.7%": the medians over seeds 1-5, rounded."""
    simple = RESULTS["recipes"]["project_simple"]["test_accuracy_median"]
    deep = RESULTS["recipes"]["project_deep"]["test_accuracy_median"]
    allowed = {about(simple, 0), about(deep, 1)}
    quoted = set(re.findall(r"about \d+(?:\.\d+)?%", " ".join(prose(text).split())))
    assert quoted == allowed, (quoted, allowed)
    percentages = re.findall(r"\d+(?:\.\d+)?%", prose(text))
    assert len(percentages) == 2, (
        f"no other measured percentage outside generated blocks: {percentages}"
    )


def test_no_measured_number_in_the_benchmarks_prose():
    text = prose((ROOT / "benchmarks" / "README.md").read_text())
    assert not re.findall(r"\d+(?:\.\d+)?\s?(?:%|ms\b|GB\b|MB\b|x\b|times)", text)


def test_what_xla_bought_in_the_lessons_prose_is_the_step_profiles():
    quoted = re.findall(r"(\d+\.\d+) times faster", " ".join(lesson_markdown().split()))
    assert quoted == [f"{STEP_PROFILE['xla_speedup_of_fit']:.2f}"]
