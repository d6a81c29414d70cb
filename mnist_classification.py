# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Classifying handwritten digits with neural networks
#
# MNIST holds 70,000 handwritten digits, 28×28 grey pixels each, with the digit each one shows.
# We train networks to read them and measure how well each does:
#
# 1. a **simple model**: one layer that turns the 784 pixels into ten scores, each squashed by
#    a **sigmoid** into a yes/no answer ("is this a 3?"); it reads 92.10% to 92.16% of the
#    test digits right;
# 2. a **deep model**: two hidden layers of **ReLU** units and a **softmax** output: 98.66% to
#    98.75% right;
# 3. the **ladder** between them, one change at a time, to measure what each change buys.
#
# The ranges are over six runs with different random seeds (`benchmarks/ladder_seeds.json`),
# this notebook's among them. Every number the cells print comes from running this file: in
# Jupyter cell by cell, or in a terminal with `python mnist_classification.py`.

# %%
# The lesson's helpers, in the mnist_lesson folder, come with it: stop here if they are missing.
import importlib.util
import sys

if importlib.util.find_spec("mnist_lesson") is None:
    missing = (
        "this lesson needs the mnist_lesson folder of its repository beside it: clone or "
        "download the whole repository and open the notebook there (in Colab: "
        "!git clone <the repository's URL>, then %cd into the folder it made, and run again)"
    )
    if "ipykernel" not in sys.modules:
        sys.exit(f"error: {missing}")

    class LessonFilesMissing(Exception):
        def _render_traceback_(self):  # Jupyter shows this one line instead of a traceback
            return [f"error: {missing}"]

    raise LessonFilesMissing(missing)

# %% tags=["parameters"]
data = (
    None  # mnist.npz or an IDX folder; None: $MNIST_PATH, else ~/.keras/datasets (downloaded once)
)
seed = 42  # same seed, same machine, same numbers
simple_epochs = 6  # for the models without hidden layers
deep_epochs = 5  # for the models with hidden layers
batch_size = 250  # divides the 55,000 training digits: every step has the same shape
output_dir = "outputs"  # figures, reports, metrics.json and the trained models go here
quick = False  # True: 3,000 training and 1,000 test digits instead of all, a smoke test
show = False  # script only: open each figure in a window

# %%
from mnist_lesson.lesson import start_lesson

# Reads the command line in a script and checks the output folder, before anything slow.
settings, outputs = start_lesson(
    data=data,
    seed=seed,
    simple_epochs=simple_epochs,
    deep_epochs=deep_epochs,
    batch_size=batch_size,
    output_dir=output_dir,
    quick=quick,
    show=show,
)

# %% [markdown]
# ## 1. The data
#
# MNIST is downloaded once into `~/.keras/datasets/mnist.npz`, where Keras keeps it. Offline, or
# behind a firewall, point `data` (or `--data`, or the `MNIST_PATH` environment variable) at a
# copy: a keras `mnist.npz` or a folder with the four original IDX files. Whatever is loaded is
# checked, and its content is compared with the standard MNIST.

# %%
import numpy as np

from mnist_lesson.data import load_mnist

mnist = load_mnist(settings.data)
x_train_images = mnist.x_train[: settings.train_examples]
train_digits = mnist.y_train[: settings.train_examples]
x_test_images = mnist.x_test[: settings.test_examples]
test_digits = mnist.y_test[: settings.test_examples]

print(f"source: {mnist.source} ({'standard' if mnist.standard else 'not the standard'} MNIST)")
print(f"training images {x_train_images.shape}, labels {train_digits.shape}")
print(f"test images     {x_test_images.shape}, labels {test_digits.shape}")
print("training examples per digit:", np.bincount(train_digits, minlength=10).tolist())
print("pixel values from", x_train_images.min(), "to", x_train_images.max())

# %% [markdown]
# Now the libraries, Keras among them: it builds and trains the networks, on TensorFlow by
# default (`KERAS_BACKEND=jax` before starting Python runs the same lesson on JAX).

# %%
from mnist_lesson.keras_setup import (
    backend_version,
    environment,
    import_keras_quietly,
    make_reproducible,
)

import_keras_quietly()  # Keras and its backend, without their start-up messages

import math
import time

import keras
import pandas as pd
from keras import layers
from sklearn.metrics import classification_report, confusion_matrix

from mnist_lesson import plots, reports
from mnist_lesson.architecture import change_label, describe, weights_fingerprint
from mnist_lesson.augmentation import RandomShift
from mnist_lesson.backprop import activation_spread, kernel_gradients
from mnist_lesson.benchmark_results import SeedResults
from mnist_lesson.drawing_pad import drawing_pad_for
from mnist_lesson.handwriting import prepare_image, render_as_photo
from mnist_lesson.training_log import per_model, training_log

op_determinism = make_reproducible(settings.seed)
print(f"Keras {keras.__version__} on {backend_version()}, seed {settings.seed}")

# %%
figure = plots.digit_grid(x_train_images[:30], [f"label {y}" for y in train_digits[:30]])
outputs.save_and_show(figure, "sample_digits.png")

