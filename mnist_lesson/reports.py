"""Tables and read-outs the lesson prints, each computed from the run's own numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mnist_lesson.benchmark_results import points, points_range
from mnist_lesson.jupyter import in_notebook


def show_table(table: pd.DataFrame) -> None:
    """A table as a notebook shows tables (HTML), or as plain text in a terminal or a log."""
    if in_notebook():
        from IPython.display import display

        display(table)
    else:
        print(table.to_string(max_colwidth=None))


def ladder_table(
    rungs: list[dict], test_count: int, seed_gains: list | None = None
) -> pd.DataFrame:
    """One row per rung of the ladder: what it changes, its settings, how well it does, its gain
    in test accuracy over the rung above in this run and, where ``seed_gains`` has them, the
    smallest and largest paired gain over the benchmark's seeds."""
    rows = []
    for index, (rung, above) in enumerate(zip(rungs, [None, *rungs])):
        hidden = rung["hidden_layers"]
        if all(isinstance(width, int) for width in hidden):
            hidden = " x ".join(map(str, hidden)) or "none"
        else:
            hidden = ", ".join(hidden)
        row = {
            "change": rung["change"],
            "hidden layers": hidden,
            "hidden activation": rung["hidden_activation"] or "-",
            "output": rung["output_activation"],
            "loss": rung["loss"].replace("_crossentropy", " cross-entropy"),
            "epochs": rung["epochs"],
            "learning rate": rung["learning_rate"],
            "shift (px)": rung["shift_pixels"],
            "validation accuracy": f"{rung['validation_accuracy']:.2%}",
            "test accuracy": f"{rung['test_accuracy']:.2%}",
            f"test errors (of {test_count:,})": round((1 - rung["test_accuracy"]) * test_count),
            "gain (points)": ""
            if above is None
            else points(rung["test_accuracy"] - above["test_accuracy"]),
        }
        if seed_gains is not None:
            gains = seed_gains[index]
            row["gain over seeds (min to max)"] = "" if gains is None else points_range(gains)
        rows.append(row)
    return pd.DataFrame(rows, index=range(1, len(rows) + 1))


def weakest_digit(report: dict, matrix: np.ndarray) -> dict:
    """The digit with the lowest F1 score in a ``classification_report(output_dict=True)``,
    with what its precision and recall count."""
    digit = min(range(10), key=lambda d: report[str(d)]["f1-score"])
    row = report[str(digit)]
    return {
        "digit": digit,
        "precision": row["precision"],
        "recall": row["recall"],
        "f1": row["f1-score"],
        "predicted_as_it": int(matrix[:, digit].sum()),
        "right_among_them": int(matrix[digit, digit]),
        "true_count": int(matrix[digit].sum()),
    }


def a_digit(digit: int) -> str:
    """``a 3``, ``an 8``."""
    return f"{'an' if digit == 8 else 'a'} {digit}"


def read_weakest_digit(weakest: dict) -> str:
    d, right = weakest["digit"], weakest["right_among_them"]
    return (
        f"weakest digit: {d} (F1 {weakest['f1']:.3f}). Precision {weakest['precision']:.3f}: of "
        f"the {weakest['predicted_as_it']} digits it called {a_digit(d)}, {right} were {d}s. "
        f"Recall {weakest['recall']:.3f}: of the {weakest['true_count']} true {d}s, it found "
        f"{right}."
    )


def largest_confusion(matrix: np.ndarray) -> dict:
    """The largest cell off the confusion matrix's diagonal: the most frequent mistake."""
    off_diagonal = np.array(matrix, copy=True)
    np.fill_diagonal(off_diagonal, 0)
    true, predicted = np.unravel_index(int(off_diagonal.argmax()), off_diagonal.shape)
    return {"true": int(true), "predicted": int(predicted), "count": int(off_diagonal.max())}


def read_largest_confusion(cell: dict) -> str:
    return (
        f"most frequent mistake: {a_digit(cell['true'])} read as {a_digit(cell['predicted'])}, "
        f"{cell['count']} times (row {cell['true']}, column {cell['predicted']} of the matrix)"
    )


def confidence_summary(probabilities: np.ndarray, digits: np.ndarray, at_least: float) -> dict:
    """The mean top score against the share of right answers, the calibration error, and how
    often the model is wrong when its top score is at least ``at_least``."""
    top = probabilities.max(axis=1)
    wrong = probabilities.argmax(axis=1) != digits
    confident = top >= at_least
    return {
        "mean top score": float(top.mean()),
        "right": float(1 - wrong.mean()),
        "calibration error": calibration(probabilities, digits)["expected_calibration_error"],
        f"top score >= {at_least}": int(confident.sum()),
        "wrong among them": int((confident & wrong).sum()),
    }


def calibration(probabilities: np.ndarray, digits: np.ndarray, bins: int = 10) -> dict:
    """The model's highest score against how often that answer is right, in bins of the score;
    the expected calibration error is the digit-weighted mean gap between the two."""
    scores = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == digits
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    table, error = [], 0.0
    for b in range(bins):
        inside = which == b
        if not inside.any():
            continue
        mean_score, accuracy = float(scores[inside].mean()), float(right[inside].mean())
        table.append({"scores": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "digits": int(inside.sum()),
                      "mean score": mean_score, "right": accuracy})  # fmt: skip
        error += inside.mean() * abs(mean_score - accuracy)
    return {"bins": table, "expected_calibration_error": float(error)}
