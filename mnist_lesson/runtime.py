"""The plumbing that keeps ``mnist_classification.py`` a plain lesson.

``start_lesson`` turns the lesson's parameter cell into settings. In Jupyter the cell's values are
used as they are; run as a script, the command line is read first, before anything heavy is
imported, so ``--help`` and option errors answer at once. Then TensorFlow is imported with its
start-up log lines hidden, every random generator is seeded, Ctrl-C ends a script with one line
and exit status 130, and the project's own errors become one line on stderr instead of a
traceback. ``OutputFolder`` writes every result atomically (a file appears whole under its final
name or not at all) and, once a run has finished, removes what an earlier run of the lesson left
there that this run did not write again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class LessonError(Exception):
    """A problem the user can fix (options, paths); reported as one line, exit status 1."""


def in_notebook() -> bool:
    """True inside a Jupyter kernel, where the parameter cell, not sys.argv, holds the settings."""
    ipython = sys.modules.get("IPython")  # never imported here: only a kernel would have it
    shell = ipython.get_ipython() if ipython else None
    return shell is not None and hasattr(shell, "kernel")  # a terminal IPython has no kernel


def display_path(path: str | os.PathLike) -> str:
    """``path`` as a user would type it: under the home folder as ``~/...``."""
    text = str(path)
    home = str(Path.home())
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home) :]
    return text


# --- the command line -------------------------------------------------------------------------


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


def _existing_path(text: str) -> str:
    if not Path(text).expanduser().exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file or folder")
    return text


QUICK_TRAIN_EXAMPLES = 3_000
QUICK_TEST_EXAMPLES = 1_000


def build_parser(defaults: dict) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=Path(sys.argv[0]).name or "mnist_classification.py",
        description=(
            "Train and evaluate two neural networks on MNIST handwritten digits: a one-layer "
            "sigmoid model and a deeper ReLU/softmax model. Figures, reports, metrics.json, the "
            "trained models and a drawing pad page are written to the output folder."
        ),
    )
    parser.add_argument(
        "--data",
        type=_existing_path,
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
        help="train both models for N epochs (shorthand for the two options below)",
    )
    for name, model in (("simple", "the one-layer sigmoid model"), ("deep", "the deeper model")):
        parser.add_argument(
            f"--{name}-epochs",
            type=positive_int,
            metavar="N",
            help=f"epochs for {model} (default: {defaults[f'{name}_epochs']}, 1 with --quick)",
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
        help=f"smoke test: {QUICK_TRAIN_EXAMPLES} training and {QUICK_TEST_EXAMPLES} test "
        "digits, one epoch per model unless epochs are given",
    )
    parser.add_argument(
        "--show",
        action="store_true",
        default=defaults["show"],
        help="open each figure in a window (the run waits until you close it)",
    )
    return parser


# --- settings ---------------------------------------------------------------------------------


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
    """Command-line options over the parameter cell's values; epochs given on the command line
    hold in --quick mode too."""
    args = vars(build_parser(defaults).parse_args(argv))
    both = args.pop("epochs")
    for name in ("simple_epochs", "deep_epochs"):
        args[name] = both or args[name] or (1 if args["quick"] else defaults[name])
    return _settings(args)


def settings_from_parameter_cell(parameters: dict) -> Settings:
    """The parameter cell's values; ``quick`` trains one epoch per model."""
    if parameters["quick"]:
        parameters = parameters | {"simple_epochs": 1, "deep_epochs": 1}
    return _settings(parameters)


def _settings(values: dict) -> Settings:
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


