"""Tables the lesson prints, formatted for reading."""

from __future__ import annotations

import pandas as pd

from mnist_lesson.jupyter import in_notebook


def show_table(table: pd.DataFrame) -> None:
    """A table as a notebook shows tables (HTML), or as plain text in a terminal or a log."""
    if in_notebook():
        from IPython.display import display

        display(table)
    else:
        print(table.to_string())


def ladder_table(rungs: list[dict], test_count: int) -> pd.DataFrame:
    """One row per rung of the ladder: what it is, how well it does, and its gain in test
    accuracy over the rung above, in percentage points."""
    rows = []
    for rung, above in zip(rungs, [None, *rungs]):
        gain = (
            ""
            if above is None
            else f"{100 * (rung['test_accuracy'] - above['test_accuracy']):+.2f}"
        )
        rows.append(
            {
                "change": rung["change"],
                "hidden layers": " x ".join(map(str, rung["hidden_layers"])) or "none",
                "hidden activation": rung["hidden_activation"] or "-",
                "output activation": rung["output_activation"],
                "loss": rung["loss"].replace("_crossentropy", " cross-entropy"),
                "epochs": rung["epochs"],
                "learning rate": rung["learning_rate"],
                "validation accuracy": f"{rung['validation_accuracy']:.2%}",
                "test accuracy": f"{rung['test_accuracy']:.2%}",
                f"test errors (of {test_count:,})": round((1 - rung["test_accuracy"]) * test_count),
                "gain (points)": gain,
            }
        )
    return pd.DataFrame(rows, index=range(1, len(rows) + 1))
