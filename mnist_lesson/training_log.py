"""What a learner sees while models train: before training, then every epoch, one line per
model with its loss and accuracy on the training digits and on the validation digits."""

from __future__ import annotations

import sys
import time

from mnist_lesson.jupyter import in_notebook


def per_model(logs: dict, names: list[str]) -> dict[str, dict[str, float]]:
    """Keras' logs split by model: ``{name: {"loss", "accuracy", "val_loss", "val_accuracy"}}``.

    Models trained side by side in one Keras model log ``deep_loss``, ``val_deep_accuracy``
    and so on; a model trained alone logs ``loss``, ``val_accuracy``."""
    split = {}
    for name in names:
        prefix = f"{name}_" if len(names) > 1 else ""
        split[name] = {
            f"{kind}{measure}": logs[f"{kind}{prefix}{measure}"]
            for kind in ("", "val_")
            for measure in ("loss", "accuracy")
            if f"{kind}{prefix}{measure}" in logs
        }
    return split


def format_lines(numbers: dict[str, dict[str, float]]) -> list[str]:
    """One line per model: ``deep  loss 0.2922  accuracy 0.9089 | validation loss ...``."""
    width = max(map(len, numbers))
    lines = []
    for name, values in numbers.items():
        training = "  ".join(
            f"{measure} {values[measure]:.4f}"
            for measure in ("loss", "accuracy")
            if measure in values
        )
        validation = "  ".join(
            f"{measure} {values['val_' + measure]:.4f}"
            for measure in ("loss", "accuracy")
            if "val_" + measure in values
        )
        lines.append(f"  {name:<{width}}  {training:<29} | validation {validation}".rstrip())
    return lines


def training_log(names: list[str], untrained: dict):
    """A Keras callback that reports the training of the models ``names`` (side by side in one
    Keras model): first their validation numbers before training (``untrained``, from
    ``evaluate``), then after every epoch. In a terminal a live step count runs during each
    epoch; log files, pipes and notebooks get plain lines, with no escape codes or
    backspaces, and a step count never passes its total, whatever ``steps_per_execution``."""
    import keras

    live = sys.stdout.isatty() and not in_notebook()
    before = {name: {f"val_{key}": value for key, value in numbers.items()}
              for name, numbers in per_model(untrained, names).items()}  # fmt: skip
    print("before training", *format_lines(before), sep="\n")

    class TrainingLog(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.started = epoch + 1, time.perf_counter()
            self.total = self.params.get("steps") or 0

        def on_train_batch_end(self, batch, logs=None):
            if live:
                done = min(batch + 1, self.total) if self.total else batch + 1
                bar = "=" * (30 * done // self.total) if self.total else ""
                line = f"\repoch {self.epoch}/{self.params['epochs']} [{bar:<30}] {done}"
                print(line + (f"/{self.total}" if self.total else ""), end="", flush=True)

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.started
            start = "\r\x1b[K" if live else ""
            print(f"{start}epoch {self.epoch}/{self.params['epochs']} ({seconds:.1f} s)")
            print(*format_lines(per_model(logs or {}, names)), sep="\n")

    return TrainingLog()
