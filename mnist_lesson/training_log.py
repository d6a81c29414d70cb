"""What a learner sees while a model trains: one line per epoch."""

from __future__ import annotations

import sys
import time

from mnist_lesson.jupyter import in_notebook


def shown(logs: dict) -> dict:
    """What an epoch's line shows: every number, or for models side by side, whose logs hold a
    loss and an accuracy per output, just the accuracies."""
    side_by_side = any(key.endswith("_accuracy") and key != "val_accuracy" for key in logs)
    return {key: value for key, value in logs.items()
            if not side_by_side or key.endswith("accuracy")}  # fmt: skip


def training_log(name: str):
    """A Keras callback that reports the training of the model ``name``: a live line in a
    terminal, else one plain line per epoch (log files, pipes and notebooks get no escape codes
    or backspaces), and a step count that never passes its total, whatever
    ``steps_per_execution`` is."""
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
                line = f"\r{name} epoch {self.epoch}/{self.params['epochs']} [{bar:<30}] {done}"
                print(line + (f"/{self.total}" if self.total else ""), end="", flush=True)

        def on_epoch_end(self, epoch, logs=None):
            numbers = " - ".join(f"{key} {value:.4f}" for key, value in shown(logs or {}).items())
            seconds = time.perf_counter() - self.started
            start = "\r" if live else ""
            epoch = f"{name} epoch {self.epoch}/{self.params['epochs']}"
            print(f"{start}{epoch}: {numbers} ({seconds:.1f} s)")

    return TrainingLog()
