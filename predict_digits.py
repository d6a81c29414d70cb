"""Classify your own handwritten digits with the model the lesson trained.

    python predict_digits.py my_digit.jpg photos/ [--model PATH] [--json] [--save-preprocessed DIR]
    python predict_digits.py --drawing-pad draw.html [--model PATH] [--compare PATH]

Each image is prepared the way MNIST digits were made (see handwriting/__init__.py). An image
that cannot be read or holds no ink gets an error entry; the others are still classified. The
exit status is 0 when every image was classified, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# Nothing heavy at the top: --help and option errors answer before TensorFlow is imported.
from mnist_lesson.errors import UserError, describe_error, display_path
from mnist_lesson.output_folder import OutputFolder
from mnist_lesson.settings import OneLineParser

DEFAULT_MODEL = Path("outputs") / "models" / "deep.keras"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="predict_digits.py",
        description="Classify photos or scans of handwritten digits (one digit per image) with "
        "the deep model that mnist_classification.py trained.",
    )
    parser.add_argument("images", nargs="*", help="image files, or folders of them")
    parser.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        metavar="PATH",
        help=f"a trained .keras model (default: {DEFAULT_MODEL})",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument(
        "--save-preprocessed",
        type=Path,
        metavar="DIR",
        help="write the 28x28 image the model sees for each input as a PNG in DIR",
    )
    parser.add_argument(
        "--drawing-pad",
        type=Path,
        metavar="HTML",
        help="write a drawing pad page for the model to HTML: open it in a browser, draw a "
        "digit and watch the model decide (works offline)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="PATH",
        help="with --drawing-pad: a second trained .keras model shown beside the first, e.g. "
        "outputs/models/simple.keras",
    )
    return parser


def load_model(path: Path):
    """The trained model, loaded with plain Keras in its safe mode (no arbitrary code from the
    file): the lesson's models are made of Keras' own layers."""
    from mnist_lesson.keras_setup import import_keras_quietly

    if not path.is_file():
        raise UserError(
            f"model {display_path(path)} not found: train it first with "
            "`python mnist_classification.py`"
        )
    keras = import_keras_quietly()
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # zip, h5 and deserialization errors all say "not a model"
        reason = describe_error(error)[:120]
        raise UserError(f"model {display_path(path)} cannot be loaded ({reason})") from None


def classify(paths: list[Path], model, save_to: OutputFolder | None) -> list[dict]:
    """One result per path, in order: the digit, its probability and the top 3, or an error."""
    import numpy as np
    from PIL import Image

    from handwriting import ImageError, prepare_image

    results = [
        {"path": str(path), "digit": None, "confidence": None, "top3": [], "error": None}
        for path in paths
    ]
    prepared = {}
    for index, path in enumerate(paths):
        try:
            prepared[index] = prepare_image(path)
        except ImageError as error:
            results[index]["error"] = str(error)
    if prepared:
        batch = np.stack(list(prepared.values()))
        shape = tuple(model.input_shape[1:])  # (28, 28, 1) for the lesson's models, or (784,)
        if int(np.prod(shape)) != 784 or None in shape:
            raise UserError(f"the model reads inputs of shape {shape}, not a 28x28 digit")
        probabilities = model.predict(batch.reshape((len(batch), *shape)), verbose=0)
        for index, probs in zip(prepared, probabilities):
            top3 = np.argsort(probs)[::-1][:3]
            results[index].update(
                digit=int(top3[0]),
                confidence=round(float(probs[top3[0]]), 6),
                top3=[[int(digit), round(float(probs[digit]), 6)] for digit in top3],
            )
    if save_to is not None:
        for index, image in prepared.items():
            pixels = Image.fromarray(np.round(image * 255).astype(np.uint8))
            save_to.save_image(pixels, f"{index:03d}_{paths[index].stem}.png")
    return results


def format_table(results: list[dict]) -> str:
    width = max(len("image"), *(len(result["path"]) for result in results))
    lines = [f"{'image':<{width}}  digit  confidence  top 3"]
    for result in results:
        if result["error"]:
            lines.append(f"{result['path']:<{width}}      -           -  error: {result['error']}")
        else:
            top3 = ", ".join(f"{digit} {prob:.1%}" for digit, prob in result["top3"])
            lines.append(
                f"{result['path']:<{width}}  {result['digit']:>5}  {result['confidence']:>10.1%}"
                f"  {top3}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.images and args.drawing_pad is None:
        parser.error("give one or more images (or folders), or --drawing-pad HTML")
    if args.compare is not None and args.drawing_pad is None:
        parser.error("--compare adds a model to the drawing pad: give --drawing-pad HTML too")
    from handwriting import image_files
    from mnist_lesson.script_handlers import install_script_handlers

    install_script_handlers()
    save_to = OutputFolder(args.save_preprocessed) if args.save_preprocessed else None
    pad_folder = OutputFolder(args.drawing_pad.parent) if args.drawing_pad else None
    for folder in (save_to, pad_folder):
        if folder is not None:
            folder.check_writable()  # before the model is loaded: a typo fails at once
    paths = image_files(args.images)
    if args.images and not paths:
        raise UserError("no image files found in " + ", ".join(args.images))
    model = load_model(args.model)
    if args.drawing_pad is not None:
        compare = load_model(args.compare) if args.compare is not None else None
        write_drawing_pad(
            model, args.model, pad_folder, args.drawing_pad.name, compare, args.compare
        )
    if not paths:
        return 0
    results = classify(paths, model, save_to)
    print(json.dumps(results, indent=2) if args.json else format_table(results))
    return 0 if all(result["error"] is None for result in results) else 1


def write_drawing_pad(
    model, model_path: Path, folder: OutputFolder, name: str, compare=None, compare_path=None
) -> None:
    """The drawing pad page for ``model`` (and ``compare`` beside it) saved as ``name``."""
    from handwriting.drawing_pad import DrawingPad, UnsupportedModelError, export_model

    try:
        main = export_model(model)
    except UnsupportedModelError as error:
        raise UserError(f"model {display_path(model_path)}: {error}") from None
    try:
        compared = export_model(compare) if compare is not None else None
    except UnsupportedModelError as error:
        raise UserError(f"model {display_path(compare_path)}: {error}") from None
    page = DrawingPad(main, compared).page()
    saved = folder.save_text(name, page)
    print(f"drawing pad written to {display_path(saved)}: open it in a browser", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
