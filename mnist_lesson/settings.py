"""The lesson's settings: its parameter cell in Jupyter, the command line in a script.

The parser imports nothing heavy, so ``--help`` and option errors answer at once; an option
error is one line. ``quick`` means the same everywhere: a small subset of MNIST, with the
epochs as they are set.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from mnist_lesson.errors import UserError

QUICK_TRAIN_EXAMPLES = 3_000
QUICK_TEST_EXAMPLES = 1_000


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an option error is one line (the usage block is for --help)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _seed(text: str) -> int:
    value = _whole_number(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and 2**32 - 1")
    return value


def build_parser(defaults: dict) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=Path(sys.argv[0]).name or "mnist_classification.py",
        description=(
            "Train and evaluate neural networks on MNIST handwritten digits: a one-layer model "
            "with ten sigmoid outputs, a deeper ReLU/softmax model, and the steps between them. "
            "Figures, reports, metrics.json, the trained models and a drawing pad page are "
            "written to the output folder."
        ),
    )
    parser.add_argument(
        "--data",
        default=defaults["data"],
        metavar="PATH",
        help="a keras-layout mnist.npz or a folder with the four MNIST IDX files (gzipped or "
        "not); without it $MNIST_PATH is used, else ~/.keras/datasets/mnist.npz (downloaded "
        "there once)",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=defaults["seed"],
        metavar="N",
        help=f"seeds Python, NumPy and TensorFlow: same seed, same numbers (default: "
        f"{defaults['seed']})",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        metavar="N",
        help="train every model for N epochs (shorthand for the two options below)",
    )
    for name, models in (
        ("simple", "the models without hidden layers"),
        ("deep", "the models with hidden layers"),
    ):
        parser.add_argument(
            f"--{name}-epochs",
            type=positive_int,
            default=defaults[f"{name}_epochs"],
            metavar="N",
            help=f"epochs for {models} (default: {defaults[f'{name}_epochs']})",
        )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=defaults["batch_size"],
        metavar="N",
        help=f"training examples per step (default: {defaults['batch_size']})",
    )
    parser.add_argument(
        "--output-dir",
        default=str(defaults["output_dir"]),
        metavar="DIR",
        help="where figures, reports, metrics.json and models/ are written (default: "
        f"{defaults['output_dir']})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        default=defaults["quick"],
        help=f"smoke test: {QUICK_TRAIN_EXAMPLES:,} training and {QUICK_TEST_EXAMPLES:,} test "
        "digits instead of all of them",
    )
    parser.add_argument(
        "--show",
        action="store_true",
        default=defaults["show"],
        help="open each figure in a window (the run waits until you close it)",
    )
    return parser


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


def settings_from_command_line(defaults: dict, argv: list[str] | None = None) -> Settings:
    """Command-line options over the parameter cell's values."""
    args = vars(build_parser(defaults).parse_args(argv))
    both = args.pop("epochs")
    if both:
        args["simple_epochs"] = args["deep_epochs"] = both
    return settings_from_parameters(args)


def settings_from_parameters(values: dict) -> Settings:
    """The parameter cell's values, checked as the command line checks its options."""
    for name in ("simple_epochs", "deep_epochs", "batch_size"):
        if isinstance(values[name], bool) or not isinstance(values[name], int) or values[name] < 1:
            raise UserError(f"{name} must be a whole number of at least 1, not {values[name]!r}")
    seed = values["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise UserError(f"seed must be a whole number from 0 to 2**32 - 1, not {seed!r}")
    return Settings(
        data=values["data"],
        seed=int(values["seed"]),
        simple_epochs=int(values["simple_epochs"]),
        deep_epochs=int(values["deep_epochs"]),
        batch_size=int(values["batch_size"]),
        output_dir=Path(values["output_dir"]).expanduser(),
        quick=bool(values["quick"]),
        show=bool(values["show"]),
    )