# %% [markdown]
# ## 2. From pixels to network inputs
#
# Each pixel is a byte that says **how much ink** it holds: 0 for none (the paper), 255 for
# full ink; the plots draw more ink darker. A photo stores the opposite, **brightness**: paper
# near 255, ink dark, which is why a photo of your own handwriting (section 12) is inverted
# before the model sees it. We scale the bytes to [0, 1], the range Keras' initial weights are
# sized for, and give each network the 784 pixels of an image as one flat list.
#
# The last 5,000 training digits are held out as a **validation set**: models never learn from
# them; they show during training whether a model still improves on digits it has not seen,
# and they chose the training recipes (`benchmarks/recipe_search.py`). The 10,000 test digits
# are kept for the final verdict only.
#
# The labels become ten targets each, one per output of the models: the digit 3 becomes
# `[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]` ("one-hot"), the answer each output should give.

# %%
x_train = x_train_images.reshape(len(x_train_images), 784).astype("float32") / 255.0
x_test = x_test_images.reshape(len(x_test_images), 784).astype("float32") / 255.0

validation_size = round(len(x_train) / 12)  # 5,000 of MNIST's 60,000 training digits
fit_digits, val_digits = train_digits[:-validation_size], train_digits[-validation_size:]
one_hot = np.eye(10, dtype="float32")
# Handed to Keras once, as its backend's tensors, rather than copied again for every model.
x_fit, x_val = (keras.ops.convert_to_tensor(x) for x in np.split(x_train, [-validation_size]))
y_fit, y_val = (keras.ops.convert_to_tensor(one_hot[d]) for d in (fit_digits, val_digits))
y_test = one_hot[test_digits]
del x_train  # the tensors hold these pixels now
print(f"fit on {len(fit_digits)}, validate on {len(val_digits)}, test on {len(x_test)} digits")
print(f"the first training label, {fit_digits[0]}, as ten targets:", one_hot[fit_digits[0]])

# %% [markdown]
# ## 3. How we train and evaluate
#
# A model starts with random weights. Training shows it the training digits in **batches** of
# 250; after each batch, one **step**, the model's outputs are compared with the targets by a
# **loss**, one number that is small when the outputs are right. The **gradient** of the loss
# says, for every weight, how much the loss would grow if that weight grew a little; the
# optimizer, **Adam**, moves every weight a small step against its gradient, each weight with
# a step size of its own. One pass over all 55,000 training digits, 220 steps, is an
# **epoch**. The **learning rate**, the size of the steps, decays along a cosine from its
# start to zero: big steps early, fine steps at the end.
#
# Before the first step, the log prints each model's validation loss: a check that the model is
# wired right (sections 4 and 5 say what value to expect). After each epoch it prints the loss
# and the **accuracy**, the share of digits whose highest output is the right digit: on the
# training digits averaged over the epoch's steps, while the model was still changing, and on
# the validation digits measured once, at the end of the epoch.
#
# **Pairing.** So that comparing two models measures the models and not luck, models of the
# same shapes start from the same random weights (each is built right after
# `keras.utils.set_random_seed`), and every training run sees the same batches in the same
# order (it starts from the same seed). Models with the same recipe train **side by side**: one
# Keras model holds them, each with its own weights and loss. Each size of model has its
# **recipe**, epochs and learning rate chosen on the validation digits: the simple model's for
# the models without hidden layers, the deep model's for those with them.
#
# Evaluation asks a model for its answer on every test digit: its accuracy, a **confusion
# matrix** (row: the true digit, column: the model's answer) and a **classification report**.
# For each digit, **precision** is the share of the model's answers "3" that were 3s,
# **recall** the share of the true 3s it answered "3", and **F1** combines the two (their
# harmonic mean).

# %%
simple_recipe = {"epochs": settings.simple_epochs, "learning_rate": 0.05}
deep_recipe = {"epochs": settings.deep_epochs, "learning_rate": 0.004}
for recipe in (simple_recipe, deep_recipe):
    recipe["batch_size"] = settings.batch_size


