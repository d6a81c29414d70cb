"""Figures of the experiments chapter that take more drawing code than they teach: each function
draws one figure and returns it, for the chapter to save and show."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


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


def weight_images(kernels: dict[str, np.ndarray], pixel_usage, min_usage: float = 0.05):
    """Each 784x10 kernel as a row of ten 28x28 images, red for the digit, blue against; a grey
    line around the pixels inked in at least ``min_usage`` of the digits. Each row's colour scale
    ends at its 99th percentile, so that a few extremes do not wash out the pattern."""
    rarely_used = np.reshape(pixel_usage, (28, 28)) < min_usage
    figure, axes = plt.subplots(
        len(kernels), 10, figsize=(13, 1.6 * len(kernels) + 0.6), squeeze=False
    )
    for row, (name, kernel) in zip(axes, kernels.items()):
        limit = float(np.percentile(np.abs(kernel), 99))
        for digit, axis in enumerate(row):
            image = axis.imshow(
                kernel[:, digit].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit
            )
            axis.contour(rarely_used, levels=[0.5], colors="0.5", linewidths=0.6)
            axis.set(xticks=[], yticks=[])
            axis.set_title(str(digit), fontsize=9)
        row[0].set_ylabel(name, fontsize=9)
        figure.colorbar(image, ax=list(row), shrink=0.8, label="weight")
    figure.suptitle(
        f"Each digit's weights; inside the grey line, pixels inked in at least {min_usage:.0%} "
        "of the training digits"
    )
    return figure


def score_bars(images, scores, labels):
    """Each digit beside the model's ten softmax scores: the true digit's bar green, the model's
    answer outlined, in red where the answer is wrong."""
    count = len(images)
    figure, axes = plt.subplots(
        count, 2, figsize=(7, 1.5 * count + 0.4), width_ratios=(1, 3), layout="constrained"
    )
    for (image_axis, bar_axis), image, values, label in zip(axes, images, scores, labels):
        answer = int(np.argmax(values))
        right = answer == label
        image_axis.imshow(np.reshape(image, (28, 28)), cmap="gray_r")
        image_axis.set_title(
            f"true {label}, " + ("right" if right else f"read as {answer}"),
            fontsize=9,
            color="black" if right else "tab:red",
        )
        image_axis.axis("off")
        colours = ["tab:green" if digit == label else "tab:gray" for digit in range(10)]
        bars = bar_axis.bar(range(10), values, color=colours)
        bars[answer].set_edgecolor("black" if right else "tab:red")
        bars[answer].set_linewidth(2)
        bar_axis.set(xticks=range(10), ylim=(0, 1))
        bar_axis.set_ylabel("score", fontsize=8)
    axes[-1][1].set_xlabel("digit")
    return figure
