"""Figures for the MNIST lesson: each function draws one figure and returns it, for the caller to
save and show (Jupyter, a window, a PNG)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.ticker import MaxNLocator, PercentFormatter


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
    """Counts of (true digit, answer) pairs. The diagonal, the right answers, is left out of the
    colour scale and shown in grey, so that the scale is the mistakes' own and even a few show."""
    matrix = np.asarray(matrix)
    figure, axis = plt.subplots(figsize=(7.5, 6.2))
    axis.set_facecolor("0.8")  # what the masked diagonal shows
    sns.heatmap(matrix, mask=np.eye(10, dtype=bool), annot=True, fmt="d", cmap="Reds",
                cbar_kws={"label": "mistakes"}, ax=axis, annot_kws={"size": 8},
                linewidths=0.5, linecolor="0.9", vmin=0)  # fmt: skip
    for digit in range(10):
        axis.text(digit + 0.5, digit + 0.5, str(matrix[digit, digit]), ha="center",
                  va="center", fontsize=8, color="0.1")  # fmt: skip
    axis.set(xlabel="the model's answer", ylabel="true digit", title=title)
    axis.text(0, -0.13, "grey cells: right answers (the diagonal); colour: mistakes", fontsize=8,
              transform=axis.get_xaxis_transform(), color="0.3")  # fmt: skip
    figure.tight_layout()
    return figure


def network(model):
    """The model's Dense layers as columns of units (over ten: the first and last four), input on
    the left, with sizes, activations, the weights and biases each connection adds and the total.
    For a model with layers of other kinds (a convnet), one printed line and None."""
    import keras

    drawn = (keras.layers.Dense, keras.layers.Flatten, keras.layers.RandomTranslation)
    others = [layer for layer in model.layers if not isinstance(layer, drawn)]
    if others:
        print("no network picture for this model: it draws stacks of Dense layers, and this one "
              f"has a {type(others[0]).__name__}")  # fmt: skip
        return None
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    sizes = [int(np.prod(dense[0].kernel.shape[:-1]))] + [layer.units for layer in dense]
    kinds = [getattr(layer.activation, "__name__", "") for layer in dense]
    shifted = any(isinstance(layer, keras.layers.RandomTranslation) for layer in model.layers)
    names = ["pixels, moved\nin training" if shifted else "pixels",
             *[f"{kind} units".replace("relu", "ReLU") for kind in kinds[:-1]],
             f"{kinds[-1]} outputs"]  # fmt: skip
    figure, axis = plt.subplots(figsize=(2.6 * len(sizes) + 1, 5))
    columns = []
    for size in sizes:
        if size <= 10:
            columns.append(np.linspace(0.85, 0.15, size) if size > 1 else np.array([0.5]))
        else:  # four at the top, four at the bottom, the rest as dots between
            columns.append(np.concatenate([np.linspace(0.85, 0.64, 4), np.linspace(0.36, 0.15, 4)]))
    for x, (ys0, ys1) in enumerate(zip(columns, columns[1:])):
        for y0, y1 in ((y0, y1) for y0 in ys0 for y1 in ys1):
            axis.plot([x, x + 1], [y0, y1], color="0.8", linewidth=0.4, zorder=1)
    colours = sns.color_palette()
    for x, (ys, size, name) in enumerate(zip(columns, sizes, names)):
        colour = colours[0] if x == 0 else colours[1] if x < len(sizes) - 1 else colours[2]
        axis.scatter(np.full(len(ys), x), ys, s=110, color=colour, zorder=2)
        if size > 10:
            axis.text(x, 0.5, "⋮", ha="center", va="center", fontsize=20, zorder=3)
        axis.text(x, 0.93, f"{size:,}", ha="center", fontsize=13, weight="bold")
        axis.text(x, 0.04, name, ha="center", fontsize=10)
    for x, layer in enumerate(dense):
        words = f"{sizes[x]:,} × {layer.units:,} + {layer.units:,}\n= {layer.count_params():,}"
        axis.text(x + 0.5, 1.03, words, ha="center", fontsize=9, color="0.3")
    total = sum(layer.count_params() for layer in dense)
    axis.set_title(f"The {model.name} network: {total:,} weights and biases to learn", pad=30)
    axis.set(xlim=(-0.5, len(sizes) - 0.5), ylim=(0, 1.1))
    axis.axis("off")
    figure.tight_layout()
    return figure


