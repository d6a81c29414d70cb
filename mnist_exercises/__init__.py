"""The checks of ``exercises.ipynb``: plain functions, one per exercise, that nbgrader or
otter-grader tests can call too. Each prints one line, ``Exercise N: done (what was verified)``
or ``Exercise N: not yet (a hint)``, returns True or False, and never raises: an answer that
breaks the check is itself "not yet". Checks of a model measure it on the digits passed as
``held_out``, which the notebook keeps away from every training cell.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from mnist_lesson.reports import shifted


def _check(number: int):
    """A check from ``steps``, a generator that yields a hint where the answer falls short and
    returns what it verified: one printed line either way, and True or False."""

    def decorate(steps):
        @functools.wraps(steps)
        def check(*args, **kwargs):
            try:
                hint = next(steps(*args, **kwargs))
            except StopIteration as done:
                print(f"Exercise {number}: done ({done.value})")
                return True
            except Exception as error:  # the learner's answer, not the check, went wrong
                reason = " ".join(str(error).split())[:120] or type(error).__name__
                hint = f"your answer raised {type(error).__name__}: {reason}"
            print(f"Exercise {number}: not yet ({hint})")
            return False

        return check

    return decorate


def _missing(*answers) -> bool:
    return any(answer is None or answer is Ellipsis for answer in answers)


def _close(a, b, tolerance=1e-4) -> bool:
    return math.isclose(a, b, abs_tol=tolerance)


def _accuracy(model, images, digits) -> float:
    return float(np.mean(model.predict(images, verbose=0).argmax(axis=1) == digits))


@_check(1)
def check_parameter_count(dense_512_weights):
    """Exercise 1: the weights and biases of Dense(512) reading the 784 pixels."""
    if _missing(dense_512_weights):
        yield "replace None with a number: count the weights, then the biases"
    if dense_512_weights == 784 * 512:
        yield "that counts the weights only: each of the 512 units has a bias"
    if dense_512_weights != 784 * 512 + 512:
        yield "each unit has one weight per input, and one bias"
    return "784 x 512 weights + 512 biases = 401,920, as the summary says"


@_check(2)
def check_untrained_losses(softmax_loss, sigmoid_loss):
    """Exercise 2: the loss of an untrained model, softmax and ten sigmoid outputs."""
    if _missing(softmax_loss, sigmoid_loss):
        yield "replace both None with numbers (np.log helps)"
    if not _close(softmax_loss, math.log(10), 0.01):
        yield "the scores are about 1/10 each; the loss is minus the log of the true digit's"
    if _close(sigmoid_loss, math.log(10), 0.01):
        yield "the sigmoid outputs are ten yes/no answers, not one of ten"
    if not _close(sigmoid_loss, math.log(2), 0.01):
        yield "each output says about 0.5 whatever the target; average the cost over the ten"
    return "ln 10 = 2.30 for one answer of ten, ln 2 = 0.69 for a coin toss each"


@_check(3)
def check_precision_and_recall(matrix, digit, precision, recall):
    """Exercise 3: one digit's precision and recall, read off a confusion matrix."""
    if _missing(precision, recall):
        yield "replace both None with numbers between 0 and 1"
    matrix = np.asarray(matrix)
    right = matrix[digit, digit]
    true_precision, true_recall = right / matrix[:, digit].sum(), right / matrix[digit].sum()
    if _close(precision, true_recall) and not _close(precision, true_precision):
        yield "precision looks down the digit's column (the model's answers)"
    if not _close(precision, true_precision):
        yield f"precision: of the answers {digit}, the share that were {digit}s"
    if not _close(recall, true_recall):
        yield f"recall: of the true {digit}s (the digit's row), the share found"
    return f"precision {true_precision:.3f} and recall {true_recall:.3f}"


