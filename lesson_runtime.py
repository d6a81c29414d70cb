"""The plumbing that keeps ``mnist_classification.py`` a plain lesson.

Importing this module quiets TensorFlow's start-up log lines (so import it before ``keras``).
``configure`` turns the lesson's parameter cell into settings: in Jupyter the cell's values are
used as they are; run as a script, command-line options override them, Ctrl-C ends the run with
one line and exit status 130, and the project's own errors are one line on stderr instead of a
traceback. ``OutputFolder`` writes every result atomically: a file appears whole under its final
name or not at all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def _stderr_silenced():
    """Hide what C++ libraries write straight to file descriptor 2 (Python errors still show)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some IDEs): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def in_notebook() -> bool:
    """True inside a Jupyter kernel, where the parameter cell, not sys.argv, holds the settings."""
    return "ipykernel" in sys.modules


# TensorFlow's C++ runtime logs its start-up (oneDNN, CUDA probing) before its log level applies,
# and Jupyter shows what C++ writes to stderr too; a learner should read the lesson, not that.
with _stderr_silenced():
    import tensorflow as tf

    tf.config.list_physical_devices()
# Keras builds a few models in one run; TensorFlow's retracing advice is not for learners.
tf.get_logger().setLevel("ERROR")


class LessonError(Exception):
    """A problem the user can fix (options, paths); reported as one line, exit status 1."""


# --- settings ---------------------------------------------------------------------------------

QUICK_TRAIN_EXAMPLES = 3_000
QUICK_TEST_EXAMPLES = 1_000


@dataclass(frozen=True)
class Settings:
    data: str | None
    seed: int
    simple_epochs: int
    deep_epochs: int
    batch_size: int
    output_dir: Path
    quick: bool
    show: bool

    @property
    def train_examples(self) -> int | None:
        """How many training examples to use; None means all of them."""
        return QUICK_TRAIN_EXAMPLES if self.quick else None

    @property
    def test_examples(self) -> int | None:
        return QUICK_TEST_EXAMPLES if self.quick else None

    @property
    def verbose(self) -> int:
        """Keras progress: a live bar in a terminal, one line per epoch in a notebook."""
        return 2 if in_notebook() else 1


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and 2**32 - 1")
    return value


def _existing_path(text: str) -> str:
    if not Path(text).expanduser().exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file or folder")
    return text


def build_parser(defaults: dict) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=Path(sys.argv[0]).name or "mnist_classification.py",
        description=(
            "Train and evaluate two neural networks on MNIST handwritten digits: a one-layer "
            "sigmoid model and a deeper ReLU/softmax model. Figures, reports, metrics.json and the "
            "trained models are written to the output folder."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data",
        type=_existing_path,
        default=defaults["data"],
        metavar="PATH",
        help="a keras-layout mnist.npz or a folder with the four MNIST IDX files (gzipped or "
        "not); without it $MNIST_PATH is used, else Keras downloads MNIST once",
    )
    parser.add_argument(
        "--seed",
        type=_non_negative_int,
        default=defaults["seed"],
        metavar="N",
        help="seeds Python, NumPy and TensorFlow: same seed, same numbers",
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        metavar="N",
        help="train both models for N epochs (shorthand for the two options below)",
    )
    parser.add_argument(
        "--simple-epochs",
        type=_positive_int,
        default=defaults["simple_epochs"],
        metavar="N",
        help="epochs for the one-layer sigmoid model",
    )
    parser.add_argument(
        "--deep-epochs",
        type=_positive_int,
        default=defaults["deep_epochs"],
        metavar="N",
        help="epochs for the deeper ReLU/softmax model",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=defaults["batch_size"],
        metavar="N",
        help="training examples per step",
    )
    parser.add_argument(
        "--output-dir",
        default=str(defaults["output_dir"]),
        metavar="DIR",
        help="where figures, reports, metrics.json and models/ are written",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        default=defaults["quick"],
        help=f"smoke test: {QUICK_TRAIN_EXAMPLES} training and {QUICK_TEST_EXAMPLES} test "
        "digits, one epoch per model",
    )
    parser.add_argument(
        "--show",
        action="store_true",
        default=defaults["show"],
        help="open each figure in a window (the run waits until you close it)",
    )
    return parser


def settings_from_command_line(defaults: dict, argv: list[str] | None = None) -> Settings:
    args = build_parser(defaults).parse_args(argv)
    simple_epochs = args.epochs or args.simple_epochs
    deep_epochs = args.epochs or args.deep_epochs
    return _settings(vars(args) | {"simple_epochs": simple_epochs, "deep_epochs": deep_epochs})


