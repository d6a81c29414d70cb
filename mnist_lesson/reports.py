"""Tables and read-outs the lesson prints, each computed from the run's own numbers. Accuracies
and shares are shown in percent with two decimals, changes in accuracy in points."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mnist_lesson.jupyter import in_notebook


def show_table(table: pd.DataFrame, title: str) -> None:
    """A table with its title: as a notebook shows tables (HTML, the title as its caption, and
    the same as text for plain-text readers), or as text under the title in a terminal or log."""
    text = f"{title}:\n{table.to_string(max_colwidth=None)}"
    if in_notebook():
        from IPython.display import display

        html = table.style.set_caption(title).to_html()
        display({"text/html": html, "text/plain": text}, raw=True)
    else:
        print(f"\n{text}")


def percent(value: float) -> str:
    return f"{value:.2%}"


def points(value: float) -> str:
    """A change in accuracy (a fraction) in signed percentage points: ``+0.67``."""
    return f"{100 * value:+.2f}"


def points_range(values) -> str:
    """The smallest and largest of ``values`` (fractions) in signed points: ``+0.54 to +0.74``."""
    return f"{points(min(values))} to {points(max(values))}"


# --- reading a confusion matrix ---------------------------------------------------------------


def a_digit(digit: int) -> str:
    """``a 3``, ``an 8``."""
    return f"{'an' if digit == 8 else 'a'} {digit}"


def weakest_and_most_confused(matrix: np.ndarray) -> dict:
    """The digit with the lowest F1-score, with what its precision and recall count, and the
    largest cell off the diagonal: the most frequent mistake."""
    matrix = np.asarray(matrix)
    right, answered, true = np.diag(matrix), matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(right, answered, out=np.zeros(10), where=answered > 0)
    recall = np.divide(right, true, out=np.zeros(10), where=true > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(10),
                   where=precision + recall > 0)  # fmt: skip
    digit = int(np.argmin(f1))
    off_diagonal = matrix - np.diag(right)
    true_digit, answer = np.unravel_index(int(off_diagonal.argmax()), off_diagonal.shape)
    return {
        "weakest_digit": {
            "digit": digit, "precision": float(precision[digit]), "recall": float(recall[digit]),
            "f1": float(f1[digit]), "predicted_as_it": int(answered[digit]),
            "right_among_them": int(right[digit]), "true_count": int(true[digit]),
        },
        "most_frequent_mistake": {"true": int(true_digit), "predicted": int(answer),
                                  "count": int(off_diagonal.max())},
    }  # fmt: skip


def read_out(matrix: np.ndarray) -> str:
    """The weakest digit's row of the report and the most frequent mistake, in words."""
    found = weakest_and_most_confused(matrix)
    weakest, mistake = found["weakest_digit"], found["most_frequent_mistake"]
    d, right = weakest["digit"], weakest["right_among_them"]
    return (
        f"weakest digit: {d} (F1 {weakest['f1']:.3f}). Precision {weakest['precision']:.3f}: of "
        f"the {weakest['predicted_as_it']} digits it called {a_digit(d)}, {right} were {d}s. "
        f"Recall {weakest['recall']:.3f}: of the {weakest['true_count']} true {d}s, it found "
        f"{right}.\nmost frequent mistake: {a_digit(mistake['true'])} read as "
        f"{a_digit(mistake['predicted'])}, {mistake['count']} times (row {mistake['true']}, "
        f"column {mistake['predicted']} of the matrix)"
    )


def confused_pairs(matrix: np.ndarray, count: int) -> list[dict]:
    """The ``count`` largest cells off the diagonal, largest first."""
    matrix = np.asarray(matrix)
    pairs = sorted(((int(matrix[t, p]), t, p) for t in range(10) for p in range(10)
                    if t != p and matrix[t, p]), reverse=True)  # fmt: skip
    return [{"true digit": t, "read as": p, "times": n} for n, t, p in pairs[:count]]


# --- the ladder -------------------------------------------------------------------------------


def fixed_and_broken(right_above: np.ndarray, right: np.ndarray) -> dict:
    """The test digits a rung gets right that the rung above got wrong (fixed), the reverse
    (broken), and the exact McNemar p-value: the chance a fair coin splits them this unevenly."""
    from scipy.stats import binomtest

    fixed = int(np.sum(right & ~right_above))
    broken = int(np.sum(~right & right_above))
    p_value = binomtest(fixed, fixed + broken).pvalue if fixed + broken else 1.0
    return {"fixed": fixed, "broken": broken, "p_value": float(p_value)}


def ladder_table(rungs: list[dict], seed_gains: list) -> pd.DataFrame:
    """One row per rung: what it changes, its test accuracy, its gain over the rung above in
    this run and, where the benchmark measured it, the smallest and largest gain over seeds."""
    rows = []
    for rung, above, gains in zip(rungs, [None, *rungs], seed_gains):
        gain = "" if above is None else points(rung["test_accuracy"] - above["test_accuracy"])
        rows.append({
            "change": rung["change"],
            "test accuracy": percent(rung["test_accuracy"]),
            "gain (points)": gain,
            "gain over seeds (points)": "" if gains is None else points_range(gains),
        })  # fmt: skip
    return pd.DataFrame(rows, index=range(1, len(rows) + 1))


