"""Problems a user can fix, told in one line: every error the lesson and its tools raise for bad
input (a dataset, an image, an option, a folder, a model) is a ``UserError``, which scripts print
as one ``error:`` line, exiting with status 1. It imports nothing of the project."""

from __future__ import annotations

import os
from pathlib import Path


class UserError(Exception):
    """Bad input, said in one line: what is wrong and, where it helps, what to do."""

    def _render_traceback_(self) -> list[str]:
        """What Jupyter shows for this error: its one line, not a traceback."""
        return [f"error: {self}"]


def describe_error(error: BaseException) -> str:
    """An exception's message on one line (some span several), or its type when it has none."""
    return " ".join(str(error).split()) or type(error).__name__


def display_path(path: str | os.PathLike) -> str:
    """``path`` as a user would type it: under the home folder as ``~/...``."""
    text = str(path)
    home = str(Path.home())
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home) :]
    return text