def train(models, loss, recipe, shifted=()):
    """Train ``models`` ({name: model}) side by side on the training digits with ``recipe``,
    each with ``loss`` (or, given {name: loss}, its own); the digits are moved by up to a
    pixel (section 5) for the models named in ``shifted``. Returns, for each model, its history
    (per epoch, and before training), its initial weights' fingerprint, the training seconds
    and whether XLA compiled it."""
    pixels = keras.Input(shape=(784,))
    moved = RandomShift(pixels=1, seed=settings.seed)(pixels)
    together = keras.Model(
        pixels,
        {name: model(moved if name in shifted else pixels) for name, model in models.items()},
    )
    steps_per_epoch = math.ceil(x_fit.shape[0] / recipe["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(
        recipe["learning_rate"], recipe["epochs"] * steps_per_epoch
    )
    together.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=loss if isinstance(loss, dict) else {name: loss for name in models},
        metrics={name: [keras.metrics.CategoricalAccuracy(name="accuracy")] for name in models},
        steps_per_execution=min(20, steps_per_epoch),  # fewer round trips from Python
    )
    targets, validation_targets = ({name: y for name in models} for y in (y_fit, y_val))
    untrained = together.evaluate(
        x_val, validation_targets, batch_size=recipe["batch_size"], verbose=0, return_dict=True
    )
    initial_weights = {name: weights_fingerprint(model) for name, model in models.items()}
    keras.utils.set_random_seed(settings.seed)  # the same batches for every training run
    start = time.perf_counter()
    history = together.fit(
        x_fit,
        targets,
        validation_data=(x_val, validation_targets),
        epochs=recipe["epochs"],
        batch_size=recipe["batch_size"],
        verbose=0,
        callbacks=[training_log(list(models), untrained)],
    )
    seconds = time.perf_counter() - start
    per_epoch = per_model(history.history, list(models))
    before = per_model(untrained, list(models))
    return {
        name: {
            "history": per_epoch[name],
            "before_training": {f"val_{key}": value for key, value in before[name].items()},
            "initial_weights": initial_weights[name],
            "train_seconds": seconds,
            "xla": bool(together.jit_compile),
        }
        for name in models
    }


def predictions(model, images, chunk=10_000):
    """The model's ten outputs for each of ``images``, as a NumPy array (computed ``chunk``
    images at a time, to keep memory small)."""
    return np.concatenate([
        keras.ops.convert_to_numpy(model(images[start : start + chunk], training=False))
        for start in range(0, images.shape[0], chunk)
    ])  # fmt: skip


def accuracy(model, images, digits):
    """The share of ``images`` whose highest output is the right digit."""
    return float(np.mean(predictions(model, images).argmax(axis=1) == digits))


def evaluate(model, name, loss):
    """Test accuracy and loss, confusion matrix and classification report of ``model``, and the
    read-out of its weakest digit and most frequent mistake. Returns the numbers worth keeping
    and the model's output for every test digit."""
    test_outputs = predictions(model, x_test)
    predicted = test_outputs.argmax(axis=1)
    test_accuracy = float(np.mean(predicted == test_digits))
    per_digit_loss = getattr(keras.losses, loss)(y_test, test_outputs)
    test_loss = float(np.mean(keras.ops.convert_to_numpy(per_digit_loss)))
    matrix = confusion_matrix(test_digits, predicted, labels=range(10))
    report = classification_report(
        test_digits, predicted, labels=range(10), digits=4, zero_division=0
    )
    report_numbers = classification_report(
        test_digits, predicted, labels=range(10), zero_division=0, output_dict=True
    )
    weakest = reports.weakest_digit(report_numbers, matrix)
    mistake = reports.largest_confusion(matrix)
    loss_name = loss.replace("_crossentropy", " cross-entropy")
    print(f"{name} model: test accuracy {test_accuracy:.2%}, test loss {test_loss:.4f}", end=" ")
    print(f"({loss_name})\n")
    print(report)
    print(reports.read_weakest_digit(weakest))
    print(reports.read_largest_confusion(mistake))
    outputs.save_text(f"classification_report_{name}.txt", report)
    figure = plots.confusion_heatmap(
        matrix, f"{name} model: {test_accuracy:.2%} of {len(test_digits)} test digits right"
    )
    outputs.save_and_show(figure, f"confusion_matrix_{name}.png")
    results = {
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "confusion_matrix": matrix.tolist(),
        "weakest_digit": weakest,
        "most_frequent_mistake": mistake,
    }
    return results, test_outputs


# %% [markdown]
# ## 4. The simple model: ten sigmoid yes/no answers
#
# One `Dense` layer computes ten scores per digit, each a weighted sum of all 784 pixels plus a
# bias. Scores like these, before any squashing, are called **logits**. The **sigmoid**
# `1 / (1 + e^-z)` squashes each logit z into (0, 1): ten separate answers to "is this a 0?",
# "is this a 1?", ..., and the highest one is the model's answer. **Binary cross-entropy**
# trains each output as its own yes/no question against its own target (1 for the true digit,
# 0 for the nine others): ten logistic regressions side by side, the classic baseline. It can
# only draw straight boundaries through pixel space.
#
# Keras averages this loss over the ten outputs. Before training each output says about 0.5,
# so the loss should start near ln 2 = 0.69, the cost of a coin toss per question. An average
# over ten yes/no questions, most of them easy "no"s, is not on the scale of the deep model's
# loss: compare losses within a model, and accuracies across models. Beside the simple model
# trains its twin for the ladder (section 6): the same layer with a softmax output, which
# section 5 explains.


# %%
def one_layer(activation, name):
    keras.utils.set_random_seed(settings.seed)  # every one-layer model starts from these weights
    return keras.Sequential(
        [keras.Input(shape=(784,)), layers.Dense(10, activation=activation)], name=name
    )


