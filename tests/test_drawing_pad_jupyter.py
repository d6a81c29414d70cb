"""The drawing pad in notebooks: in an HTML export, and in a real JupyterLab, untrusted (a
picture, no broken pad) and after running the cell (a live pad)."""

from __future__ import annotations

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
from handwriting.drawing_pad import RUN_TO_DRAW


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
        pad.wait_for(timeout=60_000)
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
def test_the_lessons_notebook_in_jupyterlab(mnist_path, tmp_path):
    """The committed lesson as a learner who has just cloned it sees it (untrusted): the pad's
    picture, no empty pad. Then, open beside it, the lesson with quick parameters (papermill
    --prepare-only), Run All Cells: a live pad in that notebook that reads a drawn 1 as 1."""
    papermill = pytest.importorskip("papermill")
    lesson = ROOT / "mnist_classification.ipynb"
    shutil.copy(lesson, tmp_path / "committed.ipynb")
    parameters = {"quick": True, "data": str(mnist_path), "output_dir": str(tmp_path / "out")}
    papermill.execute_notebook(
        str(lesson), str(tmp_path / "quick.ipynb"), parameters=parameters, prepare_only=True
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