@_check(4)
def check_own_model(model, held_out, at_least=0.93):
    """Exercise 4: a model of the learner's design, one hidden layer at least, trained to
    ``at_least`` accuracy on digits it never saw."""
    import keras

    if _missing(model):
        yield "build, compile and fit a keras.Sequential, then pass it here"
    if not isinstance(model, keras.Sequential):
        yield "build the model with keras.Sequential, as Part 1 does"
    if sum(isinstance(layer, keras.layers.Dense) for layer in model.layers) < 2:
        yield "add a hidden layer: a Dense layer before the output layer"
    accuracy = _accuracy(model, *held_out)
    if accuracy < at_least:
        yield f"{accuracy:.2%} of the held-out digits, {at_least:.0%} asked: train it longer"
    return f"{accuracy:.2%} of {len(held_out[1]):,} digits it never saw"


@_check(5)
def check_p_value(p_value, finding):
    """Exercise 5: the McNemar p-value of a change that fixes 30 test digits and breaks 15,
    and whether the test set supports the gain."""
    from scipy.stats import binomtest

    if _missing(p_value, finding):
        yield "replace both None: a number, then True or False"
    expected = binomtest(30, 45).pvalue
    if _close(p_value, binomtest(30, 45, alternative="greater").pvalue, 1e-9):
        yield "that is the one-sided p-value: a change may fix more or break more"
    if not _close(p_value, expected, 1e-6):
        yield "45 coin tosses, 30 or more on one side (either side): binomtest"
    if bool(finding) is not bool(expected < 0.05):
        yield "compare the p-value with 0.05"
    return f"p = {expected:.3f}, below 0.05: luck alone is an unlikely explanation"


@_check(6)
def check_overfitting(overfit, cured):
    """Exercise 6: two Keras histories (``fit(...).history``): one whose validation loss turns
    up while its training loss falls, and a cure with a lower validation loss at the end."""
    if _missing(overfit, cured):
        yield "pass the .history of both trainings (fit with validation_data)"
    if not all({"loss", "val_loss"} <= set(history) for history in (overfit, cured)):
        yield "fit with validation_data=..., so that the history has val_loss"
    loss, val_loss = np.asarray(overfit["loss"]), np.asarray(overfit["val_loss"])
    best = int(np.argmin(val_loss))
    if best == len(val_loss) - 1 or val_loss[-1] < 1.2 * val_loss[best]:
        yield "train on fewer digits for more epochs, until the validation loss turns up"
    if not loss[-1] < loss[best]:
        yield "the training loss should still fall while the validation loss rises"
    if not cured["val_loss"][-1] < val_loss[-1]:
        yield "the cure should end with a lower validation loss than the overfit run"
    rise = val_loss[-1] / val_loss[best] - 1
    return f"validation loss lowest at epoch {best + 1}, then up by {rise:.0%}; the cure ends lower"


@_check(7)
def check_sigmoid_slope(sigmoid_slope, largest_slope):
    """Exercise 7: the sigmoid's slope as a NumPy function, and its largest value."""
    if _missing(sigmoid_slope, largest_slope):
        yield "write the function and give the largest slope"
    z = np.linspace(-8, 8, 401)
    sigmoid = 1 / (1 + np.exp(-z))
    slopes = np.asarray(sigmoid_slope(z), dtype=float)
    if np.allclose(slopes, sigmoid, atol=1e-6):
        yield "that is the sigmoid itself: its slope is how fast it changes"
    if not np.allclose(slopes, sigmoid * (1 - sigmoid), atol=1e-6):
        yield "the slope of 1 / (1 + e^-z) is sigmoid(z) * (1 - sigmoid(z))"
    if not _close(largest_slope, 0.25, 1e-6):
        yield "the largest slope is at z = 0, where the sigmoid says 0.5"
    return "slope sigmoid(z)(1 - sigmoid(z)), at most 0.25, at z = 0"