simple_model = one_layer("sigmoid", "simple")
softmax_model = one_layer("softmax", "softmax")  # its twin for the ladder (section 6)
simple_model.summary(print_fn=print)
simple_runs = train(
    {"simple": simple_model, "softmax": softmax_model},
    {"simple": "binary_crossentropy", "softmax": "categorical_crossentropy"},
    simple_recipe,
)
simple_run = simple_runs["simple"]
print(f"both trained side by side in {simple_run['train_seconds']:.1f} s")

# %%
simple_results, simple_outputs = evaluate(simple_model, "simple", "binary_crossentropy")

# %% [markdown]
# The report's rows are the digits; the read-out under it spells out the weakest digit's row
# and the largest number off the confusion matrix's diagonal, the mistake the model makes most.
#
# The simple model scores about two points higher on the validation digits (its log) than on
# the test digits, on every seed. Held-out digits are not easier as such: with a random 5,000
# training digits held out instead, the two come out within a point of each other
# (`benchmarks/validation_split.py`). The last 5,000 digits of MNIST's training file are easier
# than the test digits for a one-layer model; for the deep model the difference is within
# seed-to-seed noise.
#
# Nothing ties the ten yes/no answers together, so they need not sum to 1:

# %%
simple_sums = simple_outputs.sum(axis=1)
low, median, high = np.percentile(simple_sums, [5, 50, 95])
simple_output_sums = {"median": median, "percentile_5": low, "percentile_95": high}
print(f"sum of the ten sigmoid outputs per test digit: median {median:.2f}, 5th-95th percentile "
      f"{low:.2f} to {high:.2f}")  # fmt: skip

# %% [markdown]
# ## 5. The deep model: ReLU hidden layers, a softmax output, shifted digits
#
# Hidden layers let the network build its own features (strokes, loops, corners) before it
# decides. Each hidden unit applies **ReLU**, `max(0, z)`: cheap, and its slope is exactly 1
# wherever the unit is active, so the gradient passes back through it without shrinking. A
# sigmoid's slope is at most 0.25: section 8 measures what that does.
#
# The output layer applies **softmax** to its ten logits, `e^z_i / Σ e^z_j`: ten positive
# scores that sum to 1, where a higher score for one digit means lower scores for the others:
# one answer out of ten. **Categorical cross-entropy** is its loss: minus the log of the score
# given to the true digit. An untrained network spreads its scores about evenly, 1/10 each, so
# the loss should start near ln 10 = 2.30.
#
# **Learning by heart, and shifted digits.** A network this size (669,706 weights) can learn
# details of its training digits that do not carry over to new digits: it then does better on
# the digits it trained on than on the validation digits. That is **overfitting**. The deep
# model trains on **shifted copies** instead: each time a training digit comes round, it is
# moved by up to one pixel up or down and left or right, at random (`RandomShift`, in training
# only; it is not part of the model you keep), so the network has to learn strokes rather than
# exact pixel positions.
#
# To see what the hidden layers' activation and the shift each do, two **siblings** train side
# by side with the deep model, from the same initial weights, on the same batches: the same
# network without the shift, and that network with sigmoid hidden units. The softmax twin of
# section 4 trains beside them too, with this recipe, for the ladder.

# %%
keras.utils.set_random_seed(settings.seed)  # the same initial weights as its siblings below
deep_model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ],
    name="deep",
)
deep_model.summary(print_fn=print)


def two_hidden_layers(activation, name):
    keras.utils.set_random_seed(settings.seed)
    return keras.Sequential(
        [keras.Input(shape=(784,))]
        + [layers.Dense(512, activation=activation) for _ in range(2)]
        + [layers.Dense(10, activation="softmax")],
        name=name,
    )


siblings = {
    "unshifted": two_hidden_layers("relu", "unshifted"),
    "sigmoid_hidden": two_hidden_layers("sigmoid", "sigmoid_hidden"),
}
softmax_deep_recipe_model = one_layer("softmax", "softmax_deep_recipe")  # for the ladder
deep_runs = train(
    {"deep": deep_model, **siblings, "softmax_deep_recipe": softmax_deep_recipe_model},
    "categorical_crossentropy",
    deep_recipe,
    shifted={"deep"},
)
print(f"the four trained side by side in {deep_runs['deep']['train_seconds']:.1f} s")

# %% [markdown]
# The log's training accuracy is averaged over each epoch while the model improves, and for the
# deep model counted on shifted digits; so we measure each model on both sets now, after
# training, on the digits as they are.

# %%
fit_accuracy = {}
for name, model in {"deep": deep_model, **siblings}.items():
    fit_accuracy[name] = {
        "training digits": accuracy(model, x_fit, fit_digits),
        "validation digits": accuracy(model, x_val, val_digits),
    }
    gap = fit_accuracy[name]["training digits"] - fit_accuracy[name]["validation digits"]
    fit_accuracy[name]["gap (points)"] = 100 * gap
reports.show_table(pd.DataFrame(fit_accuracy).T.round(4))

# %% [markdown]
# The gap between the two columns is overfitting made visible: the difference between the
# digits a model learned from and digits it never saw. Each sibling differs from the deep model
# in one thing; the ladder (section 6) compares them on the test digits.

