"""How fast the drawing pad answers while you draw, how big its page is, how close to Keras.

    python benchmarks/drawing_pad_speed.py [--model outputs/models/deep.keras]
        [--compare outputs/models/simple.keras | --no-compare] [--data mnist.npz]

Opens the standalone pad page for the models (the lesson's deep model, with its simple model
beside it) in headless Chromium ($CHROMIUM_PATH or `chromium` on the PATH), draws digits stroke
by stroke with the mouse, and reads the time of every full update (the stroke, preprocessing,
both models, the hidden layers, the saliency and everything shown) measured inside the page with
performance.now(). Then runs test digits through the page's `inspect` and compares with Keras:
every model's outputs, the deep model's hidden activations, and its saliency with TensorFlow's
gradient of the same logit. Writes benchmarks/drawing_pad.json. Targets: an update within 16 ms
(one frame at 60 Hz) at the 90th percentile, a page of at most 2.5 MB, outputs and hidden
activations within 1e-4 of Keras and a saliency cosine similarity of at least 0.999.
"""

from __future__ import annotations

import argparse
import base64
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

from browser import (  # noqa: E402
    CHROMIUM_ARGS,
    agreement,
    chromium_environment,
    inspect_in_page,
    keras_reference,
    offline,
    stroke,
)
from handwriting.drawing_pad import DrawingPad  # noqa: E402
from mnist_lesson.data import load_mnist  # noqa: E402

# A few digits as pen strokes in a unit square (x right, y down).
STROKES = [
    [[(0.3, 0.2), (0.5, 0.1), (0.7, 0.2), (0.7, 0.4), (0.3, 0.85), (0.75, 0.85)]],  # 2
    [[(0.45, 0.1), (0.22, 0.6), (0.8, 0.6)], [(0.62, 0.35), (0.62, 0.9)]],  # 4
    [[(0.7, 0.2), (0.5, 0.1), (0.3, 0.2), (0.35, 0.38), (0.65, 0.58), (0.7, 0.78), (0.5, 0.9),
      (0.3, 0.78), (0.35, 0.58), (0.65, 0.38), (0.7, 0.2)]],  # 8
]  # fmt: skip
TARGETS = {
    "update_ms_p90": 16,
    "page_bytes": 2_500_000,
    "output_difference": 1e-4,
    "hidden_difference": "1e-4 absolute, or 1e-5 relative to the layer's largest value",
    "saliency_cosine": 0.999,
}


class BenchmarkError(Exception):
    """A problem the user can fix; the message is one line."""


def chromium() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    path = path or shutil.which("chromium-browser")
    if not path or not Path(path).is_file():
        raise BenchmarkError(f"no Chromium found ({path}): install it or set CHROMIUM_PATH")
    return path


def cpu_name() -> str:
    """The processor's model name, from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo") as file:
            names = [
                line.split(":", 1)[1].strip() for line in file if line.startswith("model name")
            ]
    except OSError:
        names = []
    return names[0] if names else platform.processor() or platform.machine()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def draw(page, box, digit) -> None:
    """Real mouse strokes, each in many small moves, through the points of ``digit``."""
    for points in digit:
        xy = [(box["x"] + box["width"] * x, box["y"] + box["height"] * y) for x, y in points]
        stroke(page.mouse, xy, steps=8)


def encoded_bits(pad: DrawingPad) -> int:
    """The bits of the page's encoded weights (before base64)."""
    tensors = [
        layer[key] for m in pad.models for layer in m.spec["layers"] for key in ("kernel", "bias")
    ]
    return sum(8 * len(base64.b64decode(tensor["data"])) for tensor in tensors)


def load(path: Path):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's own setting: fewer notes
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for a bad file
        raise BenchmarkError(f"cannot load {path}: {str(error).splitlines()[0]}") from None