def _settings(values: dict) -> Settings:
    quick = bool(values["quick"])
    return Settings(
        data=values["data"],
        seed=int(values["seed"]),
        simple_epochs=1 if quick else int(values["simple_epochs"]),
        deep_epochs=1 if quick else int(values["deep_epochs"]),
        batch_size=int(values["batch_size"]),
        output_dir=Path(values["output_dir"]).expanduser(),
        quick=quick,
        show=bool(values["show"]),
    )


def configure(parameters: dict) -> Settings:
    """Settings for this run, from the parameter cell and, in a script, the command line.

    Also prepares the run: the output folder is checked before any training, and every random
    generator (Python, NumPy, TensorFlow) is seeded with TensorFlow's ops made deterministic, so
    the same seed gives the same numbers on the same machine.
    """
    if in_notebook():
        settings = _settings(parameters)
    else:
        settings = settings_from_command_line(parameters)
        install_script_handlers()
        if not settings.show:
            import matplotlib

            matplotlib.use("Agg")
    OutputFolder(settings.output_dir).check_writable()
    make_reproducible(settings.seed)
    return settings


_deterministic_ops = False


def make_reproducible(seed: int) -> None:
    import keras
    import tensorflow as tf

    global _deterministic_ops
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    _deterministic_ops = True


def environment() -> dict:
    """What a result depends on besides the seed: versions, processor, determinism."""
    import platform

    import keras
    import numpy as np
    import sklearn
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpus": [device.name for device in tf.config.list_physical_devices("GPU")],
        "deterministic_ops": _deterministic_ops,
    }


# --- errors and Ctrl-C in a script ------------------------------------------------------------

_saved_files: list[Path] = []


def _saved_summary() -> str:
    if not _saved_files:
        return "nothing was saved yet"
    return "saved so far: " + ", ".join(str(path) for path in dict.fromkeys(_saved_files))


def _on_interrupt(signum, frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the message
    print(f"\ninterrupted: {_saved_summary()}", file=sys.stderr, flush=True)
    raise SystemExit(130)


def _report_user_errors(kind, error, tb):
    from mnist_data import DataError

    if issubclass(kind, (DataError, LessonError)):
        print(f"error: {error}", file=sys.stderr, flush=True)
    else:
        sys.__excepthook__(kind, error, tb)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"


def install_script_handlers() -> None:
    """In a script: Ctrl-C and the user's errors become one line; so do warnings."""
    signal.signal(signal.SIGINT, _on_interrupt)
    sys.excepthook = _report_user_errors
    warnings.formatwarning = _one_line_warning


# --- outputs ----------------------------------------------------------------------------------


_UMASK = os.umask(0)
os.umask(_UMASK)


class OutputFolder:
    """Where the lesson writes its results, each file replaced whole or not at all."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def check_writable(self) -> None:
        """Fail now, not after minutes of training, when the folder cannot be used."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.path):
                pass
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise LessonError(f"output folder {self.path} cannot be used: {reason}") from None

    def write(self, name: str, write_to) -> Path:
        """Call ``write_to(temporary_path)``, then rename the finished file to ``name``."""
        final = self.path / name
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=final.parent, prefix=f".{final.name}.", suffix=f".part{final.suffix}"
        )
        os.close(handle)
        try:
            write_to(temporary)
            os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp's private 0600 is not what users expect
            os.replace(temporary, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _saved_files.append(final)
        return final

    def save_text(self, name: str, text: str) -> Path:
        return self.write(name, lambda path: Path(path).write_text(text, encoding="utf-8"))

    def save_json(self, name: str, data: dict) -> Path:
        return self.save_text(name, json.dumps(data, indent=2) + "\n")

    def save_figure(self, figure, name: str) -> Path:
        return self.write(name, lambda path: figure.savefig(path, format="png", dpi=100))

    def save_image(self, image, name: str) -> Path:
        """A Pillow image as PNG."""
        return self.write(name, lambda path: image.save(path, format="PNG"))

    def save_model(self, model, name: str) -> Path:
        return self.write(name, model.save)


def show(figure, settings: Settings) -> None:
    """Show a figure inline (Jupyter) or in a window (--show); otherwise just release it."""
    import matplotlib.pyplot as plt

    if in_notebook() or settings.show:
        plt.show()
    else:
        plt.close(figure)