def start_lesson(**parameters) -> tuple[Settings, OutputFolder]:
    """Settings for this run and the folder its results go to.

    ``parameters`` are the lesson's parameter cell; run as a script, command-line options
    override them. Before returning, the output folder is checked (so a bad one fails before any
    training), TensorFlow is imported quietly, and every random generator (Python, NumPy,
    TensorFlow) is seeded with TensorFlow's ops made deterministic: the same seed gives the same
    numbers on the same machine and library versions.
    """
    if in_notebook():
        settings = settings_from_parameter_cell(parameters)
    else:
        settings = settings_from_command_line(parameters)
        install_script_handlers()
        if not settings.show:
            import matplotlib

            matplotlib.use("Agg")
    outputs = OutputFolder(settings.output_dir, show=settings.show, one_run=True)
    outputs.check_writable()
    tf = import_tensorflow_quietly()
    make_reproducible(settings.seed)
    import keras

    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, seed {settings.seed}")
    return settings, outputs


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


def import_tensorflow_quietly():
    """TensorFlow, imported without its start-up log (oneDNN, CUDA probing) on the screen.

    Its C++ runtime logs before its log level applies, and Jupyter shows what C++ writes to
    stderr too; a learner should read the lesson, not that."""
    with _stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
    # Keras builds a few models in one run; TensorFlow's retracing advice is not for learners.
    tf.get_logger().setLevel("ERROR")
    return tf


_deterministic_ops = False


def make_reproducible(seed: int) -> None:
    import keras
    import tensorflow as tf

    global _deterministic_ops
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    _deterministic_ops = True


def cpu_features() -> list[str]:
    """The vector instruction sets of this processor that matter for TensorFlow's speed and
    for its exact numbers (oneDNN picks its kernels by them)."""
    wanted = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])  # fmt: skip
    return [flag for flag in wanted if flag in flags]


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
        "cpu_features": cpu_features(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "cpu_count": os.cpu_count(),
        "gpus": [device.name for device in tf.config.list_physical_devices("GPU")],
        "deterministic_ops": _deterministic_ops,
    }


# --- training progress ------------------------------------------------------------------------


