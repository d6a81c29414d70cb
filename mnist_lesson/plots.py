"""Figures for the MNIST lesson: each function draws one figure and returns it.

Saving and showing are left to the caller, so the same figure serves Jupyter, a window and a PNG.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.ticker import MaxNLocator


def digit_grid(images, titles, columns: int = 10, cell_size: float = 1.1):
    """Digits in a grid, each with a short title (a label, a prediction)."""
    rows = max(1, int(np.ceil(len(images) / columns)))
    figure, axes = plt.subplots(
        rows, columns, figsize=(columns * cell_size, rows * (cell_size + 0.25)), squeeze=False
    )
    for axis in axes.flat:
        axis.axis("off")
    for axis, image, title in zip(axes.flat, images, titles):
        axis.imshow(np.reshape(image, (28, 28)), cmap="gray_r")
        axis.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure


def confusion_heatmap(matrix, title: str):
    """Counts of (true digit, predicted digit) pairs; the diagonal holds the correct answers."""
    figure, axis = plt.subplots(figsize=(7.5, 6.2))
    sns.heatmap(
        matrix, annot=True, fmt="d", cmap="Blues", cbar=True, ax=axis, annot_kws={"size": 8}
    )
    axis.set_xlabel("predicted digit")
    axis.set_ylabel("true digit")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def training_curves(histories: dict[str, dict], loss_names: dict[str, str]):
    """Accuracy per epoch of each model, training (solid) and validation (dashed), on one axis;
    then each model's loss on an axis of its own: losses of different kinds (a binary
    cross-entropy averaged over ten outputs, a categorical cross-entropy) are not on one
    scale."""
    figure, axes = plt.subplots(1, 1 + len(histories), figsize=(5 + 4 * len(histories), 4))
    accuracy_axis, loss_axes = axes[0], axes[1:]
    for (name, history), color, loss_axis in zip(histories.items(), sns.color_palette(), loss_axes):
        epochs = np.arange(1, len(history["loss"]) + 1)
        for axis, key in ((accuracy_axis, "accuracy"), (loss_axis, "loss")):
            axis.plot(epochs, history[key], "-o", color=color, label=f"{name}, training")
            axis.plot(
                epochs, history[f"val_{key}"], "--s", color=color, label=f"{name}, validation"
            )
        loss_axis.set(ylabel=f"loss ({loss_names[name]})", title=f"{name} model: loss")
    accuracy_axis.set(ylabel="accuracy", title="Accuracy")
    for axis in axes:
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def signal_through_layers(
    spread: dict[str, list], norms: dict[str, list], val_accuracy: dict[str, list]
):
    """Left: how much each hidden layer's activations differ from digit to digit; middle: each
    hidden layer's gradient norm (both at initialization, log scale). Right: validation
    accuracy per epoch of the same stacks trained briefly."""
    figure, (spread_axis, norm_axis, accuracy_axis) = plt.subplots(1, 3, figsize=(15, 4))
    for axis, series, ylabel, title in (
        (spread_axis, spread, "spread of activations over digits", "Forward: the signal"),
        (norm_axis, norms, "gradient norm of the layer's weights", "Backward: the gradient"),
    ):
        _line_per_stack(axis, series, "hidden layer (1 = next to the input)")
        axis.set_yscale("log")
        axis.set(ylabel=ylabel, title=f"{title}, at initialization")
    _line_per_stack(accuracy_axis, val_accuracy, "epoch")
    accuracy_axis.set(ylabel="validation accuracy", title="Learning, same stack and optimizer")
    figure.tight_layout()
    return figure


def _line_per_stack(axis, series: dict[str, list], xlabel: str):
    for (name, values), color in zip(series.items(), sns.color_palette()):
        axis.plot(
            np.arange(1, len(values) + 1), values, "-o", color=color, label=f"{name} hidden layers"
        )
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel(xlabel)
    axis.grid(alpha=0.3)
    axis.legend()


def shift_accuracy(pixels: list[int], accuracy: dict[str, list]):
    """Test accuracy of each model on digits moved by each number of pixels."""
    figure, axis = plt.subplots(figsize=(6.5, 4))
    for (name, values), color in zip(accuracy.items(), sns.color_palette()):
        axis.plot(pixels, values, "-o", color=color, label=name)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set(xlabel="pixels the test digits are moved by", ylabel="test accuracy", ylim=(0, 1))
    axis.set_title("Dense layers and shifted digits")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    return figure


def weight_images(kernel, pixel_usage, min_usage: float = 0.05):
    """The simple model's 784x10 weights as ten 28x28 images: red pixels vote for the digit,
    blue pixels against it. Pixels inked in fewer than ``min_usage`` of the training digits are
    greyed out: their weights were rarely used, so they say little about the digits. The colour
    scale ends at the 99th percentile of the other weights, so a few extremes do not wash out
    the pattern."""
    rarely_used = np.reshape(pixel_usage, (28, 28)) < min_usage
    limit = float(np.percentile(np.abs(kernel[~rarely_used.ravel()]), 99))
    colors = plt.get_cmap("RdBu_r").copy()
    colors.set_bad("0.85")
    figure, axes = plt.subplots(2, 5, figsize=(10, 4.4))
    for digit, axis in enumerate(axes.flat):
        weights = np.ma.masked_where(rarely_used, kernel[:, digit].reshape(28, 28))
        image = axis.imshow(weights, cmap=colors, vmin=-limit, vmax=limit)
        axis.set_title(f"digit {digit}")
        axis.axis("off")
    figure.colorbar(image, ax=axes, shrink=0.8, label="weight")
    return figure


def probability_bars(images, probabilities, labels):
    """Each digit beside the model's ten output probabilities (they sum to 1)."""
    count = len(images)
    figure, axes = plt.subplots(
        count, 2, figsize=(7, 1.5 * count), width_ratios=(1, 3), layout="constrained"
    )
    for row, (image, probs, label) in enumerate(zip(images, probabilities, labels)):
        image_axis, bar_axis = axes[row]
        image_axis.imshow(np.reshape(image, (28, 28)), cmap="gray_r")
        image_axis.set_title(f"true {label}", fontsize=9)
        image_axis.axis("off")
        colors = ["tab:green" if digit == label else "tab:gray" for digit in range(10)]
        bar_axis.bar(range(10), probs, color=colors)
        bar_axis.set_xticks(range(10))
        bar_axis.set_ylim(0, 1)
        bar_axis.set_ylabel("probability", fontsize=8)
    axes[-1][1].set_xlabel("digit")
    return figure


