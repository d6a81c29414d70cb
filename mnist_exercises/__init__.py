"""The checks of ``exercises.ipynb``, for nbgrader or otter-grader too. Each prints ``Exercise N:
done (what it verified)`` or ``Exercise N: not yet (a hint)``, returns a true or false Verdict,
never raises. Models are graded on ``held_out``: training-file digits no training cell uses."""

import functools
import math

import numpy as np

from mnist_lesson.shifts import shifted


class Verdict(int):
    """A check's answer, 1 (True) or 0 (False); a notebook shows its printed line alone."""

    def _ipython_display_(self): ...  # IPython's display protocol: show nothing more


def _check(number: int):
    """A check from ``steps``, a generator that yields a hint or returns what it verified."""

    def decorate(steps):
        @functools.wraps(steps)
        def check(*args, **kwargs):
            try:
                hint = next(steps(*args, **kwargs))
            except StopIteration as done:
                print(f"Exercise {number}: done ({done.value})")
                return Verdict(True)
            except Exception as error:  # the learner's answer, not the check, went wrong
                reason = " ".join(str(error).split())[:120] or type(error).__name__
                hint = f"your answer raised {type(error).__name__}: {reason}"
            print(f"Exercise {number}: not yet ({hint})")
            return Verdict(False)

        return check

    return decorate


def _missing(*answers) -> bool:
    return any(answer is None or answer is Ellipsis for answer in answers)


def _close(a, b, tolerance=1e-4) -> bool:
    return math.isclose(a, b, abs_tol=tolerance)


def _accuracy(model, images, digits) -> float:
    return float(np.mean(model.predict(images, verbose=0).argmax(axis=1) == digits))


@_check(1)
def check_untrained_losses(softmax_loss, sigmoid_loss):
    """Exercise 1: an untrained model's loss over 26 letters, softmax and sigmoid outputs."""
    if _missing(softmax_loss, sigmoid_loss):
        yield "replace both None with numbers (np.log helps)"
    if not _close(softmax_loss, math.log(26), 0.01):
        yield "26 scores of about 1/26 each; the loss is minus the log of the true letter's"
    if _close(sigmoid_loss, math.log(26), 0.01):
        yield "the sigmoid outputs are 26 yes/no answers, not one of 26"
    if not _close(sigmoid_loss, math.log(2), 0.01):
        yield "each output says about 0.5 whatever the target; average the cost over the 26"
    return "ln 26 = 3.26 for one answer of 26, ln 2 = 0.69 for a coin toss each"


@_check(2)
def check_precision_and_recall(matrix, digit, precision, recall):
    """Exercise 2: one digit's precision and recall, read off a confusion matrix."""
    if _missing(precision, recall):
        yield "replace both None with numbers between 0 and 1"
    matrix, right = np.asarray(matrix), np.asarray(matrix)[digit, digit]
    true_precision, true_recall = right / matrix[:, digit].sum(), right / matrix[digit].sum()
    if not _close(precision, true_precision):
        yield f"precision: of the answers {digit} (its column), the share that were {digit}s"
    if not _close(recall, true_recall):
        yield f"recall: of the true {digit}s (the digit's row), the share found"
    return f"precision {true_precision:.3f} and recall {true_recall:.3f}"


@_check(3)
def check_parameter_count(dense_512_weights):
    """Exercise 3: the weights and biases of Dense(512) reading the 784 pixels."""
    if _missing(dense_512_weights):
        yield "replace None with a number: count the weights, then the biases"
    if dense_512_weights == 784 * 512:
        yield "that counts the weights only: each of the 512 units has a bias"
    if dense_512_weights != 784 * 512 + 512:
        yield "each unit has one weight per input, and one bias"
    return "784 x 512 weights + 512 biases = 401,920, as the summary says"


@_check(4)
def check_own_model(model, held_out, at_least=0.93):
    """Exercise 4: a model with a hidden layer that reads ``at_least`` of ``held_out``."""
    if _missing(model):
        yield "build, compile and fit a keras.Sequential, then pass it here"
    if sum(type(layer).__name__ == "Dense" for layer in model.layers) < 2:
        yield "add a hidden layer: a Dense layer before the output layer"
    accuracy = _accuracy(model, *held_out)
    if accuracy < at_least:
        yield f"{accuracy:.2%} of the held-out digits, {at_least:.0%} asked: train it longer"
    return f"{accuracy:.2%} of {len(held_out[1]):,} held-out digits it never saw"