def training_log():
    """A Keras callback that reports training: a live line in a terminal, else one plain line
    per epoch (log files, pipes and notebooks get no escape codes or backspaces), and a step
    count that never passes its total, whatever ``steps_per_execution`` is."""
    import keras

    live = sys.stdout.isatty() and not in_notebook()

    class TrainingLog(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.started = epoch + 1, time.perf_counter()
            self.total = self.params.get("steps") or 0

        def on_train_batch_end(self, batch, logs=None):
            if live:
                done = min(batch + 1, self.total) if self.total else batch + 1
                bar = "=" * (30 * done // self.total) if self.total else ""
                line = f"\rEpoch {self.epoch}/{self.params['epochs']} [{bar:<30}] {done}"
                print(line + (f"/{self.total}" if self.total else ""), end="", flush=True)

        def on_epoch_end(self, epoch, logs=None):
            numbers = " - ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items())
            seconds = time.perf_counter() - self.started
            start = "\r" if live else ""
            print(f"{start}Epoch {self.epoch}/{self.params['epochs']}: {numbers} ({seconds:.1f} s)")

    return TrainingLog()


# --- errors and Ctrl-C in a script ------------------------------------------------------------

_saved_files: list[Path] = []
_unfinished: set[str] = set()  # temporary files being written right now


def _saved_summary() -> str:
    if not _saved_files:
        return "nothing was saved yet"
    return "saved so far: " + ", ".join(str(path) for path in dict.fromkeys(_saved_files))


def _on_interrupt(signum, frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the message
    print(f"\ninterrupted: {_saved_summary()}", file=sys.stderr, flush=True)
    for temporary in list(_unfinished):  # a half-written file never stays behind
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    sys.stdout.flush()
    # Exit at once: unwinding through a running TensorFlow and finalizing the interpreter
    # while its threads work can crash the process (seen as SIGSEGV instead of status 130).
    os._exit(130)


def _report_user_errors(kind, error, tb):
    from mnist_lesson.data import DataError
    from mnist_lesson.handwriting import ImageError

    if issubclass(kind, (DataError, ImageError, LessonError)):
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
    """Where a run writes its results, each file replaced whole or not at all.

    The folder is created with the first file, so a run that fails before saving anything
    leaves nothing behind. With ``one_run=True`` (the lesson's folder) every file written is
    listed in ``MANIFEST``, and ``finish`` removes the files an earlier run listed there that
    this run did not write again (only those: what the user put in the folder stays), so the
    folder holds one run's results, never a mix.
    """

    MANIFEST = ".mnist_lesson_files.json"

    def __init__(self, path: str | os.PathLike, show: bool = False, one_run: bool = False):
        self.path = Path(path)
        self.show = show
        self.one_run = one_run
        self.written: list[str] = []

    def check_writable(self) -> None:
        """Fail now, not after minutes of training, when the folder cannot be used.

        Nothing is created: the nearest folder that exists is checked instead."""
        existing = self.path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        try:
            if not existing.is_dir():
                raise NotADirectoryError(f"{display_path(existing)} is a file")
            with tempfile.TemporaryFile(dir=existing):
                pass
        except OSError as error:
            reason = error.strerror or str(error) or type(error).__name__
            raise LessonError(
                f"output folder {display_path(self.path)} cannot be used: {reason}"
            ) from None

    def write(self, name: str, write_to) -> Path:
        """Call ``write_to(temporary_path)``, then rename the finished file to ``name``."""
        final = self.path / name
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=final.parent, prefix=f".{final.name}.", suffix=f".part{final.suffix}"
        )
        _unfinished.add(temporary)
        os.close(handle)
        try:
            write_to(temporary)
            os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp's private 0600 is not what users expect
            os.replace(temporary, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        finally:
            _unfinished.discard(temporary)
        if name != self.MANIFEST:
            _saved_files.append(final)
            self.written.append(Path(name).as_posix())
        if self.one_run and name != self.MANIFEST:
            # Listed at once, so that files of an interrupted run are cleaned up by the next one.
            self._write_manifest(self._listed() | set(self.written))
        return final

    def save_text(self, name: str, text: str) -> Path:
        return self.write(name, lambda path: Path(path).write_text(text, encoding="utf-8"))

    def save_json(self, name: str, data: dict) -> Path:
        return self.save_text(name, json.dumps(data, indent=2) + "\n")

    def save_and_show(self, figure, name: str) -> Path:
        """Save ``figure`` as a PNG, then show it inline (Jupyter), in a window (--show), or
        just release it."""
        import matplotlib.pyplot as plt

        saved = self.write(name, lambda path: figure.savefig(path, format="png", dpi=100))
        if in_notebook() or self.show:
            plt.show()
        else:
            plt.close(figure)
        return saved

    def save_image(self, image, name: str) -> Path:
        """A Pillow image as PNG."""
        return self.write(name, lambda path: image.save(path, format="PNG"))

    def save_model(self, model, name: str) -> Path:
        return self.write(name, model.save)

    def finish(self, metrics: dict) -> Path:
        """Save ``metrics.json`` last, then remove what an earlier run left that this run did
        not write again."""
        saved = self.save_json("metrics.json", metrics)
        for name in sorted(self._listed() - set(self.written)):
            stale = self.path / name
            with contextlib.suppress(OSError):
                stale.unlink()
                for folder in stale.parents:  # folders the lesson made and nothing else uses
                    if folder == self.path or not folder.is_relative_to(self.path):
                        break
                    folder.rmdir()
        self._write_manifest(set(self.written))
        print(f"results saved in {display_path(self.path)}/")
        return saved

    def _listed(self) -> set[str]:
        """The files the manifest lists, ignoring any entry that points outside the folder."""
        try:
            names = json.loads((self.path / self.MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return set()
        if not isinstance(names, list):
            return set()
        return {
            name
            for name in names
            if isinstance(name, str)
            and name
            and not Path(name).is_absolute()
            and ".." not in Path(name).parts
        }

    def _write_manifest(self, names: set[str]) -> None:
        self.save_json(self.MANIFEST, sorted(names))