def fixed_broken_table(rungs: list[dict], seed_ranges: list) -> pd.DataFrame:
    """Each change's fixed and broken test digits and p-value in this run, each with its smallest
    and largest over the seeds where ``seed_ranges`` (from ``fixed_broken_ranges``) has them."""
    forms = {"digits fixed": ("fixed", "d"), "digits broken": ("broken", "d"),
             "p-value": ("p_value", ".2g")}  # fmt: skip
    rows = []
    for rung, ranges in zip(rungs[1:], seed_ranges[1:]):
        row = {"change": rung["change"]}
        for column, (key, form) in forms.items():
            row[column] = format(rung[key], form)
            if ranges is not None:
                row[column] += " ({} to {})".format(*(format(end, form) for end in ranges[key]))
        rows.append(row)
    return pd.DataFrame(rows, index=range(2, len(rungs) + 1))


# --- overfitting ------------------------------------------------------------------------------


def overfitting_table(histories: dict[str, dict]) -> pd.DataFrame:
    """Each training's last-epoch accuracy on its training digits as the model saw them (Keras'
    measure) and on the validation digits, the gap, and the epoch of lowest validation loss."""
    rows = {}
    for name, history in histories.items():
        train, val = history["categorical_accuracy"][-1], history["val_categorical_accuracy"][-1]
        rows[name] = {
            "training accuracy": percent(train),
            "validation accuracy": percent(val),
            "generalisation gap (points)": points(train - val),
            "lowest validation loss at epoch": int(np.argmin(history["val_loss"])) + 1,
        }
    return pd.DataFrame(rows).T


# --- weights ----------------------------------------------------------------------------------


def where_the_strongest_weights_are(kernels: dict, pixel_usage: np.ndarray) -> dict:
    """For each 784x10 kernel: the median inking of the pixels with its strongest tenth of
    weights (by each pixel's largest), against all pixels drawn (inked in a digit in twenty)."""
    drawn = pixel_usage >= 0.05
    usage = pixel_usage[drawn]
    found = {}
    for name, kernel in kernels.items():
        strength = np.abs(kernel).max(axis=1)[drawn]
        strongest = strength >= np.percentile(strength, 90)
        found[name] = {
            "all pixels drawn": float(np.median(usage)),
            "the tenth with the strongest weights": float(np.median(usage[strongest])),
        }
    return found


# --- moved digits and calibration -------------------------------------------------------------


def shifted(images: np.ndarray, pixels: int) -> np.ndarray:
    """Image i (N x 28 x 28 x 1) moved ``pixels`` down, up, right or left, by i mod 4; the
    uncovered border is background."""
    padded = np.pad(images, ((0, 0), (pixels, pixels), (pixels, pixels), (0, 0)))
    moved = np.empty_like(images)
    for direction, (down, right) in enumerate([(1, 0), (-1, 0), (0, 1), (0, -1)]):
        top, left = pixels - down * pixels, pixels - right * pixels
        moved[direction::4] = padded[direction::4, top : top + 28, left : left + 28]
    return moved


def calibration(scores: np.ndarray, digits: np.ndarray, bins: int = 10) -> dict:
    """The model's top score against how often that answer is right, in bins of the score;
    the expected calibration error is the digit-weighted mean gap between the two."""
    top = scores.max(axis=1)
    right = scores.argmax(axis=1) == digits
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(top, edges[1:-1]), 0, bins - 1)
    table, error = [], 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            mean_score, share = float(top[inside].mean()), float(right[inside].mean())
            table.append({"scores": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                          "digits": int(inside.sum()), "mean score": mean_score,
                          "right": share})  # fmt: skip
            error += inside.mean() * abs(mean_score - share)
    return {"bins": table, "expected_calibration_error": float(error)}


def calibration_table(found: dict) -> pd.DataFrame:
    rows = [{"top score": row["scores"], "digits": row["digits"],
             "mean top score": percent(row["mean score"]), "right": percent(row["right"])}
            for row in found["bins"]]  # fmt: skip
    return pd.DataFrame(rows).set_index("top score")


def confidence_summary(scores: np.ndarray, digits: np.ndarray, at_least: float) -> dict:
    """The mean top score against the share of right answers, the calibration error, and how
    often the model is wrong when its top score is at least ``at_least``."""
    top = scores.max(axis=1)
    wrong = scores.argmax(axis=1) != digits
    confident = top >= at_least
    return {
        "mean top score": float(top.mean()),
        "right": float(1 - wrong.mean()),
        "calibration error": calibration(scores, digits)["expected_calibration_error"],
        "at_least": at_least,
        "top score at least": int(confident.sum()),
        "wrong among them": int((confident & wrong).sum()),
    }


def confidence_table(summaries: dict[str, dict]) -> pd.DataFrame:
    rows = {}
    for condition, found in summaries.items():
        rows[condition] = {
            "mean top score": percent(found["mean top score"]),
            "right": percent(found["right"]),
            "calibration error (points)": f"{100 * found['calibration error']:.2f}",
            f"digits scored {found['at_least']:.0%} or more": found["top score at least"],
            "wrong among them": found["wrong among them"],
        }
    return pd.DataFrame(rows).T
