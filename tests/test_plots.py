"""The experiments chapter's figures draw what they are given, on any data of the right shape."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mnist_lesson import plots  # noqa: E402

RNG = np.random.default_rng(0)


def test_digit_grid_titles_each_digit_and_hides_spare_cells():
    figure = plots.digit_grid(RNG.random((12, 28, 28)), [f"d{i}" for i in range(12)])
    titles = [axis.get_title() for axis in figure.axes]
    assert titles[:12] == [f"d{i}" for i in range(12)] and len(figure.axes) == 20
    assert not any(axis.axison for axis in figure.axes[12:])
    plt.close(figure)


def test_weight_images_draw_one_row_per_kernel():
    kernels = {"a": RNG.normal(size=(784, 10)), "b": RNG.normal(size=(784, 10))}
    figure = plots.weight_images(kernels, RNG.random(784))
    images = [axis for axis in figure.axes if axis.images]
    assert len(images) == 20
    assert np.allclose(images[13].images[0].get_array(), kernels["b"][:, 3].reshape(28, 28))
    plt.close(figure)


def test_score_bars_mark_wrong_answers():
    scores = np.full((2, 10), 0.01)
    scores[0, 3], scores[1, 5] = 0.91, 0.91
    figure = plots.score_bars(RNG.random((2, 28, 28)), scores, np.array([3, 4]))
    titles = [axis.get_title() for axis in figure.axes if axis.get_title()]
    assert titles == ["true 3, right", "true 4, read as 5"]
    plt.close(figure)