def measure(
    model_path: Path,
    compare_path: Path | None,
    data_path: str | None,
    rounds: int,
    count: int,
    screenshot: Path | None = None,
) -> dict:
    model = load(model_path)
    compare = load(compare_path) if compare_path else None
    pad = DrawingPad(model, compare)
    names = [exported.name for exported in pad.models]
    digits = load_mnist(data_path)[1][0][:count].reshape(-1, 784)

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BenchmarkError("playwright is not installed: pip install playwright") from None
    with (
        tempfile.TemporaryDirectory() as folder,
        sync_playwright() as playwright,
        chromium_environment() as env,
    ):
        page_file = Path(folder) / "pad.html"
        page_file.write_text(pad.page(), encoding="utf-8")
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=CHROMIUM_ARGS, env=env
        )
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        refused = offline(page, page_file.as_uri())
        page.goto(page_file.as_uri())
        box = page.locator("#pad").bounding_box()
        for _ in range(rounds):
            for digit in STROKES:
                draw(page, box, digit)
                page.keyboard.press("Escape")
        updates = page.evaluate("digitPad.updateMs")
        if screenshot is not None:  # the README's picture: a drawn 4, as the page shows it
            page.set_viewport_size({"width": 1000, "height": 620})
            box = page.locator("#pad").bounding_box()
            draw(page, box, STROKES[1])
            page.screenshot(path=screenshot, full_page=True)
        seen = inspect_in_page(page, digits)
        version = browser.version
        browser.close()
    if refused:
        raise BenchmarkError(f"the page asked the network for {refused}")

    x = digits.astype(np.float32) / 255
    reference = keras_reference(model, x, seen["digit"])
    main = agreement({**seen, "outputs": seen["models"][names[0]]["outputs"]}, reference)
    models = {names[0]: {"largest_output_difference": main["outputs"],
                         "same_answer": main["same_answer"]}}  # fmt: skip
    if compare is not None:
        theirs = np.asarray(compare(x.reshape((-1, *compare.input_shape[1:]))))
        ours = seen["models"][names[1]]["outputs"]
        models[names[1]] = {
            "largest_output_difference": float(np.abs(ours - theirs).max()),
            "same_answer": float(np.mean(ours.argmax(1) == theirs.argmax(1))),
        }
    weights = sum(
        layer["kernel"].size + layer["bias"].size for m in pad.models for layer in m.layers
    )
    return {
        "update_ms": {
            "median": statistics.median(updates),
            "p90": percentile(updates, 90),
            "p95": percentile(updates, 95),
            "max": max(updates),
            "first": updates[0],  # includes compiling the script's functions
            "count": len(updates),
            "what": "one full update while drawing: the stroke, canvas pixels -> preprocessing -> "
            "every model -> hidden layers and saliency -> bars, grids and pictures, "
            "performance.now() inside the page",
        },
        "page_bytes": len(pad.page().encode("utf-8")),
        "weights": {
            "count": weights,
            "bits_per_weight": encoded_bits(pad) / weights,
            "encoding": "integers times 2**exponent (step: each tensor's RMS / 2**15, or / 2**22 "
            "under 65,536 values), zigzag, Rice-coded, base64",
        },
        "agreement": {
            "digits": len(digits),
            "versus": "Keras float32 (TensorFlow backend); saliency: tf.GradientTape of the "
            "winning digit's logit",
            "models": models,
            "hidden": {
                "largest_absolute_difference": main["hidden_absolute"],
                "largest_relative_difference": main["hidden_relative"],
                "within_target": main["hidden_within_targets"],
            },
            "saliency": {
                "smallest_cosine": main["saliency_cosine_min"],
                "digits_below_0_999": main["saliency_cosine_below_0_999"],
            },
        },
        "targets": TARGETS,
        "models": {
            exported.name: {
                "path": path.name,
                "layers": [
                    f"{layer['kernel'].shape[0]}->{layer['kernel'].shape[1]} {layer['activation']}"
                    for layer in exported.layers
                ],
            }
            for exported, path in zip(pad.models, [model_path, compare_path])
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
    models = HERE.parent / "outputs/models"
    parser.add_argument("--model", type=Path, default=models / "deep.keras")
    parser.add_argument(
        "--compare", type=Path, default=models / "simple.keras", help="the model beside it"
    )
    parser.add_argument("--no-compare", action="store_true", help="the main model alone")
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"), help="MNIST (.npz or IDX)")
    parser.add_argument("--rounds", type=int, default=3, help="times to draw the digits")
    parser.add_argument("--digits", type=int, default=1000, help="test digits to compare")
    parser.add_argument("--output", type=Path, default=HERE / "drawing_pad.json")
    parser.add_argument("--screenshot", type=Path, help="also save a PNG of the pad with a digit")
    args = parser.parse_args()
    compare = None if args.no_compare else args.compare
    for path in filter(None, [args.model, compare]):
        if not path.is_file():
            print(
                f"error: no model at {path}: run the lesson first or pass --model/--compare",
                file=sys.stderr,
            )
            return 2
    try:
        results = measure(args.model, compare, args.data, args.rounds, args.digits, args.screenshot)
    except (BenchmarkError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    update, near = results["update_ms"], results["agreement"]
    outputs = ", ".join(
        f"{name} {values['largest_output_difference']:.1e}"
        for name, values in near["models"].items()
    )
    print(
        f"update: median {update['median']:.2f} ms, p90 {update['p90']:.2f} ms, "
        f"max {update['max']:.2f} ms over {update['count']}; page {results['page_bytes']:,} "
        f"bytes; on {near['digits']:,} digits: largest output difference {outputs}, hidden "
        f"{near['hidden']['largest_absolute_difference']:.1e}, saliency cosine >= "
        f"{near['saliency']['smallest_cosine']:.5f}"
    )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
