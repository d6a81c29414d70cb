"""Read your own handwritten digits with a model the lesson trained.

    python predict_digits.py my_digit.jpg photos/ [--model PATH] [--json] [--save-preprocessed DIR]
    python predict_digits.py --drawing-pad draw.html [--model PATH] [--compare PATH]

Each image is prepared the way MNIST digits were made (handwriting/__init__.py). An image that
cannot be read or holds no ink gets an error entry; the others are still read. The exit status
is 0 when every image was read, 1 otherwise; a problem with the command itself is one line on
stderr. Files are written whole or not at all: each goes to a temporary file first, which then
replaces the old one.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path

# Nothing heavy at the top: --help and mistyped options answer before Keras is imported.
DEFAULT_MODEL = Path("outputs") / "models" / "deep.keras"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage and message
        self.exit(2, f"error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="predict_digits.py", description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", help="image files, or folders of them")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, metavar="PATH",
                        help=f"a trained .keras model (default: {DEFAULT_MODEL})")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print a JSON list, not a table")
    parser.add_argument("--save-preprocessed", type=Path, metavar="DIR",
                        help="save the 28x28 image the model sees for each, in DIR")  # fmt: skip
    parser.add_argument("--drawing-pad", type=Path, metavar="HTML",
                        help="write a drawing pad page for the model: open it in a browser "
                        "and draw (it works offline)")  # fmt: skip
    parser.add_argument("--compare", type=Path, metavar="PATH",
                        help="with --drawing-pad: a second model shown beside the first, "
                        "e.g. outputs/models/simple.keras")  # fmt: skip
    return parser


def image_files(inputs: list[str]) -> list[Path]:
    """The files named, with each folder replaced by the image files in it (sorted)."""
    files = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            files.append(item)
    return files


def write_whole(path: Path, data: bytes) -> None:
    """``data`` written to a temporary file beside ``path``, which then replaces it: a failure
    half-way leaves ``path`` as it was."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def load_model(path: Path):
    """The model, loaded with plain Keras (in its safe mode: no code from the file)."""
    if not path.is_file():
        raise ValueError(f"model {path} not found: train it first with mnist_classification.py")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's own setting: fewer notes
    import keras

    try:
        return keras.saving.load_model(path)
    except Exception as error:  # zip, h5 and deserialization errors all mean "not a model"
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:120]
        raise ValueError(f"model {path} cannot be loaded ({reason})") from None


def classify(paths: list[Path], model, save_to: Path | None) -> list[dict]:
    """One result per path, in order: the digit, its output and the top 3, or an error."""
    import numpy as np
    from PIL import Image

    from handwriting import prepare_image

    results = [
        {"path": str(path), "digit": None, "confidence": None, "top3": [], "error": None}
        for path in paths
    ]
    prepared = {}
    for index, path in enumerate(paths):
        try:
            prepared[index] = prepare_image(path)
        except ValueError as error:
            results[index]["error"] = str(error)
    if prepared:
        shape = tuple(model.input_shape[1:])  # (28, 28) for the lesson's models, or (784,)
        if None in shape or int(np.prod(shape)) != 784:
            raise ValueError(f"the model reads inputs of shape {shape}, not a 28x28 digit")
        batch = np.stack(list(prepared.values())).reshape((-1, *shape))
        for index, outputs in zip(prepared, model.predict(batch, verbose=0)):
            top3 = np.argsort(outputs)[::-1][:3]
            results[index].update(
                digit=int(top3[0]),
                confidence=round(float(outputs[top3[0]]), 6),
                top3=[[int(digit), round(float(outputs[digit]), 6)] for digit in top3],
            )
    for index, image in prepared.items() if save_to else ():
        png = Image.fromarray(np.round(image * 255).astype(np.uint8))
        path = save_to / f"{index:03d}_{paths[index].stem}.png"
        buffer = io.BytesIO()
        png.save(buffer, format="PNG")
        write_whole(path, buffer.getvalue())
    return results


def format_table(results: list[dict]) -> str:
    width = max(len("image"), *(len(result["path"]) for result in results))
    lines = [f"{'image':<{width}}  digit  confidence  top 3"]
    for result in results:
        if result["error"]:
            lines.append(f"{result['path']:<{width}}      -           -  error: {result['error']}")
        else:
            top3 = ", ".join(f"{digit} {output:.1%}" for digit, output in result["top3"])
            lines.append(
                f"{result['path']:<{width}}  {result['digit']:>5}  {result['confidence']:>10.1%}"
                f"  {top3}"
            )
    return "\n".join(lines)


def write_drawing_pad(path: Path, model, model_path: Path, compare, compare_path) -> None:
    """The drawing pad page for ``model`` (and ``compare`` beside it), saved whole at ``path``."""
    from handwriting.drawing_pad import DrawingPad, export_model

    exported = []
    for each, each_path in ((model, model_path), (compare, compare_path)):
        try:
            exported.append(export_model(each) if each is not None else None)
        except ValueError as error:
            raise ValueError(f"model {each_path}: {error}") from None
    write_whole(path, DrawingPad(*exported).page().encode("utf-8"))
    print(f"drawing pad written to {path}: open it in a browser", file=sys.stderr)


def run(args) -> int:
    for folder in (args.save_preprocessed, args.drawing_pad and args.drawing_pad.parent):
        if folder:  # made before the model loads: a mistyped folder fails at once
            folder.mkdir(parents=True, exist_ok=True)
    paths = image_files(args.images)
    if args.images and not paths:
        raise ValueError("no image files found in " + ", ".join(args.images))
    model = load_model(args.model)
    if args.drawing_pad is not None:
        compare = load_model(args.compare) if args.compare is not None else None
        write_drawing_pad(args.drawing_pad, model, args.model, compare, args.compare)
    if not paths:
        return 0
    results = classify(paths, model, args.save_preprocessed)
    print(json.dumps(results, indent=2) if args.json else format_table(results))
    return 0 if all(result["error"] is None for result in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.images and args.drawing_pad is None:
        parser.error("give one or more images (or folders), or --drawing-pad HTML")
    if args.compare is not None and args.drawing_pad is None:
        parser.error("--compare adds a model to the drawing pad: give --drawing-pad HTML too")
    try:
        return run(args)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