# %%
deep_results, deep_probabilities = evaluate(deep_model, "deep", "categorical_crossentropy")
figure = plots.training_curves(
    {"simple": simple_run["history"], "deep": deep_runs["deep"]["history"]},
    {"simple": "binary cross-entropy", "deep": "categorical cross-entropy"},
)
outputs.save_and_show(figure, "training_history.png")

# %% [markdown]
# ## 6. One change at a time: the ladder from the simple model to the deep one
#
# From the simple model to the deep one we changed five things at once: the output, the
# training recipe, the hidden layers, their activation and the training digits. The **ladder**
# changes one at a time. Each rung is the rung above it with one change, trained on the same
# digits, from the same initial weights where the shapes allow it, on the same batches. Two
# rungs are the softmax twins trained beside the simple and the deep model: the simple model
# with a softmax output, and that model with the deep model's recipe, so that adding hidden
# layers changes nothing else.
#
# Every run of a network, with another seed, ends a little differently: other initial weights,
# other batches. A gain smaller than that seed-to-seed spread is not a finding. So beside this
# run's gains, the table shows each rung's **paired gain over the seeds** (the rung against the
# rung above it, same seed), smallest to largest, from `benchmarks/ladder_seeds.json`, where
# the lesson itself was run once per seed.

# %%
rungs = [  # each model with its loss, recipe, shift, and the run that trained it
    (simple_model, "binary_crossentropy", simple_recipe, 0, simple_run),
    (softmax_model, "categorical_crossentropy", simple_recipe, 0, simple_runs["softmax"]),
    (softmax_deep_recipe_model, "categorical_crossentropy", deep_recipe, 0,
     deep_runs["softmax_deep_recipe"]),
    (siblings["sigmoid_hidden"], "categorical_crossentropy", deep_recipe, 0,
     deep_runs["sigmoid_hidden"]),
    (siblings["unshifted"], "categorical_crossentropy", deep_recipe, 0, deep_runs["unshifted"]),
    (deep_model, "categorical_crossentropy", deep_recipe, 1, deep_runs["deep"]),
]  # fmt: skip
ladder = []
for model, loss, recipe, shift, run in rungs:
    rung = {"model": model.name, **describe(model), "loss": loss, **recipe, "xla": run["xla"],
            "shift_pixels": shift, "initial_weights": run["initial_weights"]}  # fmt: skip
    rung["change"] = change_label(ladder[-1], rung) if ladder else "the simple model"
    rung["validation_accuracy"] = accuracy(model, x_val, val_digits)
    rung["test_accuracy"] = accuracy(model, x_test, test_digits)
    ladder.append(rung)

seed_results = SeedResults.load(keras.backend.backend())
seed_gains = seed_results.ladder_gains(ladder, settings)
reports.show_table(reports.ladder_table(ladder, len(test_digits), seed_gains))
print(seed_results.describe_ladder(seed_gains))
outputs.save_and_show(plots.ladder(ladder, len(test_digits)), "ladder.png")

# %% [markdown]
# Read the paired gains over seeds from the top. The softmax output, one answer out of ten,
# does better than ten independent yes/no answers from the same layer, on every seed. The deep
# model's recipe, fewer epochs with smaller steps, costs the one-layer model a little on every
# seed: what the hidden layers gain below is not the recipe's. Two hidden layers are by far the
# biggest step. ReLU instead of sigmoid gains again on every seed, and the shifted training
# digits a little more, on every seed too, with less overfitting (section 5's table).
#
# One objection: the deep recipe was chosen for the ReLU model, so perhaps it merely suits
# sigmoid units less. `benchmarks/recipe_search.py` gave each of the two its own best learning
# rate on the validation digits, over the same seeds. ReLU wins on every seed either way:

# %%
print(seed_results.describe_fair_comparison())

# %% [markdown]
# ## 7. Keeping the results
#
# The models and their numbers are saved now, before the sections that look closer at them: a
# change that breaks one of those sections loses nothing. From here on the output folder holds
# this run's files only (what an earlier run wrote there is replaced; anything else you keep
# there stays): the figures, the reports, `models/simple.keras`, `models/deep.keras` and
# `metrics.json`. The models hold Keras' own layers only:
# `keras.saving.load_model("outputs/models/deep.keras")` loads one anywhere.

# %%
recipes = {"simple": simple_recipe, "deep": deep_recipe}
runs = {
    "simple": (simple_model, "binary_crossentropy", 0, simple_run, simple_results),
    "deep": (deep_model, "categorical_crossentropy", 1, deep_runs["deep"], deep_results),
}
metrics = {
    "dataset": {
        "source": mnist.source,
        "standard_mnist": mnist.standard,
        "n_train": len(fit_digits),
        "n_validation": len(val_digits),
        "n_test": len(x_test),
    },
    "seed": settings.seed,
    "quick": settings.quick,
    "environment": environment(op_determinism),
    "models": {
        name: {
            **describe(model),
            "loss": loss,
            **recipes[name],
            "shift_pixels": shift,
            **run,
            **results,
        }  # fmt: skip
        for name, (model, loss, shift, run, results) in runs.items()
    },
    "simple_output_sums": simple_output_sums,
    "fit_accuracy": fit_accuracy,
    "ladder": ladder,
}
outputs.save_model(simple_model, "models/simple.keras")
outputs.save_model(deep_model, "models/deep.keras")
outputs.save_json("metrics.json", metrics)
outputs.keep_run()