def training_step(model, batch_size: int, schedule, steps_per_epoch: int, epochs: int):
    """One training step as a loop of boxes, with the compiled model's own sizes and optimizer,
    and beside it the learning rate of each step (``schedule``: a Keras schedule or a number)."""
    weights, outputs = model.count_params(), model.output_shape[-1]
    figure, (flow, rates) = plt.subplots(1, 2, figsize=(13, 3.2), width_ratios=(3, 1.2))
    boxes = [f"a batch\n{batch_size} digits", f"the model\n{weights:,} weights\nand biases",
             f"{batch_size} × {outputs}\noutputs", "the loss\none number",
             f"the gradient\n{weights:,} numbers",
             f"{type(model.optimizer).__name__} moves\nevery weight"]  # fmt: skip
    last = len(boxes) - 1
    for x, text in enumerate(boxes):
        flow.text(x, 0.6, text, ha="center", va="center", fontsize=10,
                  bbox={"boxstyle": "round", "facecolor": "0.93", "edgecolor": "0.6"})  # fmt: skip
        if x:  # an arrow from the box before
            flow.annotate("", (x - 0.44, 0.6), (x - 0.56, 0.6), arrowprops={"arrowstyle": "->"})
    flow.annotate("", (1, 0.42), (last, 0.42), arrowprops={
        "arrowstyle": "->", "connectionstyle": "arc3,rad=-0.25", "color": "0.4"})  # fmt: skip
    flow.text((1 + last) / 2, 0.05, f"then the next batch: {steps_per_epoch} steps make an "
              "epoch", ha="center", fontsize=9, color="0.3")  # fmt: skip
    flow.set(xlim=(-0.56, last + 0.56), ylim=(0, 1), title="One training step")
    flow.axis("off")
    steps = np.arange(epochs * steps_per_epoch)
    # A schedule gives each step its rate; a plain number is the same rate at every step.
    rates.plot(steps, [float(schedule(step) if callable(schedule) else schedule) for step in steps])
    for epoch in range(1, epochs):
        rates.axvline(epoch * steps_per_epoch, color="0.85", linewidth=0.8)
    rates.set(xlabel="step (grey lines: epochs)", ylabel="learning rate",
              title="The learning rate, step by step")  # fmt: skip
    figure.tight_layout()
    return figure


def training_curves(histories: dict[str, dict]):
    """Each model's accuracy and loss per epoch, training solid, validation dashed; each loss on
    its own axis (binary and categorical cross-entropy are not on one scale)."""
    figure, axes = plt.subplots(1, 1 + len(histories), figsize=(5 + 4 * len(histories), 4))
    accuracy_axis = axes[0]
    for (name, history), colour, loss_axis in zip(histories.items(), sns.color_palette(), axes[1:]):
        epochs = np.arange(1, len(history["loss"]) + 1)
        for axis, key in ((accuracy_axis, "categorical_accuracy"), (loss_axis, "loss")):
            axis.plot(epochs, history[key], "-o", color=colour, label=f"{name}, training")
            axis.plot(epochs, history[f"val_{key}"], "--s", color=colour,
                      label=f"{name}, validation")  # fmt: skip
        loss_axis.set(ylabel="loss", title=f"{name} model: loss")
    accuracy_axis.set(ylabel="accuracy", title="Accuracy")
    accuracy_axis.yaxis.set_major_formatter(PercentFormatter(1.0))
    for axis in axes:
        _tidy(axis, "epoch", fontsize=8)
    figure.tight_layout()
    return figure


def _tidy(axis, xlabel: str, fontsize=None) -> None:
    """Whole numbers on the x axis, a light grid, the legend."""
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel(xlabel)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=fontsize)