def photo_round_trip(photos, seen, probabilities, labels):
    """Top row: images as a user would photograph them. Bottom row: the 28x28 the model saw,
    with its answer."""
    count = len(photos)
    figure, axes = plt.subplots(2, count, figsize=(2 * count, 4.3), squeeze=False)
    for column, (photo, image, probs, label) in enumerate(zip(photos, seen, probabilities, labels)):
        axes[0, column].imshow(photo, cmap="gray", vmin=0, vmax=255)
        axes[0, column].set_title(f"photo of a {label}", fontsize=9)
        axes[1, column].imshow(image, cmap="gray_r", vmin=0, vmax=1)
        answer = int(np.argmax(probs))
        axes[1, column].set_title(f"model: {answer} ({probs[answer]:.0%})", fontsize=9)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    axes[0, 0].set_ylabel("your image")
    axes[1, 0].set_ylabel("what the model sees")
    figure.tight_layout()
    return figure


def ladder(rungs: list[dict], test_count: int):
    """Test and validation error of each rung of the ladder, top rung first: how much each
    single change lowered the error."""
    labels = [f"{number}. {rung['change']}" for number, rung in enumerate(rungs, 1)]
    test_errors = [100 * (1 - rung["test_accuracy"]) for rung in rungs]
    validation_errors = [100 * (1 - rung["validation_accuracy"]) for rung in rungs]
    positions = np.arange(len(rungs))[::-1]
    figure, axis = plt.subplots(figsize=(9, 0.55 * len(rungs) + 1.4))
    test_color, validation_color = sns.color_palette()[:2]
    axis.barh(positions, test_errors, color=test_color, height=0.6, label="test digits")
    axis.plot(validation_errors, positions, "D", color=validation_color, label="validation digits")
    for position, error in zip(positions, test_errors):
        count = round(error / 100 * test_count)
        axis.annotate(f" {count} of {test_count:,}", (error, position), va="center", fontsize=8)
    axis.set_yticks(positions, labels)
    axis.set_xlim(0, max(test_errors + validation_errors) * 1.3)
    axis.set_xlabel("digits read wrong (%)")
    axis.set_title("One change at a time: from the simple model to the deep one")
    axis.grid(axis="x", alpha=0.3)
    axis.legend(loc="lower right")
    figure.tight_layout()
    return figure