# %% [markdown]
# ## 8. Why ReLU: the signal fades through sigmoid layers, measured
#
# Training moves each weight against its gradient, and the gradient is computed backwards:
# the output's error travels from the last layer to the first, multiplied at each layer by the
# weights and by the activation's slope (**backpropagation**). A sigmoid's slope is at most
# 0.25, so after a few sigmoid layers little may be left for the layers near the input.
#
# The signal that flows forwards matters too. The measurement: a stack of six hidden layers of
# 64 units with a softmax output, built twice from the same initial weights, once with sigmoid
# and once with ReLU units. On 512 training digits, before any training, we compute for each
# hidden layer how much its activations differ from digit to digit (the **spread**: each
# unit's standard deviation over the digits, averaged over the units), and how large the
# gradient of the loss is for its weights.

# %%
hidden_layers, hidden_width = 6, 64


def hidden_stack(activation):
    keras.utils.set_random_seed(settings.seed)  # both stacks start from the same weights
    return keras.Sequential(
        [keras.Input(shape=(784,))]
        + [layers.Dense(hidden_width, activation=activation) for _ in range(hidden_layers)]
        + [layers.Dense(10, activation="softmax")],
        name=f"{activation}_stack",
    )


stacks = {activation: hidden_stack(activation) for activation in ("sigmoid", "relu")}
probe_pixels = keras.ops.convert_to_numpy(x_fit[:512])
probe_targets = one_hot[fit_digits[:512]]
spread = {name: activation_spread(stack, probe_pixels) for name, stack in stacks.items()}
gradient_norms = {
    name: [
        float(np.linalg.norm(g)) for g in kernel_gradients(stack, probe_pixels, probe_targets)[:-1]
    ]
    for name, stack in stacks.items()
}
per_layer = {}
for name in stacks:
    per_layer[f"{name} spread"], per_layer[f"{name} gradient"] = spread[name], gradient_norms[name]
reports.show_table(
    pd.DataFrame(per_layer, index=pd.RangeIndex(1, hidden_layers + 1, name="hidden layer")).T.map(
        lambda value: f"{value:.1e}"
    )
)

# %% [markdown]
# Read the rows from layer 1, next to the input, to layer 6. In the sigmoid stack the spread
# shrinks layer after layer: every digit reaches the last hidden layers as nearly the same
# activations, so the layers near the output, which get the largest gradients, have almost
# nothing that tells the digits apart. The layers near the input, which do see the
# differences, get the smallest gradients: the error shrinks on its way back through every
# sigmoid. In the ReLU stack both shrink far less from layer to layer.
#
# Does that stop learning? We train both stacks side by side for two epochs on 6,000 digits
# with plain stochastic gradient descent, whose steps are proportional to the gradient (Adam
# divides each weight's step by the size of that weight's recent gradients), and measure
# validation accuracy.

# %%
pixels = keras.Input(shape=(784,))
stacks_side_by_side = keras.Model(pixels, {name: stack(pixels) for name, stack in stacks.items()})
stacks_side_by_side.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.1),
    loss={name: "categorical_crossentropy" for name in stacks},
    steps_per_execution=20,
)
short_training_examples = min(x_fit.shape[0], 6_000)
stack_val_accuracy = {name: [] for name in stacks}
keras.utils.set_random_seed(settings.seed)
for _epoch in range(2):
    stacks_side_by_side.fit(
        x_fit[:short_training_examples],
        {name: y_fit[:short_training_examples] for name in stacks},
        epochs=1,
        batch_size=50,
        verbose=0,
    )
    for name, stack in stacks.items():
        stack_val_accuracy[name].append(accuracy(stack, x_val, val_digits))
for name, values in stack_val_accuracy.items():
    print(f"{name:>7} stack, validation accuracy per epoch:", np.round(values, 3))
print(seed_results.describe_depth())

figure = plots.signal_through_layers(spread, gradient_norms, stack_val_accuracy)
outputs.save_and_show(figure, "vanishing_gradients.png")

# %% [markdown]
# In two epochs the sigmoid stack stays at chance, one digit in ten, while the same stack with
# ReLU units learns. The last line repeats this experiment with two, four and six hidden layers
# over six seeds (`benchmarks/depth_seeds.py`): ReLU's lead is larger with four or six hidden
# layers than with two, on every seed. It is one reason deep networks use ReLU or its
# relatives in their hidden layers.

# %% [markdown]
# ## 9. What the simple model learned
#
# The simple model has one weight per pixel and digit, so each digit's 784 weights can be drawn
# as a 28×28 image: red pixels are evidence *for* that digit, blue pixels evidence *against* it.
# Pixels inked in fewer than one training digit in twenty are greyed out: their weights were
# rarely used.