@_check(8)
def check_sigmoid_stack_learning_rate(learning_rate, data, at_least=0.25):
    """Exercise 8: a learning rate at which Adam takes the lesson's six-layer sigmoid stack out
    of chance in the lesson's short training (2 epochs on 6,000 digits, batches of 50)."""
    import keras
    from keras import layers

    if _missing(learning_rate):
        yield "replace None with a learning rate, such as 0.0001"
    x_fit, y_fit, x_val, val_digits = data
    keras.utils.set_random_seed(42)
    stack = keras.Sequential(
        [keras.Input(shape=(28, 28, 1)), layers.Flatten()]
        + [layers.Dense(64, activation="sigmoid") for _ in range(6)]
        + [layers.Dense(10, activation="softmax")]
    )
    optimizer = keras.optimizers.Adam(learning_rate=float(learning_rate))
    stack.compile(optimizer=optimizer, loss="categorical_crossentropy")
    keras.utils.set_random_seed(42)
    stack.fit(x_fit[:6000], y_fit[:6000], epochs=2, batch_size=50, verbose=0)
    accuracy = _accuracy(stack, x_val, val_digits)
    if accuracy < at_least:
        yield f"{accuracy:.1%} of the validation digits, chance is 10%: try rates 10x apart"
    return f"Adam at {learning_rate}: {accuracy:.1%} of the validation digits"


def lesson_deep_model(training):
    """The lesson's deep model trained as Part 1 trains it, on ``training`` (images, targets)."""
    import keras
    from keras import layers

    images, targets = training
    keras.utils.set_random_seed(42)
    model = keras.Sequential(
        [keras.Input(shape=(28, 28, 1)),
         layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant", seed=42),
         layers.Flatten(), layers.Dense(512, activation="relu"),
         layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    schedule = keras.optimizers.schedules.CosineDecay(0.004, 5 * math.ceil(len(images) / 250))
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="categorical_crossentropy")
    keras.utils.set_random_seed(42)
    model.fit(images, targets, epochs=5, batch_size=250, verbose=0)
    return model


@_check(9)
def check_convnet(model, training, held_out, pixels=3):
    """Exercise 9: a small convnet that reads held-out digits moved by ``pixels`` better than
    the lesson's deep model trained on the same digits (the check trains it, a few seconds)."""
    import keras

    if _missing(model):
        yield "build a keras.Sequential with Conv2D layers, train it, pass it"
    if not any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers):
        yield "the model needs at least one Conv2D layer"
    images, digits = held_out
    moved = shifted(images, pixels)
    yours, deep = _accuracy(model, moved, digits), _accuracy(lesson_deep_model(training), moved,
                                                             digits)  # fmt: skip
    words = f"{yours:.2%} of the digits moved by {pixels} pixels, the deep model {deep:.2%}"
    if yours <= deep:
        yield f"{words}: pool (MaxPooling2D) and move the training digits (RandomTranslation)"
    return f"{words}, trained on the same digits"


@_check(10)
def check_calibration(model, held_out, mean_top_score, share_right):
    """Exercise 10: among the held-out digits to which ``model`` gives a top score of 0.9 or
    more, the mean top score and the share of right answers."""
    if _missing(model, mean_top_score, share_right):
        yield "your model of exercise 4 first, then two numbers from 0 to 1"
    images, digits = held_out
    scores = model.predict(images, verbose=0)
    top, right = scores.max(axis=1), scores.argmax(axis=1) == np.asarray(digits)
    sure = top >= 0.9
    if _close(mean_top_score, top.mean(), 1e-6) or _close(share_right, right.mean(), 1e-6):
        yield "take only the digits whose top score is at least 0.9"
    if not _close(mean_top_score, top[sure].mean()):
        yield "the mean of the highest score of each of those digits"
    if not _close(share_right, right[sure].mean()):
        yield "the share of those digits whose highest score is the true digit"
    mean, share = top[sure].mean(), right[sure].mean()
    return f"{sure.sum():,} digits: mean top score {mean:.2%}, {share:.2%} right"
