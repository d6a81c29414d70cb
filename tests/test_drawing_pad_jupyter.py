"""The drawing pad in notebooks: in an HTML export, and in a real JupyterLab, untrusted (a
picture, no broken pad) and after running the cell (a live pad)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from browser import (
    ROOT,
    console_errors,
    launch_chromium,
    offline,
    open_notebook,
    run_all,
    start_jupyterlab,
    stroke,
    trained_model,
    wait_for_idle_kernel,
)
from conftest import run_notebook
from handwriting.drawing_pad import RUN_TO_DRAW
from prose import prose_stats


@pytest.fixture(scope="module")
def notebook(mnist_path, tmp_path_factory):
    """A notebook whose one cell shows a drawing pad, executed (as a saved notebook is), and
    never signed: Jupyter treats it as untrusted."""
    folder = tmp_path_factory.mktemp("notebook")
    model_path = folder / "model.keras"
    trained_model(str(mnist_path)).save(model_path)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from handwriting.drawing_pad import DrawingPad\n"
            "import keras\n"
            f"pad = DrawingPad(keras.saving.load_model({str(model_path)!r}))\n"
            "pad"
        )
    ]
    client = NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    html_outputs = [o for o in notebook.cells[0].outputs if "text/html" in o.get("data", {})]
    assert len(html_outputs) == 1 and RUN_TO_DRAW in html_outputs[0]["data"]["text/html"]
    path = folder / "pad.ipynb"
    nbformat.write(notebook, path)
    return path


def pad_reads_a_one(page, pad) -> str:
    """Draw a vertical stroke on the pad in the element ``pad``; the prediction shown. The
    canvas itself is scrolled into view: the pad may start on screen and its canvas end below."""
    canvas = pad.locator("canvas.digit-pad-surface")
    canvas.scroll_into_view_if_needed(timeout=60_000)
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    points = [(x, box["y"] + box["height"] * t) for t in (0.15, 0.4, 0.6, 0.85)]
    stroke(page.mouse, points, steps=5)
    return pad.locator(".digit-pad-digit").text_content()


@pytest.mark.slow
def test_html_export_holds_a_working_pad(notebook):
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(notebook)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    exported = notebook.with_suffix(".html")
    with launch_chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors = console_errors(page)
        refused = offline(page, exported.as_uri())
        page.goto(exported.as_uri())
        pad = page.locator(".digit-pad")
        assert pad.count() == 1 and page.locator(".digit-pad-picture").count() == 0
        pad.scroll_into_view_if_needed()
        assert pad_reads_a_one(page, pad) == "1"
        # The export's template links require.js and MathJax from a CDN (refused here); the pad
        # itself asks for nothing.
        assert all("cdnjs.cloudflare.com" in url for url in refused), refused
        assert [e for e in errors if not e.startswith("Failed to load resource")] == []


@pytest.mark.slow
def test_jupyterlab_untrusted_shows_a_picture_then_a_live_pad(notebook):
    with start_jupyterlab(notebook.parent) as server, launch_chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = console_errors(page, uncaught_only=True)  # JupyterLab logs errors of its own
        open_notebook(page, server, notebook.name)
        output = page.locator(".jp-OutputArea-output").filter(has_text=RUN_TO_DRAW)
        output.wait_for(timeout=60_000)
        picture = output.locator("img")
        assert picture.is_visible() and picture.bounding_box()["width"] >= 200
        assert picture.evaluate("img => img.complete && img.naturalWidth") >= 200
        assert page.locator(".jp-OutputArea-output canvas").count() == 0  # no dead, empty pad

        run_all(page)
        pad = page.locator(".jp-OutputArea-output .digit-pad")
        pad.wait_for(timeout=180_000)  # a busy machine may start the kernel after run_all returns
        assert pad.count() == 1
        assert page.locator(".jp-OutputArea-output").filter(has_text=RUN_TO_DRAW).count() == 0
        pad.scroll_into_view_if_needed()
        assert pad.locator(".digit-pad-digit").text_content() == ""
        assert pad_reads_a_one(page, pad) == "1"
        assert errors == []


def accept_kernel_choice(page) -> None:
    """JupyterLab may ask which kernel a second open notebook should use: take the one it
    proposes (the notebook's own, Python 3), as a learner would."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    select = page.get_by_role("button", name="Select", exact=True)
    try:
        select.wait_for(timeout=10_000)
    except PlaywrightTimeoutError:
        return
    select.click()
    wait_for_idle_kernel(page)


@pytest.mark.slow
def test_the_chapters_notebook_in_jupyterlab(mnist_path, quick_run, tmp_path):
    """The committed chapter as a learner who has just cloned it sees it (untrusted): the pad's
    picture, no empty pad. Then, open beside it, the chapter with a few photos and drawings
    (papermill --prepare-only) beside a quick run of the lesson, Run All Cells: a live pad in
    that notebook that reads a drawn 1 as 1."""
    papermill = pytest.importorskip("papermill")
    chapter = ROOT / "your_handwriting.ipynb"
    shutil.copy(chapter, tmp_path / "committed.ipynb")
    shutil.copytree(quick_run[1] / "outputs", tmp_path / "outputs")  # the lesson's models
    parameters = {"data": str(mnist_path), "count": 50}
    papermill.execute_notebook(
        str(chapter), str(tmp_path / "quick.ipynb"), parameters=parameters, prepare_only=True
    )
    visible = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output"
    with start_jupyterlab(tmp_path) as server, launch_chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = console_errors(page, uncaught_only=True)
        open_notebook(page, server, "committed.ipynb")
        picture = page.locator(visible).filter(has_text=RUN_TO_DRAW).locator("img")
        picture.scroll_into_view_if_needed(timeout=60_000)
        assert picture.evaluate("img => img.complete && img.naturalWidth") >= 200
        assert page.locator(f"{visible} .digit-pad, {visible} canvas").count() == 0

        open_notebook(page, server, "quick.ipynb")
        accept_kernel_choice(page)
        run_all(page, timeout=300_000)
        pad = page.locator(f"{visible} .digit-pad")
        pad.scroll_into_view_if_needed(timeout=60_000)
        assert pad.count() == 1
        assert pad_reads_a_one(page, pad) == "1"
        assert errors == []


def test_the_chapter_keeps_the_sentence_rules():
    stats = prose_stats(ROOT / "your_handwriting.py")
    assert stats["average"] <= 20 and stats["longest"] <= 40, stats


def test_the_committed_chapter_stays_small_and_shows_the_pad():
    """The chapter's notebook, with its outputs, under 4 MB, its pad's picture among them."""
    chapter = ROOT / "your_handwriting.ipynb"
    assert chapter.stat().st_size < 4_000_000
    assert RUN_TO_DRAW in chapter.read_text(encoding="utf-8")


@pytest.mark.slow  # trains the shifted copy of the deep model, on the quick run's digits
def test_the_chapter_runs_on_the_lessons_models(mnist_path, quick_run, tmp_path, monkeypatch):
    """The chapter, run by papermill in a folder where the lesson ran: its numbers, its pad page
    for the model it names, and photos that read far better prepared than squashed."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the chapter imports the project's helpers
    shutil.copytree(quick_run[1] / "outputs", tmp_path / "outputs")
    run_notebook(ROOT / "your_handwriting.ipynb", tmp_path, data=str(mnist_path), count=200)
    results = json.loads((tmp_path / "outputs" / "your_handwriting.json").read_text())
    assert results["shifted_against_deep"]["same_start"] is True
    assert results["photos"]["prepared"] > results["photos"]["squashed"] + 0.3
    assert set(results["drawings"]) == {"count", "simple", "deep", "shifted"}
    assert results["pad_model"] in ("deep", "shifted")
    import keras

    comparison = results["shifted_against_deep"]
    more = comparison["only_shifted"] > comparison["only_deep"]  # the shifted model reads more
    assert results["pad_model"] == ("shifted" if more else "deep")
    page = (tmp_path / "outputs" / "draw_a_digit.html").read_text()
    assert f'"name":"{results["pad_model"]}"' in page and '"name":"simple"' in page
    assert len(list((tmp_path / "outputs" / "handwriting_examples").glob("*.png"))) == 6
    pad_model = keras.saving.load_model(tmp_path / "outputs" / "models" / "pad.keras")
    assert pad_model.name == results["pad_model"]


@pytest.mark.slow  # a kernel that imports Keras
def test_the_chapter_says_to_run_the_lesson_first(tmp_path, monkeypatch):
    """In a folder without the lesson's models: one error that says what to do."""
    import papermill

    monkeypatch.setenv("PYTHONPATH", str(ROOT))

    with pytest.raises(papermill.PapermillExecutionError) as caught:
        run_notebook(ROOT / "your_handwriting.ipynb", tmp_path)
    assert "FileNotFoundError" in str(caught.value)
    assert "run the lesson, mnist_classification.ipynb" in str(caught.value)