def overfitting(histories: dict[str, dict], examples: int):
    """Training and validation loss per epoch of each training, the lowest validation loss
    marked: where the validation loss turns up, the model has started to overfit. The right
    panel shows the validation losses alone on a linear scale, from just below the lowest to
    just above the highest after it, where that turn is visible."""
    figure, (axis, zoom) = plt.subplots(1, 2, figsize=(12, 4.2), width_ratios=(3, 2))
    lowest, after_lowest = [], []
    for (name, history), colour in zip(histories.items(), sns.color_palette()):
        epochs = np.arange(1, len(history["loss"]) + 1)
        best = int(np.argmin(history["val_loss"]))
        axis.plot(epochs, history["loss"], "-", color=colour, label=f"{name}: training loss")
        for panel in (axis, zoom):
            panel.plot(epochs, history["val_loss"], "--", color=colour,
                       label=f"{name}: validation loss")  # fmt: skip
            panel.plot(epochs[best], history["val_loss"][best], "v", color=colour, markersize=9)
        lowest.append(history["val_loss"][best])
        after_lowest.extend(history["val_loss"][best:])
    axis.set_yscale("log")
    axis.set(ylabel="loss (log scale)", title=f"{examples:,} training digits: ▼ the lowest "
             "validation loss")  # fmt: skip
    span = max(max(after_lowest) - min(lowest), 0.05 * min(lowest)) or 1.0  # never empty
    if np.isfinite(span):  # a loss that diverged (inf, nan) keeps matplotlib's own limits
        zoom.set_ylim(min(lowest) - 0.5 * span, max(after_lowest) + 0.5 * span)
    zoom.set(ylabel="validation loss (linear scale)", title="The validation loss, zoomed in")
    _tidy(axis, "epoch", fontsize=8)
    _tidy(zoom, "epoch", fontsize=8)
    figure.tight_layout()
    return figure


def signal_through_layers(
    spread: dict[str, list], norms: dict[str, list], val_accuracy: dict[str, list]
):
    """Per hidden layer at the start (log scale): the activations' spread over digits, and the
    gradient norm; then the validation accuracy per epoch of the stacks trained briefly."""
    figure, (spread_axis, norm_axis, accuracy_axis) = plt.subplots(1, 3, figsize=(15, 4))
    for axis, series, ylabel, title in (
        (spread_axis, spread, "spread of activations over digits", "Forward: the signal"),
        (norm_axis, norms, "gradient norm of the layer's weights", "Backward: the gradient"),
    ):
        _line_per_stack(axis, series, "hidden layer (1 = next to the input)")
        axis.set_yscale("log")
        axis.set(ylabel=ylabel, title=f"{title}, at the start")
    # The gradient is computed from the output back: the middle panel reads from right to left.
    norm_axis.set_xlabel("hidden layer (the gradient travels from the last back to 1)")
    _line_per_stack(accuracy_axis, val_accuracy, "epoch")
    accuracy_axis.legend(loc="center", bbox_to_anchor=(0.5, 0.3))  # between the lines, mostly
    accuracy_axis.yaxis.set_major_formatter(PercentFormatter(1.0))
    accuracy_axis.set(ylabel="validation accuracy", ylim=(0, 1),
                      title="Learning, plain SGD, each at its best rate")  # fmt: skip
    figure.tight_layout()
    return figure


def _line_per_stack(axis, series: dict[str, list], xlabel: str, xs=None):
    for (name, values), colour in zip(series.items(), sns.color_palette()):
        axis.plot(xs or np.arange(1, len(values) + 1), values, "-o", color=colour, label=name)
    _tidy(axis, xlabel)


def shift_accuracy(pixels: list[int], accuracy: dict[str, list]):
    """Test accuracy of each model on digits moved by each number of pixels."""
    figure, axis = plt.subplots(figsize=(6.5, 4))
    _line_per_stack(axis, accuracy, "pixels the test digits are moved by", xs=pixels)
    axis.yaxis.set_major_formatter(PercentFormatter(1.0))
    axis.set(ylabel="test accuracy", ylim=(0, 1), title="Dense layers and moved digits")
    figure.tight_layout()
    return figure


def weight_images(kernels: dict[str, np.ndarray], pixel_usage, min_usage: float = 0.05):
    """Each 784x10 kernel as a row of ten 28x28 images, red for the digit, blue against, pixels
    inked in under ``min_usage`` of the digits outlined in grey; each row's colour scale ends at
    its 99th percentile, so that a few extremes do not wash out the pattern."""
    rarely_used = np.reshape(pixel_usage, (28, 28)) < min_usage
    figure, axes = plt.subplots(len(kernels), 10, figsize=(13, 1.6 * len(kernels) + 0.6),
                                squeeze=False)  # fmt: skip
    for row, (name, kernel) in zip(axes, kernels.items()):
        limit = float(np.percentile(np.abs(kernel), 99))
        for digit, axis in enumerate(row):
            image = axis.imshow(kernel[:, digit].reshape(28, 28), cmap="RdBu_r", vmin=-limit,
                                vmax=limit)  # fmt: skip
            axis.contour(rarely_used, levels=[0.5], colors="0.5", linewidths=0.6)
            axis.set(xticks=[], yticks=[])
            axis.set_title(str(digit), fontsize=9)
        row[0].set_ylabel(name, fontsize=9)
        figure.colorbar(image, ax=list(row), shrink=0.8, label="weight")
    figure.suptitle("Each digit's weights, each row on its own colour scale; inside the grey "
                    "line, pixels inked in at least 5% of digits")  # fmt: skip
    return figure


