"""How fast the drawing pad answers while you draw, and what its float16 weights cost.

    python benchmarks/drawing_pad_speed.py [--model outputs/models/deep.keras] [--data mnist.npz]

Opens the standalone pad page for the model in headless Chromium ($CHROMIUM_PATH or `chromium`
on the PATH), draws digits stroke by stroke with the mouse, and reads the time of every
prediction update (preprocessing, model, display) measured inside the page with
performance.now(). Then runs all 10,000 MNIST test digits through the page's model and compares
its answers with Keras'. Writes benchmarks/drawing_pad.json. Target: a median update <= 16 ms
(one frame at 60 Hz).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))  # the tests' browser helpers

from browser import CHROMIUM_ARGS, predict_in_page, stroke  # noqa: E402
from mnist_lesson.data import load_mnist  # noqa: E402
from mnist_lesson.drawing_pad import DrawingPad  # noqa: E402
from mnist_lesson.errors import UserError  # noqa: E402
from mnist_lesson.tensorflow_setup import cpu_name, import_tensorflow_quietly  # noqa: E402

# A few digits as pen strokes in a unit square (x right, y down).
STROKES = [
    [[(0.3, 0.2), (0.5, 0.1), (0.7, 0.2), (0.7, 0.4), (0.3, 0.85), (0.75, 0.85)]],  # 2
    [[(0.45, 0.1), (0.22, 0.6), (0.8, 0.6)], [(0.62, 0.35), (0.62, 0.9)]],  # 4
    [[(0.7, 0.2), (0.5, 0.1), (0.3, 0.2), (0.35, 0.38), (0.65, 0.58), (0.7, 0.78), (0.5, 0.9),
      (0.3, 0.78), (0.35, 0.58), (0.65, 0.38), (0.7, 0.2)]],  # 8
]  # fmt: skip


class BenchmarkError(Exception):
    """A problem the user can fix; the message is one line."""


def chromium() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    path = path or shutil.which("chromium-browser")
    if not path or not Path(path).is_file():
        raise BenchmarkError(f"no Chromium found ({path}): install it or set CHROMIUM_PATH")
    return path


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def draw(page, box, digit) -> None:
    """Real mouse strokes, each in many small moves, through the points of ``digit``."""
    for points in digit:
        xy = [(box["x"] + box["width"] * x, box["y"] + box["height"] * y) for x, y in points]
        stroke(page.mouse, xy, steps=8)


def measure(
    model_path: Path, data_path: str | None, rounds: int, screenshot: Path | None = None
) -> dict:
    import_tensorflow_quietly()
    import keras

    import mnist_lesson.augmentation  # noqa: F401  the lesson's RandomShift layer

    try:
        model = keras.saving.load_model(model_path, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for a bad file
        raise BenchmarkError(f"cannot load {model_path}: {str(error).splitlines()[0]}") from None
    pad = DrawingPad(model)
    data = load_mnist(data_path)
    digits = data.x_test.reshape(-1, 784)
    expected = model.predict(digits.astype(np.float32) / 255, verbose=0)
    emulated = pad.predict(digits.astype(np.float32) / 255)

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BenchmarkError("playwright is not installed: pip install playwright") from None
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        page_file = Path(folder) / "pad.html"
        page_file.write_text(pad.page(), encoding="utf-8")
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url == page_file.as_uri() else r.abort()
        )
        page.goto(page_file.as_uri())
        box = page.locator("#pad").bounding_box()
        for _ in range(rounds):
            for digit in STROKES:
                draw(page, box, digit)
                page.keyboard.press("Escape")
        updates = page.evaluate("digitPad.updateMs")
        if screenshot is not None:  # the README's picture: a drawn 4, as the page shows it
            page.set_viewport_size({"width": 760, "height": 520})
            box = page.locator("#pad").bounding_box()
            draw(page, box, STROKES[1])
            page.screenshot(path=screenshot, full_page=True)
        in_browser = predict_in_page(page, digits)
        version = browser.version
        browser.close()
    return {
        "update_ms": {
            "median": statistics.median(updates),
            "p95": percentile(updates, 95),
            "max": max(updates),
            "first": updates[0],  # includes compiling the script's functions
            "count": len(updates),
            "what": "one update while drawing: canvas pixels -> preprocessing -> model -> bars "
            "and 28x28 view, performance.now() inside the page",
        },
        "page_bytes": len(pad.page().encode("utf-8")),
        "float16_agreement": {
            "digits": len(digits),
            "same_answer_browser": float((in_browser.argmax(1) == expected.argmax(1)).mean()),
            "same_answer_numpy_emulation": float((emulated.argmax(1) == expected.argmax(1)).mean()),
            "largest_probability_difference_browser": float(np.abs(in_browser - expected).max()),
            "versus": "Keras float32 on the same test digits",
        },
        "model": {
            "path": model_path.name,
            "layers": [
                f"{layer['kernel'].shape[0]}->{layer['kernel'].shape[1]} {layer['activation']}"
                for layer in pad.layers
            ],  # fmt: skip
        },
        "machine": {
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "chromium": version,
            "headless": True,
        },
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=HERE.parent / "outputs/models/deep.keras")
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"), help="MNIST (.npz or IDX)")
    parser.add_argument("--rounds", type=int, default=3, help="times to draw the digits")
    parser.add_argument("--output", type=Path, default=HERE / "drawing_pad.json")
    parser.add_argument("--screenshot", type=Path, help="also save a PNG of the pad with a digit")
    args = parser.parse_args()
    if not args.model.is_file():
        print(
            f"error: no model at {args.model}: run the lesson first or pass --model",
            file=sys.stderr,
        )
        return 2
    try:
        results = measure(args.model, args.data, args.rounds, args.screenshot)
    except (BenchmarkError, UserError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    update = results["update_ms"]
    same = results["float16_agreement"]["same_answer_browser"]
    largest = results["float16_agreement"]["largest_probability_difference_browser"]
    print(
        f"update: median {update['median']:.2f} ms, p95 {update['p95']:.2f} ms, "
        f"max {update['max']:.2f} ms over {update['count']}; page {results['page_bytes']:,} "
        f"bytes; float16 same answer {same:.2%} (browser), largest difference {largest:.1e}"
    )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