@_check(5)
def check_tanh_slope(tanh_slope, largest_slope):
    """Exercise 5: the slope of tanh as a function of tanh's own value t, and its largest."""
    if _missing(tanh_slope, largest_slope):
        yield "write the function of t and give the largest slope"
    z = np.linspace(-4, 4, 161)
    slopes = np.asarray(tanh_slope(np.tanh(z)), dtype=float)
    if np.allclose(slopes, 1 - np.tanh(np.tanh(z)) ** 2, atol=1e-6):
        yield "your function reads z: it gets t = np.tanh(z), tanh's value, not z"
    if not np.allclose(slopes, 1 / np.cosh(z) ** 2, atol=1e-4):
        yield "compare with the slope measured at a few z: (tanh(z + h) - tanh(z - h)) / 2h"
    if not _close(largest_slope, 1.0, 1e-4):
        yield "the largest slope: where is tanh steepest? measure it there"
    return "slope 1 - t², at most 1 (at z = 0): four times the sigmoid's 0.25"


@_check(6)
def check_overfitting(overfit, cured):
    """Exercise 6: a history whose validation loss turns up, and a cure's that ends lower."""
    histories = [overfit, cured]
    if _missing(*histories) or not all({"loss", "val_loss"} <= set(h) for h in histories):
        yield "pass the .history of both trainings, each fit with validation_data=(x_val, y_val)"
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
def check_sigmoid_stack_learning_rate(learning_rate, accuracy_by_rate, stack_accuracy,
                                      at_least=0.4):  # fmt: skip
    """Exercise 7: the best of a grid of rates, bracketed, at which Adam takes six sigmoid layers
    out of chance; ``stack_accuracy(rate)`` trains the stack and returns its validation accuracy."""
    if _missing(learning_rate) or len(accuracy_by_rate) < 3:
        yield "try three rates or more, ten times apart, and set adam_learning_rate to the best"
    rates = sorted(accuracy_by_rate)
    if learning_rate not in accuracy_by_rate:
        yield f"adam_learning_rate is {learning_rate}, a rate missing from accuracy_by_rate"
    if accuracy_by_rate[learning_rate] < max(accuracy_by_rate.values()):
        yield f"{learning_rate} is not the best rate you tried"
    if not rates[0] < learning_rate < rates[-1]:
        yield f"{learning_rate} sits on the edge of your grid: try one ten times beyond it"
    accuracy = stack_accuracy(learning_rate)  # the check trains it again, from the same start
    if not _close(accuracy, accuracy_by_rate[learning_rate], 0.02):
        yield f"stack_accuracy({learning_rate}) gives {accuracy:.1%}: record what it returns"
    if accuracy < at_least:
        yield f"{accuracy:.1%} of the validation digits, chance is 10%: try rates 10x apart"
    return f"Adam at {learning_rate}: {accuracy:.1%}, between rates {rates[0]} and {rates[-1]}"


@_check(8)
def check_convnet(model, training, held_out, pixels=3):
    """Exercise 8: a convnet that reads moved digits better than the lesson's deep model."""
    import keras

    if _missing(model):
        yield "build a keras.Sequential with Conv2D layers, train it, pass it"
    if not any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers):
        yield "the model needs at least one Conv2D layer"
    keras.utils.set_random_seed(42)  # the lesson's deep model, trained as the lesson does
    deep = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()] + [
        keras.layers.Dense(units, activation=activation)
        for units, activation in ((512, "relu"), (512, "relu"), (10, "softmax"))])  # fmt: skip
    schedule = keras.optimizers.schedules.CosineDecay(0.004, 5 * math.ceil(len(training[0]) / 250))
    deep.compile(optimizer=keras.optimizers.Adam(schedule), loss="categorical_crossentropy")
    deep.fit(*training, epochs=5, batch_size=250, verbose=0)
    moved, digits = shifted(held_out[0], pixels), held_out[1]
    yours, deep = _accuracy(model, moved, digits), _accuracy(deep, moved, digits)
    words = f"{yours:.2%} of the held-out digits moved by {pixels} pixels, deep model {deep:.2%}"
    if yours <= deep:
        yield f"{words}: pool (MaxPooling2D) and move the training digits (RandomTranslation)"
    return f"{words}, trained on the same digits"