def score_bars(images, scores, labels):
    """Each digit beside the model's ten softmax scores: the bar of the true digit green, the
    model's answer outlined, red where the answer is wrong."""
    count = len(images)
    figure, axes = plt.subplots(
        count, 2, figsize=(7, 1.5 * count + 0.4), width_ratios=(1, 3), layout="constrained"
    )
    for row, (image, values, label) in enumerate(zip(images, scores, labels)):
        image_axis, bar_axis = axes[row]
        answer = int(np.argmax(values))
        image_axis.imshow(np.reshape(image, (28, 28)), cmap="gray_r")
        verdict = "right" if answer == label else f"wrong: {answer}"
        image_axis.set_title(f"true {label}, {verdict}", fontsize=9,
                             color="black" if answer == label else "tab:red")  # fmt: skip
        image_axis.axis("off")
        colours = ["tab:green" if digit == label else "tab:gray" for digit in range(10)]
        bars = bar_axis.bar(range(10), values, color=colours)
        bars[answer].set_edgecolor("black" if answer == label else "tab:red")
        bars[answer].set_linewidth(2)
        bar_axis.set(xticks=range(10), ylim=(0, 1))
        bar_axis.set_ylabel("softmax score", fontsize=8)
    axes[0][1].legend(
        handles=[plt.Rectangle((0, 0), 1, 1, color="tab:green"),
                 plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="black", linewidth=2)],
        labels=["the true digit", "the model's answer"], fontsize=8, loc="upper right",
    )  # fmt: skip
    axes[-1][1].set_xlabel("digit")
    return figure


def photo_round_trip(photos, seen, scores, labels):
    """Top: images as a user would photograph them; bottom: what the model saw, its answer."""
    count = len(photos)
    figure, axes = plt.subplots(2, count, figsize=(2 * count, 4.3), squeeze=False)
    for column, (photo, image, values, label) in enumerate(zip(photos, seen, scores, labels)):
        axes[0, column].imshow(photo, cmap="gray", vmin=0, vmax=255)
        axes[0, column].set_title(f"photo of a {label}", fontsize=9)
        axes[1, column].imshow(image, cmap="gray_r", vmin=0, vmax=1)
        answer = int(np.argmax(values))
        axes[1, column].set_title(f"model: {answer} ({values[answer]:.0%})", fontsize=9)
    for axis in axes.flat:
        axis.set(xticks=[], yticks=[])
    axes[0, 0].set_ylabel("the image file")
    axes[1, 0].set_ylabel("what the model sees")
    figure.tight_layout()
    return figure


def ladder(rungs: list[dict], test_count: int):
    """Test and validation error of each rung of the ladder, top rung first, with the count of
    test digits read wrong at the bar's end, past the validation marker."""
    labels = [f"{number}. {rung['change']}" for number, rung in enumerate(rungs, 1)]
    test_errors = [100 * (1 - rung["test_accuracy"]) for rung in rungs]
    validation_errors = [100 * (1 - rung["validation_accuracy"]) for rung in rungs]
    positions = np.arange(len(rungs))[::-1]
    figure, axis = plt.subplots(figsize=(9, 0.55 * len(rungs) + 1.4))
    test_colour, validation_colour = sns.color_palette()[:2]
    axis.barh(positions, test_errors, color=test_colour, height=0.6, label="test digits")
    axis.plot(validation_errors, positions, "D", color=validation_colour,
              label="validation digits")  # fmt: skip
    right_end = max(test_errors + validation_errors)
    for position, test, validation in zip(positions, test_errors, validation_errors):
        count = round(test / 100 * test_count)
        axis.annotate(f"{count:,} of {test_count:,}", (max(test, validation), position), fontsize=8,
                      xytext=(8, 0), textcoords="offset points", va="center")  # fmt: skip
    axis.set_yticks(positions, labels)
    axis.set(xlim=(0, right_end * 1.35), xlabel="digits read wrong (%)",
             title="One change at a time: from the simple model to the deep one")  # fmt: skip
    axis.grid(axis="x", alpha=0.3)
    axis.legend(loc="lower right")
    figure.tight_layout()
    return figure