# %%
pixel_usage = (x_train_images > 0).mean(axis=0).ravel()  # how often each pixel holds ink
simple_kernel = simple_model.layers[0].get_weights()[0]
figure = plots.weight_images(simple_kernel, pixel_usage)
outputs.save_and_show(figure, "simple_model_weights.png")
drawn = pixel_usage >= 0.05
strength = np.abs(simple_kernel).max(axis=1)[drawn]  # each pixel's strongest weight
strongest = strength >= np.percentile(strength, 90)
weight_usage = {
    "all pixels drawn": float(np.median(pixel_usage[drawn])),
    "the tenth with the strongest weights": float(np.median(pixel_usage[drawn][strongest])),
}
for label, usage in weight_usage.items():
    print(f"{label}: inked in {usage:.0%} of the training digits (median)")

# %% [markdown]
# These are not ten neat pictures of digits. The darkest colours sit at the edge of the drawn
# area, on pixels that few digits ink (the two lines above compare them): the model learned to
# let a rare stroke there count heavily against a digit. Inside, the patterns are fainter: the
# 0 has a blue bar down its centre, where a 0 has no ink, and the 1 a red line down its middle,
# flanked by blue. Each image shows what separates its digit from the nine others, pixel by
# pixel: all one layer can learn.

# %% [markdown]
# ## 10. Where the deep model fails
#
# The digits it gets wrong, with its answer and its score for that answer. Many are hard for
# people too. The table lists the pairs it confuses most.

# %%
deep_predicted = deep_probabilities.argmax(axis=1)
wrong = np.flatnonzero(deep_predicted != test_digits)
print(f"{len(wrong)} of {len(test_digits)} test digits misclassified")
shown = wrong[:20]
figure = plots.digit_grid(
    x_test_images[shown],
    [f"{test_digits[i]}→{deep_predicted[i]} ({deep_probabilities[i].max():.0%})" for i in shown],
)
outputs.save_and_show(figure, "misclassified_deep.png")

matrix = np.array(deep_results["confusion_matrix"])
np.fill_diagonal(matrix, 0)
pairs = sorted(
    ((int(matrix[t, p]), t, p) for t in range(10) for p in range(10) if matrix[t, p]), reverse=True
)
confused_pairs = pd.DataFrame(
    [{"true digit": t, "predicted as": p, "times": count} for count, t, p in pairs[:8]]
)
print(confused_pairs.to_string(index=False))

# %% [markdown]
# A dense layer gives every pixel position its own weights, so nothing in it knows that a stroke
# moved by a few pixels is the same stroke: it has to learn each position from examples. Here
# is how much that costs: the simple model, the deep model's unshifted sibling and the deep
# model on the test digits moved by 1 to 4 pixels (each digit in one of the four directions,
# in turn; what leaves the 28×28 field is lost).


# %%
def shifted(images, pixels):
    """Digit i moved ``pixels`` down, up, right or left, by i mod 4; the uncovered border is
    background."""
    padded = np.pad(images, ((0, 0), (pixels, pixels), (pixels, pixels)))
    moved = np.empty_like(images)
    for direction, (down, right) in enumerate([(1, 0), (-1, 0), (0, 1), (0, -1)]):
        top, left = pixels - down * pixels, pixels - right * pixels
        moved[direction::4] = padded[direction::4, top : top + 28, left : left + 28]
    return moved


shift_pixels = [0, 1, 2, 3, 4]
robustness_models = {"simple": simple_model, "unshifted": siblings["unshifted"], "deep": deep_model}
shift_accuracy = {name: [] for name in robustness_models}
for pixels in shift_pixels:
    x_shifted = shifted(x_test_images, pixels).reshape(len(x_test_images), 784) / np.float32(255)
    for name, model in robustness_models.items():
        shift_accuracy[name].append(accuracy(model, x_shifted, test_digits))
reports.show_table(pd.DataFrame(shift_accuracy, index=[f"{p} px" for p in shift_pixels]).T.round(4))
outputs.save_and_show(plots.shift_accuracy(shift_pixels, shift_accuracy), "shift_robustness.png")

# %% [markdown]
# Compare the deep model with its unshifted sibling, the same network trained on the digits as
# they are: training on digits moved by one pixel makes it hold up far better at one and two
# pixels, and better at every shift measured. Beyond the shifts it trained on it still loses
# ground fast: what a dense layer learns is tied to where strokes were. The simple model, whose
# weights are fixed pixel positions, loses most. This is why MNIST digits are centred by their
# centre of mass, why section 12 does the same to your images, and why image models use
# convolutions: the same small filter slides over every position.

# %% [markdown]
# ## 11. Softmax scores are not yet probabilities
#
# The deep model's ten scores lie between 0 and 1 and sum to 1. It is tempting to read them as
# probabilities, "98% sure it is a 7". Whether they deserve that is a measurement,
# **calibration**: among the digits where the top score is about 0.9, is the model right about
# 9 times in 10? The first table groups the test digits by the top score and compares the mean
# score with how often the answer was right; the **calibration error** is the gap between the
# two, averaged over the digits. The second table compares the test digits as they are with
# the same digits moved by three pixels, a shift the model never trained on.