@_check(9)
def check_calibration(model, validation, mean_top_score, share_right):
    """Exercise 9: among digits with a top score of 0.9 or more, its mean and the share right."""
    if _missing(model, mean_top_score, share_right):
        yield "your model of exercise 4 first, then two numbers from 0 to 1"
    scores, digits = model.predict(validation[0], verbose=0), np.asarray(validation[1])
    top, right = scores.max(axis=1), scores.argmax(axis=1) == digits
    sure = top >= 0.9
    if _close(mean_top_score, top.mean(), 1e-6) or _close(share_right, right.mean(), 1e-6):
        yield "take only the digits whose top score is at least 0.9"
    if not _close(mean_top_score, top[sure].mean()):
        yield "the mean of the highest score of each of those digits"
    if not _close(share_right, right[sure].mean()):
        yield "the share of those digits whose highest score is the true digit"
    mean, share = top[sure].mean(), right[sure].mean()
    return f"{sure.sum():,} digits: mean top score {mean:.2%}, {share:.2%} right"


@_check(10)
def check_p_value(p_value, finding, fewest_fixes):
    """Exercise 10: McNemar's test on 28 fixes and 17 breaks; the fewest fixes of 45 to pass."""
    from scipy.stats import binomtest

    if _missing(p_value, finding, fewest_fixes):
        yield "replace the three None: a number, True or False, a whole number"
    expected = binomtest(28, 45).pvalue
    if _close(p_value, binomtest(28, 45, alternative="greater").pvalue, 1e-9):
        yield "that is the one-sided p-value: a change may fix more or break more"
    if not _close(p_value, expected, 1e-6):
        yield "45 digits changed: 28 heads in 45 coin tosses, or a split more uneven"
    if bool(finding) is not bool(expected < 0.05):
        yield "compare the p-value with 0.05"
    fewest = next(k for k in range(23, 46) if binomtest(k, 45).pvalue < 0.05)
    if fewest_fixes != fewest:
        yield "count up from 28 fixes out of the same 45 digits, with the same test, to p < 0.05"
    return f"p = {expected:.3f}: 28 against 17 is no finding; {fewest} of 45 would be"


@_check(11)
def check_prepare(prepare, held_out, count=200):
    """Exercise 11: ``prepare(photo)``: ink 1 on 0, centre of mass at (14, 14), no ink lost."""
    given = (255 - shifted(held_out[0][:count], 3) * 255).round().astype(np.uint8)  # photos
    if _missing(prepare) or _missing(prepare(given[0])):
        yield "write prepare(photo) and pass the function itself"
    ready = np.stack([np.asarray(prepare(photo), dtype=float) for photo in given])
    if ready.shape != given.shape:
        yield f"prepare should give a 28x28 array, not {ready.shape[1:]}"
    if ready.max() > 1 or ready.min() < 0:
        yield "pixels from 0 to 1: divide by 255"
    if np.median(ready[:, 0]) > 0.5:
        yield "MNIST is light ink on black: the paper should become 0, the ink 1"
    mass = ready.sum(axis=(1, 2))
    if not np.allclose(mass, (255 - given.astype(float)).sum(axis=(1, 2)) / 255, rtol=0.01):
        yield "move the ink without losing any: np.roll moves an array by whole pixels"
    centres = np.stack([(ready * index).sum((1, 2)) for index in np.indices((28, 28))]) / mass
    off = float(np.abs(centres - 14).max())
    if off > 1:
        yield f"a centre of mass {off:.1f} pixels off: the ink-weighted mean row and column"
    return f"{count} photos: light ink on black, centred within {off:.1f} pixels of (14, 14)"
