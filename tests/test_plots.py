"""The figures that carry numbers of their own show the run's numbers, not fixed ones."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

from mnist_lesson import plots  # noqa: E402


def compiled(units: int, optimizer):
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(units)]
    )
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    return model


def texts(figure) -> str:
    return "\n".join(text.get_text() for axis in figure.axes for text in axis.texts)


@pytest.mark.parametrize(
    "units, optimizer, name", [(10, "adam", "Adam"), (7, "sgd", "SGD"), (3, "rmsprop", "RMSprop")]
)
def test_the_training_step_shows_the_models_sizes_and_optimizer(units, optimizer, name):
    model = compiled(units, optimizer)
    schedule = keras.optimizers.schedules.CosineDecay(0.05, decay_steps=4 * 11)
    figure = plots.training_step(model, 250, schedule, steps_per_epoch=11, epochs=4)
    shown = texts(figure)
    assert f"{model.count_params():,} weights" in shown
    assert f"{model.count_params():,} numbers" in shown
    assert f"250 × {units}" in shown and f"{name} moves" in shown
    assert "11 steps make an epoch" in shown
    line = figure.axes[1].get_lines()[0]  # the rates; the rest mark the epochs
    steps, rates = line.get_data()
    np.testing.assert_array_equal(steps, np.arange(44))
    np.testing.assert_allclose(rates, [float(schedule(step)) for step in range(44)], rtol=1e-6)
    assert rates[0] > 10 * rates[-1]  # the cosine falls towards zero
    plt.close(figure)


def test_a_fixed_learning_rate_is_drawn_flat():
    figure = plots.training_step(compiled(10, "adam"), 100, 0.001, steps_per_epoch=5, epochs=2)
    line = figure.axes[1].get_lines()[0]  # the rates; the rest mark the epochs
    np.testing.assert_allclose(line.get_ydata(), 0.001)
    plt.close(figure)


def test_the_zoomed_overfitting_panel_holds_each_turn_up():
    rising = {"loss": [1.0, 0.5, 0.2, 0.1, 0.05], "val_loss": [0.9, 0.4, 0.30, 0.33, 0.36]}
    flat = {"loss": [1.0, 0.6, 0.4, 0.3, 0.2], "val_loss": [0.8, 0.35, 0.25, 0.24, 0.26]}
    figure = plots.overfitting({"unshifted": rising, "shifted": flat}, 1000)
    bottom, top = figure.axes[1].get_ylim()
    assert figure.axes[1].get_yscale() == "linear" and figure.axes[0].get_yscale() == "log"
    assert bottom < 0.24 and top > 0.36  # both lowest points and everything after them
    assert top - bottom < 0.5  # zoomed: the first epochs' losses run off the top
    plt.close(figure)


def test_the_heatmap_greys_out_the_right_answers_and_scales_the_mistakes():
    matrix = np.diag([900] * 10) + np.eye(10, k=1, dtype=int) * 7
    figure = plots.confusion_heatmap(matrix, "a model")
    axis = figure.axes[0]
    (mesh,) = axis.collections
    colours = np.ma.getmaskarray(mesh.get_array()).reshape(10, 10)
    assert colours.diagonal().all() and colours.sum() == 10  # the diagonal is left out...
    assert axis.get_facecolor()[:3] == pytest.approx((0.8, 0.8, 0.8))  # ...and shows grey
    assert mesh.get_clim() == (0, 7)  # the scale is the mistakes' own
    assert "900" in texts(figure)
    plt.close(figure)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_loss_that_diverged_or_never_moved_still_gets_its_figure(bad):
    diverged = {"loss": [1.0, bad, bad], "val_loss": [0.9, bad, bad]}
    still = {"loss": [0.5, 0.5, 0.5], "val_loss": [0.4, 0.4, 0.4]}
    for histories in ({"diverged": diverged}, {"still": still}):
        figure = plots.overfitting(histories, 1000)
        bottom, top = figure.axes[1].get_ylim()
        assert np.isfinite([bottom, top]).all() and bottom < top
        plt.close(figure)
