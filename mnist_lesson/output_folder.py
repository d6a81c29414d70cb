"""Where a run writes its results: every file whole or not at all (written under a temporary
name beside its final one, renamed when complete), and one run at a time. The lesson's folder
(``one_run=True``) stages a run's files in a hidden folder; ``keep_run`` moves them in and
removes the files the previous run's manifest lists (your own files stay); later files go
straight in. A run that stops early leaves the previous run untouched or its own results with
nothing of the previous run beside them, and ``describe_state`` says which."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import tempfile
from pathlib import Path

from mnist_lesson.errors import UserError, display_path
from mnist_lesson.jupyter import in_notebook

_unfinished: set[str] = set()  # temporary files being written right now, in any folder
_saved: list[Path] = []  # every file saved, in order (for the message after Ctrl-C)


def remove_unfinished_files() -> None:
    """Remove every file that is being written right now (after Ctrl-C or an error)."""
    for temporary in list(_unfinished):
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        _unfinished.discard(temporary)


def saved_files() -> list[Path]:
    return list(dict.fromkeys(_saved))


@contextlib.contextmanager
def _interrupts_deferred():
    """Ctrl-C waits until the block is done (where the platform allows it)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _create_exclusive(folder: Path, prefix: str, suffix: str) -> str:
    """A new empty file in ``folder``, with the permissions the user's umask gives new files."""
    while True:
        path = folder / f"{prefix}{secrets.token_hex(4)}{suffix}"
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return str(path)


def _write_atomically(final: Path, write_to) -> None:
    """``write_to(temporary_path)`` beside ``final``, then the finished file renamed to it."""
    temporary = _create_exclusive(final.parent, f".{final.name}.", f".part{final.suffix}")
    _unfinished.add(temporary)
    try:
        write_to(temporary)
        os.replace(temporary, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    finally:
        _unfinished.discard(temporary)


class OutputFolder:
    """A folder of results; see the module's docstring."""

    MANIFEST = ".mnist_lesson_files.json"
    STAGING = ".mnist_lesson_incomplete_run"

    def __init__(self, path: str | os.PathLike, show: bool = False, one_run: bool = False):
        self.path = Path(path)
        self.show = show
        self.one_run = one_run
        self.kept = not one_run  # a plain folder writes in place from the start
        self.written: list[str] = []
        self._created: list[Path] = []  # folders this run made, to remove if it keeps nothing

    # --- writing --------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Fail now, not after minutes of training, when the folder cannot be used; nothing is
        created (the nearest folder that exists is checked)."""
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
            raise UserError(
                f"output folder {display_path(self.path)} cannot be used: {reason}"
            ) from None

    def write(self, name: str, write_to) -> Path:
        """Call ``write_to(temporary_path)``, then rename the finished file to ``name``; returns
        where the file is now (in the staging folder until ``keep_run``)."""
        final = self._root() / name
        self._make_folder(final.parent)
        _write_atomically(final, write_to)
        self.written.append(Path(name).as_posix())
        _saved.append(self.path / name)
        if self.one_run and self.kept:
            # Listed at once, so that the next run removes it even if this one stops here.
            self._write_manifest(self._listed() | set(self.written))
        return final

    def save_text(self, name: str, text: str) -> Path:
        return self.write(name, lambda path: Path(path).write_text(text, encoding="utf-8"))

    def save_json(self, name: str, data: dict) -> Path:
        return self.save_text(name, json.dumps(data, indent=2) + "\n")

    def save_and_show(self, figure, name: str) -> None:
        """Save ``figure`` as a PNG, then show it inline (Jupyter), in a window (--show), or
        just release it. No figure (a plot that stepped aside), nothing to do."""
        import matplotlib.pyplot as plt

        if figure is None:
            return
        self.write(name, lambda path: figure.savefig(path, format="png", dpi=100))
        if in_notebook() or self.show:
            plt.show()
        else:
            plt.close(figure)

    def save_image(self, image, name: str) -> Path:
        """A Pillow image as PNG."""
        return self.write(name, lambda path: image.save(path, format="PNG"))

    def save_model(self, model, name: str) -> Path:
        return self.write(name, model.save)

    # --- one run at a time ----------------------------------------------------------------

    def keep_run(self) -> None:
        """Move this run's files into the folder, replacing the previous run's: from here on
        the folder holds this run's results only."""
        if self.kept:
            return
        previous = self._listed()
        with _interrupts_deferred():
            staging = self.path / self.STAGING
            for name in dict.fromkeys(self.written):
                target = self.path / name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / name, target)
            self.kept = True
            for name in sorted(previous - set(self.written)):
                self._remove_listed(name)
            self._write_manifest(set(self.written))
            shutil.rmtree(staging, ignore_errors=True)

    def finish(self, metrics: dict) -> None:
        """Keep this run (if not yet kept) and write ``metrics.json`` last."""
        self.keep_run()
        self.save_json("metrics.json", metrics)
        print(f"results saved in {display_path(self.path)}/")

    def abandon(self) -> None:
        """After an error or Ctrl-C: drop what this run has not kept yet (half-written files,
        the staging folder, folders it made for them). What it kept stays."""
        remove_unfinished_files()
        if self.kept:
            return
        shutil.rmtree(self.path / self.STAGING, ignore_errors=True)
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty

    def describe_state(self) -> str:
        """What the folder holds after this run stopped early, in a few words."""
        shown = display_path(self.path)
        if self.kept:
            return f"{shown}/ holds this run's results so far and nothing of the previous run"
        if self._listed():
            return f"{shown}/ still holds the previous run's results, untouched"
        return "nothing was saved"

    # --- bookkeeping ----------------------------------------------------------------------

    def _root(self) -> Path:
        if self.kept:
            return self.path
        staging = self.path / self.STAGING
        if not self.written and staging.exists():  # left by a run that was killed
            shutil.rmtree(staging, ignore_errors=True)
        return staging

    def _make_folder(self, folder: Path) -> None:
        missing = []
        while not folder.exists() and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
        for new in reversed(missing):
            new.mkdir(exist_ok=True)
            self._created.append(new)

    def _remove_listed(self, name: str) -> None:
        stale = self.path / name
        with contextlib.suppress(OSError):
            stale.unlink()
            for folder in stale.parents:  # folders the lesson made and nothing else uses
                if folder == self.path or not folder.is_relative_to(self.path):
                    break
                folder.rmdir()

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
            and Path(name).parts[0] != self.STAGING
        }

    def _write_manifest(self, names: set[str]) -> None:
        text = json.dumps(sorted(names), indent=2) + "\n"
        _write_atomically(self.path / self.MANIFEST, lambda path: Path(path).write_text(text))
