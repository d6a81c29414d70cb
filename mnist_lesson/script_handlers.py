"""How a script ends early: Ctrl-C (status 130) and a ``UserError`` (status 1) each become one
line on stderr, after removing what is half-written, saying what the output folder holds. Other
exceptions keep their traceback, followed by that line. Warnings print as one line each."""

from __future__ import annotations

import os
import signal
import sys
import warnings

from mnist_lesson.errors import UserError
from mnist_lesson.output_folder import OutputFolder, remove_unfinished_files, saved_files

_lesson_folder: OutputFolder | None = None


def _state_after_stop() -> str:
    """Clean up after a run that stopped early; say what is left."""
    if _lesson_folder is not None:
        _lesson_folder.abandon()
        return _lesson_folder.describe_state()
    remove_unfinished_files()
    saved = saved_files()
    if not saved:
        return "nothing was saved yet"
    return "saved so far: " + ", ".join(str(path) for path in saved)


def _on_interrupt(signum, frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the message
    print(f"\ninterrupted: {_state_after_stop()}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    # Exit at once: unwinding through a running TensorFlow and finalizing the interpreter
    # while its threads work can crash the process (seen as SIGSEGV instead of status 130).
    os._exit(130)


def _report_errors(kind, error, tb):
    state = _state_after_stop()
    if issubclass(kind, UserError):
        where = f" ({state})" if _lesson_folder is not None else ""
        print(f"error: {error}{where}", file=sys.stderr, flush=True)
        return
    sys.__excepthook__(kind, error, tb)
    if _lesson_folder is not None:
        print(f"({state})", file=sys.stderr, flush=True)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"


def install_script_handlers(lesson_folder: OutputFolder | None = None) -> None:
    """In a script: Ctrl-C, the user's errors and warnings each become one line. With the
    lesson's output folder, an early stop also drops what the run has not kept."""
    global _lesson_folder
    _lesson_folder = lesson_folder
    signal.signal(signal.SIGINT, _on_interrupt)
    sys.excepthook = _report_errors
    warnings.formatwarning = _one_line_warning
