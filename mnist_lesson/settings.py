"""The lesson's settings: its parameter cell in Jupyter, the command line in a script. The parser
imports nothing heavy, so ``--help`` and (one-line) option errors answer at once. ``quick`` means
a small subset of MNIST everywhere, with the epochs as they are set."""

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


def _whole_number(text: str, least: int = 1, below: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least or (below is not None and value >= below):
        limits = f"between {least} and 2**32 - 1" if below else f"at least {least}"
        raise argparse.ArgumentTypeError(f"{value} must be {limits}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text)


def _seed(text: str) -> int:
    return _whole_number(text, least=0, below=2**32)


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
    add = parser.add_argument
    add("--data", default=defaults["data"], metavar="PATH",
        help="a keras-layout mnist.npz or a folder with the four MNIST IDX files (gzipped or "
        "not); without it $MNIST_PATH is used, else ~/.keras/datasets/mnist.npz (downloaded "
        "there once)")  # fmt: skip
    add("--seed", type=_seed, default=defaults["seed"], metavar="N",
        help=f"where every random draw starts: same seed, same numbers (default: "
        f"{defaults['seed']})")  # fmt: skip
    add("--epochs", type=positive_int, metavar="N",
        help="train every model for N epochs (shorthand for the two options below)")  # fmt: skip
    for name, models in (("simple", "without"), ("deep", "with")):
        add(f"--{name}-epochs", type=positive_int, default=defaults[f"{name}_epochs"],
            metavar="N", help=f"epochs for the models {models} hidden layers (default: "
            f"{defaults[f'{name}_epochs']})")  # fmt: skip
    add("--batch-size", type=positive_int, default=defaults["batch_size"], metavar="N",
        help=f"training digits per step (default: {defaults['batch_size']})")  # fmt: skip
    add("--output-dir", default=str(defaults["output_dir"]), metavar="DIR",
        help="where figures, reports, metrics.json and models/ are written (default: "
        f"{defaults['output_dir']})")  # fmt: skip
    add("--quick", action="store_true", default=defaults["quick"],
        help=f"smoke test: {QUICK_TRAIN_EXAMPLES:,} training and {QUICK_TEST_EXAMPLES:,} test "
        "digits instead of all of them")  # fmt: skip
    add("--show", action="store_true", default=defaults["show"],
        help="open each figure in a window (the run waits until you close it)")  # fmt: skip
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
    return Settings(**{**values, "output_dir": Path(values["output_dir"]).expanduser(),
                       "quick": bool(values["quick"]), "show": bool(values["show"])})  # fmt: skip