# %%
calibration = reports.calibration(deep_probabilities, test_digits)
reports.show_table(pd.DataFrame(calibration["bins"]).round(4))
moved_probabilities = predictions(
    deep_model, shifted(x_test_images, 3).reshape(len(x_test_images), 784) / np.float32(255)
)
confidence = {
    label: reports.confidence_summary(probabilities, test_digits, at_least=0.9)
    for label, probabilities in (
        ("as they are", deep_probabilities),
        ("moved by 3 pixels", moved_probabilities),
    )
}
reports.show_table(pd.DataFrame.from_dict(confidence, orient="index").round(4))

least_sure = np.argsort(deep_probabilities.max(axis=1))[:3]
examples = np.concatenate([np.arange(min(3, len(test_digits))), least_sure])
figure = plots.probability_bars(
    x_test_images[examples], deep_probabilities[examples], test_digits[examples]
)
outputs.save_and_show(figure, "softmax_probabilities.png")

# %% [markdown]
# On the test digits as they are, the mean top score and the share of right answers are close
# (cross-entropy is lowest when scores match how often the answers are right, on digits like
# the training digits). Moved by three pixels, the model's mean top score is higher than its
# share of right answers, and more of its mistakes come with a top score of 0.9 or more: its
# scores say more than it knows. A softmax score is a probability only as far as it has been
# measured to be one, on digits like those it was measured on. The bars show three clear
# digits and the three the model was least sure of, its scores spread over the candidates a
# person would hesitate between too.

# %% [markdown]
# ## 12. Try it on your own handwriting
#
# A photo of a digit on paper looks nothing like an MNIST digit: dark ink on white paper, much
# larger, anywhere in the picture, with shadows and grain. `prepare_image` repeats the steps
# MNIST's makers used: invert the brightness into ink (section 2), crop to the ink, scale it to
# fit a 20×20 box keeping its aspect ratio, and centre it by its centre of mass in 28×28.
#
# Below, test digits are saved as PNG files that look like such photos, each named after its
# true digit, then read back and classified through that same function; the lower row shows what
# the model saw. To try your own, photograph one digit written with a dark pen on white paper
# and run `python predict_digits.py my_digit.jpg --save-preprocessed seen/`.

# %%
rng = np.random.default_rng(settings.seed)
photos, photo_paths, photo_digits = [], [], []
for index in rng.choice(len(x_test_images), size=min(6, len(x_test_images)), replace=False):
    digit = int(test_digits[index])
    photo = render_as_photo(x_test_images[index], rng)
    photos.append(np.asarray(photo))
    name = f"handwriting_examples/test_digit_{index}_is_a_{digit}.png"
    photo_paths.append(outputs.save_image(photo, name))
    photo_digits.append(digit)

seen = np.stack([prepare_image(path) for path in photo_paths])
photo_probabilities = predictions(deep_model, seen.reshape(len(seen), 784))
figure = plots.photo_round_trip(photos, seen, photo_probabilities, photo_digits)
outputs.save_and_show(figure, "own_handwriting_round_trip.png")

# %% [markdown]
# ## 13. Draw a digit and watch the models decide
#
# Below, both models run in a drawing pad: draw a digit with the mouse, a finger or a pen, and
# watch both answers, the deep model's hidden units and the pixels that decided its answer
# change with every stroke. It runs in the page, from the weights embedded in it, with no
# server or network; `draw_a_digit.html` in the output folder is the same pad for any browser.
# Draw a neat digit, then a sloppy one (a 4 closed at the top, a 7 with a bar) and watch the
# two models agree, then part; count the hidden units that are active. (A model the pad cannot
# run, a convnet for one, gets a line saying so instead.)

# %%
drawing_pad = drawing_pad_for(deep_model, simple_model)
if drawing_pad:
    pad_page = outputs.save_text("draw_a_digit.html", drawing_pad.page())
    print(f"draw a digit: open {pad_page} in a browser")
drawing_pad  # in a notebook, the pad itself is this cell's output

# %% [markdown]
# ## The end
#
# `metrics.json` now gets the numbers of sections 8 to 11 too. Everything this run made is in
# the output folder.

# %%
metrics |= {
    "vanishing_gradient": {
        "hidden_layers": hidden_layers,
        "hidden_width": hidden_width,
        "activation_spread": spread,
        "gradient_norms": gradient_norms,
        "short_training": {
            "optimizer": "SGD(learning_rate=0.1)",
            "examples": short_training_examples,
            "val_accuracy": stack_val_accuracy,
        },
    },
    "weight_pictures": weight_usage,
    "most_confused_pairs": confused_pairs.to_dict(orient="records"),
    "robustness": {"shift_pixels": shift_pixels, **shift_accuracy},
    "calibration": {**calibration, "confidence": confidence},
}
outputs.finish(metrics)
