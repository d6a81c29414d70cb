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
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Classifying handwritten digits with neural networks
#
# MNIST holds 70,000 handwritten digits, each a small picture with the digit it shows. This
# lesson teaches a computer to read them, in three parts:
#
# 1. **The basics**: a simple model, then a deep one, each built, trained and tested in a few
#    lines that you can reuse on data of your own. The simple model reads 92.10% to
#    92.16% of the test digits right, the deep one 98.64% to 98.72%.
# 2. **The experiments**: why the deep model does better, one change at a time, and where it
#    still fails.
# 3. **Using it**: your own handwriting, and a pad to draw digits on.
#
# The ranges are over six runs that differ only in their random draws
# (`benchmarks/ladder_seeds.json`). Every other number comes from running this file, or, where
# a line names a file in `benchmarks/`, from the runs recorded there.

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
# The lesson's settings: change them here, or on the command line (--help lists them).
data = None  # mnist.npz, or a folder of its original IDX files; None: $MNIST_PATH, else Keras' copy
seed = 42  # where every random draw starts: the same seed gives the same numbers
simple_epochs = 6  # passes over the training digits, for the models without hidden layers
deep_epochs = 5  # ... and for those with hidden layers (epochs: section 3; layers: section 4)
batch_size = 250  # training digits per step (section 3)
output_dir = "outputs"  # figures, reports, metrics.json and the trained models go here
quick = False  # True: 3,000 training and 1,000 test digits, a quick check that all runs
show = False  # in a terminal only: open each figure in a window

# %%
from mnist_lesson.lesson import start_lesson, terminal_heading

# Reads the command line in a terminal and checks the output folder, before anything slow.
# terminal_heading, in each section below, prints its heading in a terminal; a notebook has
# the heading above the cell and prints nothing.
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
# # Part 1: The basics

# %% [markdown]
# ## 1. The data
#
# Each digit is a grid of 28×28 **pixels**, and each pixel a number from 0 (no ink) to 255
# (full ink). MNIST comes in two sets: 60,000 training digits to learn from, and 10,000 test
# digits, written by other people, to measure how well a model reads digits it has never seen.
# The first run downloads MNIST (11 MB) to `~/.keras/datasets`; offline, point `data`, `--data`
# or `MNIST_PATH` at a copy.

# %%
terminal_heading("Part 1: The basics", "1. The data")
import numpy as np

from mnist_lesson.data import load_mnist

mnist = load_mnist(settings.data)
# All the digits; a quick run (quick = True) takes the first 3,000 and 1,000 only.
train_images = mnist.x_train[: settings.train_examples]
train_digits = mnist.y_train[: settings.train_examples]
test_images = mnist.x_test[: settings.test_examples]
test_digits = mnist.y_test[: settings.test_examples]

print(f"source: {mnist.source} ({'standard' if mnist.standard else 'not the standard'} MNIST)")
print(f"training images {train_images.shape}, test images {test_images.shape}")
print("training digits of each kind, 0 to 9:", np.bincount(train_digits, minlength=10).tolist())

# %% [markdown]
# Now the libraries. **Keras** builds and trains the networks; it runs on a **backend** that
# does the arithmetic, TensorFlow unless you start Python with `KERAS_BACKEND=jax`. Then 30
# training digits and their labels.

# %%
from mnist_lesson.keras_setup import environment, import_keras_quietly, make_reproducible

import_keras_quietly()  # Keras and its backend, without their start-up messages

import math

import keras
import pandas as pd
from keras import layers
from sklearn.metrics import classification_report, confusion_matrix

from mnist_lesson import plots, reports

# Seeds every random generator; on a GPU it also asks for operations that give the same
# result every time, and op_determinism is then True.
op_determinism = make_reproducible(settings.seed)
print(f"Keras {keras.__version__} on {keras.backend.backend()}")

figure = plots.digit_grid(train_images[:30], [f"label {d}" for d in train_digits[:30]])
outputs.save_and_show(figure, "sample_digits.png")

# %% [markdown]
# ## 2. From pixels to network inputs
#
# We divide the pixels by 255, so that each one is a number between 0 and 1: networks learn
# best from small inputs. Each image gets a last axis of size 1, its one **channel** of grey (a
# colour photo has three), as Keras expects of images.
#
# The last 5,000 training digits become the **validation** set: the models never learn from
# them, but show on them how they do on unseen digits while they train, and we choose settings
# with them. The test digits give the final verdict only.
#
# Each label becomes ten **targets**, one per output of a model: 1 for the right digit, 0 for
# the others (**one-hot**), so that the digit 3 becomes `[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]`.

# %%
terminal_heading("2. From pixels to network inputs")
x_train = np.divide(train_images[..., np.newaxis], 255, dtype="float32")  # shape (N, 28, 28, 1)
x_test = np.divide(test_images[..., np.newaxis], 255, dtype="float32")

validation_size = round(len(x_train) / 12)  # 5,000 of MNIST's 60,000 training digits
x_fit, x_val = x_train[:-validation_size], x_train[-validation_size:]
fit_digits, val_digits = train_digits[:-validation_size], train_digits[-validation_size:]
targets = np.eye(10, dtype="float32")  # the identity matrix: row d holds the digit d's targets
# Indexing it by an array of digits picks one row per digit.
y_fit, y_val, y_test = targets[fit_digits], targets[val_digits], targets[test_digits]

print(f"train on {len(x_fit)}, validate on {len(x_val)}, test on {len(x_test)} digits")
print(f"pixels from {x_fit.min()} to {x_fit.max()}")
print(f"the first training digit, a {fit_digits[0]}, as targets: {y_fit[0]}")

# %% [markdown]
# ## 3. The simple model: ten yes/no answers
#
# A neural network is a stack of **layers**. `Flatten` lays each image out as one row of 784
# numbers. A `Dense` layer has **units**: each unit multiplies every input by a **weight** of
# its own, adds up the products and adds a **bias**; training learns the weights and biases.
# Our simple model has one `Dense` layer of ten units, one per digit. Their sums are the
# **logits**, and the **sigmoid** `1 / (1 + e^-z)`, the layer's **activation** function,
# squashes each logit z into a number between 0 and 1: ten separate yes/no answers ("is this a
# 3?"). The highest is the model's answer.
#
# A model's weights start random. The **seed** fixes all random draws: set before building a
# model, the same seed gives the same starting weights.

# %%
terminal_heading("3. The simple model: ten yes/no answers")
keras.utils.set_random_seed(settings.seed)  # the same seed, the same starting weights
# keras.Sequential: the layers in order, after keras.Input, the shape of one input digit.
simple_model = keras.Sequential(
    [keras.Input(shape=(28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="sigmoid")],
    name="simple",
)
simple_model.summary()

# %% [markdown]
# The summary lists the layers. "Output Shape" `(None, 10)` means ten numbers per digit, for
# any number of digits at once (`None`). "Param #" counts what training will learn: 784
# weights for each of the ten units plus ten biases.
#
# **Training** repeats one **step**:
#
# - The model reads a **batch** of 250 training digits.
# - A **loss** measures how wrong its outputs are: one number, small when they are right.
#   Here it is **binary cross-entropy**, −ln(output) for a target 1 and −ln(1 − output) for a
#   target 0, averaged over the ten answers.
# - The **gradient** of the loss tells, for every weight, how the loss would change if that
#   weight grew a little.
# - The **optimizer** moves every weight a little against its gradient. Ours, **Adam**,
#   divides each weight's step by the size of its recent gradients.
#
# The **learning rate** sets how big the steps are; here it falls from 0.05 to zero along a
# cosine curve. One pass over the training digits, 220 steps, is an **epoch**. The figure
# draws one step with this model's numbers, and the learning rate per step.
#
# `compile` gives the model its loss and optimizer. Before training, each output says about 0.5,
# so the loss should be near ln 2 = 0.69, a little either side as the weights are random:
# `evaluate` checks that the model is wired right. `fit` then trains it, and prints after each
# epoch the loss and the **accuracy**, the share of digits whose highest output is the right
# digit: on the training digits, averaged over the epoch while the model changed, and on the
# validation digits (`val_`), which happen to be easier (section 7). We ask for
# `categorical_accuracy`, which compares the highest output with the digit (plain `"accuracy"`
# would score the ten yes/no answers one by one).

# %%
steps_per_epoch = math.ceil(len(x_fit) / settings.batch_size)
simple_schedule = keras.optimizers.schedules.CosineDecay(
    0.05, decay_steps=settings.simple_epochs * steps_per_epoch
)
simple_model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=simple_schedule),
    loss="binary_crossentropy",
    metrics=["categorical_accuracy"],
)
figure = plots.training_step(
    simple_model, settings.batch_size, simple_schedule, steps_per_epoch, settings.simple_epochs
)
outputs.save_and_show(figure, "training_step.png")

# %%
simple_untrained = simple_model.evaluate(x_val, y_val, verbose=0, return_dict=True)
print(f"before training: validation loss {simple_untrained['loss']:.4f}")
keras.utils.set_random_seed(settings.seed)  # the same seed, the same batches in the same order
simple_history = simple_model.fit(
    x_fit,
    y_fit,
    epochs=settings.simple_epochs,
    batch_size=settings.batch_size,
    validation_data=(x_val, y_val),
    verbose=2,
)

# %% [markdown]
# **Testing.** Now the test digits, once: `evaluate` gives the loss and the accuracy, and
# `predict` the ten outputs for every digit.

# %%
simple_loss, simple_accuracy = simple_model.evaluate(x_test, y_test, verbose=0)
simple_outputs = simple_model.predict(x_test, verbose=0)
simple_answers = simple_outputs.argmax(axis=1)  # for each digit, the place of its highest output
print(f"simple model: test accuracy {simple_accuracy:.2%}, test loss {simple_loss:.4f}")

# %% [markdown]
# A **confusion matrix** counts, for each true digit (a row), the model's answers (the columns).
# Right answers fill the diagonal. The **heatmap**, the matrix as coloured cells, greys them out
# and colours only the mistakes, so that a few dozen show beside a thousand right answers.

# %%
simple_matrix = confusion_matrix(test_digits, simple_answers, labels=range(10))
title = f"simple model: {simple_accuracy:.2%} of {len(test_digits):,} test digits right"
outputs.save_and_show(plots.confusion_heatmap(simple_matrix, title), "confusion_matrix_simple.png")

# %% [markdown]
# The **classification report** has a row per digit. **Precision** is the share of the model's
# answers "3" that were 3s; **recall** the share of the true 3s it answered "3"; the
# **F1-score** is high only when both are. **Support** is how many test digits the row counts.
# Below them, the **macro avg** is the plain mean over the ten digits and the **weighted avg**
# the mean weighted by support. Two lines under it name the weakest digit and the commonest
# mistake.

# %%
simple_report = classification_report(test_digits, simple_answers, digits=4, zero_division=0)
outputs.save_text("classification_report_simple.txt", simple_report)
print(simple_report)
print(reports.read_out(simple_matrix))

# %% [markdown]
# Nothing ties the ten yes/no answers together, so they need not add up to 1:

# %%
sums = simple_outputs.sum(axis=1)
simple_output_sums = dict(
    zip(["percentile_5", "median", "percentile_95"], np.percentile(sums, [5, 50, 95]).tolist())
)
print(
    "sum of the ten outputs per test digit: median {median:.2f}, 90% of digits between "
    "{percentile_5:.2f} and {percentile_95:.2f}".format(**simple_output_sums)
)

# %% [markdown]
# ## 4. The deep model: hidden layers, softmax, shifted digits
#
# **Hidden layers** sit between the input and the output: their units learn patterns of their
# own (**features**), such as strokes and loops, from which the output layer decides. Each
# hidden unit applies **ReLU**, `max(0, z)`: it passes a positive sum on and stops a negative
# one. The output layer applies **softmax**, `e^z_i / (e^z_0 + ... + e^z_9)`: ten positive
# scores that add up to 1, one answer out of ten. Its loss, **categorical cross-entropy**, is
# minus the log of the score the true digit gets. Untrained, the scores are about 1/10 each, so
# the loss should start near ln 10 = 2.30.
#
# A network this size can learn details of its training digits that do not carry over, and
# then does better on them than on new ones: **overfitting**.
# `RandomTranslation` moves each training digit by up to a pixel in each direction (1/28 of its
# size; `fill_mode="constant"` leaves uncovered pixels blank), differently each time it comes
# round, so that the network has to learn strokes rather than exact pixels. It acts only in
# training: tested, a digit passes unchanged.

# %%
terminal_heading("4. The deep model: hidden layers, softmax, shifted digits")
keras.utils.set_random_seed(settings.seed)
deep_model = keras.Sequential(
    [
        keras.Input(shape=(28, 28, 1)),
        layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant", seed=settings.seed),
        layers.Flatten(),
        layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ],
    name="deep",
)
deep_model.summary()
outputs.save_and_show(plots.network(deep_model), "deep_network.png")

# %% [markdown]
# It trains the same way, with its own **recipe**, its training settings, chosen on the
# validation digits (`benchmarks/recipe_search.py`): five epochs, a learning rate starting at
# 0.004.

# %%
deep_schedule = keras.optimizers.schedules.CosineDecay(
    0.004, decay_steps=settings.deep_epochs * steps_per_epoch
)
deep_model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=deep_schedule),
    loss="categorical_crossentropy",
    metrics=["categorical_accuracy"],
)

# %%
deep_untrained = deep_model.evaluate(x_val, y_val, verbose=0, return_dict=True)
print(f"before training: validation loss {deep_untrained['loss']:.4f}")
keras.utils.set_random_seed(settings.seed)
deep_history = deep_model.fit(
    x_fit,
    y_fit,
    epochs=settings.deep_epochs,
    batch_size=settings.batch_size,
    validation_data=(x_val, y_val),
    verbose=2,
)

# %%
deep_loss, deep_accuracy = deep_model.evaluate(x_test, y_test, verbose=0)
deep_outputs = deep_model.predict(x_test, verbose=0)
deep_answers = deep_outputs.argmax(axis=1)
print(f"deep model: test accuracy {deep_accuracy:.2%}, test loss {deep_loss:.4f}")

deep_matrix = confusion_matrix(test_digits, deep_answers, labels=range(10))
title = f"deep model: {deep_accuracy:.2%} of {len(test_digits):,} test digits right"
outputs.save_and_show(plots.confusion_heatmap(deep_matrix, title), "confusion_matrix_deep.png")

deep_report = classification_report(test_digits, deep_answers, digits=4, zero_division=0)
outputs.save_text("classification_report_deep.txt", deep_report)
print(deep_report)
print(reports.read_out(deep_matrix))

# %% [markdown]
# Each model's loss and accuracy, epoch by epoch, on the training digits (solid) and the
# validation digits (dashed), each loss on its own scale:

# %%
histories = {"simple": simple_history.history, "deep": deep_history.history}
outputs.save_and_show(plots.training_curves(histories), "training_history.png")

# %% [markdown]
# ## 5. Keeping the results
#
# The models and their numbers are saved now, before Part 2.
# `outputs.save_model` calls `model.save(path)`, the line for your own code, through a temporary
# file, so that a stopped run leaves no half-written file. `keras.saving.load_model` loads a
# saved model back, ready to `evaluate` or `predict`. To train on data of your own, start from
# "What to try next": Part 1's lines without the lesson's helpers.

# %%
terminal_heading("5. Keeping the results")
from mnist_lesson.architecture import change_label, describe, weights_fingerprint


def recipe(schedule, epochs) -> dict:
    """A model's training settings, read off its learning-rate schedule."""
    rate = schedule.get_config()["initial_learning_rate"]
    return {"epochs": epochs, "learning_rate": rate, "batch_size": settings.batch_size}


def model_record(model, loss, schedule, epochs, history, untrained, test_loss, matrix) -> dict:
    """What metrics.json keeps of one trained model: how it was built and trained, its results."""
    return {
        **describe(model),
        "loss": loss,
        **recipe(schedule, epochs),
        "before_training": untrained,
        "history": history.history,
        "test_accuracy": float(np.trace(matrix) / matrix.sum()),
        "test_loss": float(test_loss),
        "confusion_matrix": matrix.tolist(),
        **reports.weakest_and_most_confused(matrix),
    }


metrics = {
    "dataset": {
        "source": mnist.source,
        "standard_mnist": mnist.standard,
        "n_train": len(x_fit),
        "n_validation": len(x_val),
        "n_test": len(x_test),
    },
    "seed": settings.seed,
    "quick": settings.quick,
    "environment": environment(op_determinism),
    "models": {
        "simple": model_record(
            simple_model,
            loss="binary_crossentropy",
            schedule=simple_schedule,
            epochs=settings.simple_epochs,
            history=simple_history,
            untrained=simple_untrained,
            test_loss=simple_loss,
            matrix=simple_matrix,
        ),
        "deep": model_record(
            deep_model,
            loss="categorical_crossentropy",
            schedule=deep_schedule,
            epochs=settings.deep_epochs,
            history=deep_history,
            untrained=deep_untrained,
            test_loss=deep_loss,
            matrix=deep_matrix,
        ),
    },
    "simple_output_sums": simple_output_sums,
}
outputs.save_model(simple_model, "models/simple.keras")
outputs.save_model(deep_model, "models/deep.keras")
outputs.save_json("metrics.json", metrics)
# This run's files now replace the last run's.
outputs.keep_run()
print(f"saved in {outputs.path}/: models/simple.keras, models/deep.keras, metrics.json")

# %% [markdown]
# # Part 2: The experiments
#
# ## 6. The ladder: one change at a time
#
# From the simple model to the deep one we changed five things at once: the output, the
# recipe, the hidden layers, their activation and the shifted digits. The **ladder** makes
# one change per rung, each rung trained like the models of Part 1, one `fit` each. Rungs are
# **paired**: the same seed before building gives the same starting weights to every model of
# the same shape, and the same seed before `fit` gives every model the same batches, in the
# same order. So two rungs differ in their one change only.
#
# Each run ends a little differently with another seed, so the table shows, beside this run's
# gain in **points** (98.70% against 98.50% is a gain of +0.20 points), each rung's **gain over
# the seeds**, smallest to largest, from `benchmarks/ladder_seeds.json`, where this lesson ran
# once per seed. A gain is also measured on only 10,000 test digits: a change **fixes** some
# digits the rung above got wrong and **breaks** others it got right. If the change made no
# difference, each of these digits would be as likely fixed as broken, like a coin toss. The
# **p-value** (McNemar's test) is the chance that coin tosses give a split at least as
# lopsided as the one measured: below 0.05, luck alone is an unlikely explanation.

# %%
terminal_heading("Part 2: The experiments", "6. The ladder: one change at a time")


def one_layer(output_activation):
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Flatten(),
            layers.Dense(10, activation=output_activation),
        ]
    )


def two_hidden_layers(hidden_activation):
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Flatten(),
            layers.Dense(512, activation=hidden_activation),
            layers.Dense(512, activation=hidden_activation),
            layers.Dense(10, activation="softmax"),
        ]
    )


simple_recipe = (simple_schedule, settings.simple_epochs)
deep_recipe = (deep_schedule, settings.deep_epochs)
# Between the simple model (rung 1) and the deep model (rung 6), each rung the one above with
# one change: name: (how to build it, its loss, its recipe).
new_rungs = {
    # rung 2, softmax output; rung 3, the deep recipe; rung 4, two sigmoid hidden layers;
    # rung 5, ReLU instead of sigmoid, the deep model without its shifted digits.
    "softmax": (lambda: one_layer("softmax"), "categorical_crossentropy", simple_recipe),
    "softmax_deep_recipe": (lambda: one_layer("softmax"), "categorical_crossentropy", deep_recipe),
    "sigmoid_hidden": (
        lambda: two_hidden_layers("sigmoid"),
        "categorical_crossentropy",
        deep_recipe,
    ),
    "unshifted": (lambda: two_hidden_layers("relu"), "categorical_crossentropy", deep_recipe),
}
rung_models = {"simple": (simple_model, "binary_crossentropy", simple_recipe)}
untrained_loss = {"simple": simple_untrained["loss"]}
for name, (build, loss, (schedule, epochs)) in new_rungs.items():
    keras.utils.set_random_seed(settings.seed)  # the starting weights of its shape
    model = build()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss=loss,
        metrics=["categorical_accuracy"],
    )
    untrained_loss[name] = model.evaluate(x_val, y_val, verbose=0)[0]
    keras.utils.set_random_seed(settings.seed)  # the batches every rung sees
    history = model.fit(x_fit, y_fit, epochs=epochs, batch_size=settings.batch_size, verbose=0)
    rung_models[name] = (model, loss, (schedule, epochs))
    print(
        f"{name}: validation loss {untrained_loss[name]:.4f} before training, training "
        f"loss {history.history['loss'][-1]:.4f} after"
    )
rung_models["deep"] = (deep_model, "categorical_crossentropy", deep_recipe)
untrained_loss["deep"] = deep_untrained["loss"]

# %% [markdown]
# Each rung's settings and results go into a list; the table shows the change and the
# accuracy, the rest is in `metrics.json`.

# %%
from benchmarks.seed_results import SeedResults


def starting_weights(model) -> str:
    """A fingerprint of the weights ``model`` started from: a fresh copy built right after the
    seed starts from the same ones."""
    keras.utils.set_random_seed(settings.seed)
    return weights_fingerprint(keras.models.clone_model(model))


ladder, right_above = [], None
for name, (model, loss, (schedule, epochs)) in rung_models.items():
    # 1,000 digits at a time: the same answers as Keras' default of 32, in fewer steps.
    right = model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1) == test_digits
    val_right = model.predict(x_val, batch_size=1000, verbose=0).argmax(axis=1) == val_digits
    rung = {
        "model": name,
        **describe(model),
        "loss": loss,
        **recipe(schedule, epochs),
        "initial_weights": starting_weights(model),
        "loss_before_training": untrained_loss[name],
        "validation_accuracy": float(val_right.mean()),
        "test_accuracy": float(right.mean()),
    }
    rung["change"] = change_label(ladder[-1], rung) if ladder else "the simple model"
    if right_above is not None:
        rung |= reports.fixed_and_broken(right_above, right)
    ladder.append(rung)
    right_above = right

seed_results = SeedResults.load(keras.backend.backend())
seed_gains = seed_results.ladder_gains(ladder, settings)
reports.show_table(reports.ladder_table(ladder, seed_gains), "The ladder, test accuracy")
print(seed_results.describe_ladder(seed_gains))
outputs.save_and_show(plots.ladder(ladder, len(test_digits)), "ladder.png")
seed_ranges = seed_results.fixed_broken_ranges(ladder, settings)
reports.show_table(
    reports.fixed_broken_table(ladder, seed_ranges),
    "What each change did to the test digits, in this run (and over the seeds, in brackets)",
)

# %% [markdown]
# The figure shows the other side of accuracy, the share of digits each rung reads wrong, where
# the last rungs' differences are easier to see; the diamonds mark the same share on the
# validation digits, which are easier (section 7). Read the gains over seeds from the top, with
# the digits each change fixed and broke (in brackets in the second table):
#
# - The softmax output, one answer out of ten, beats ten separate yes/no answers from the same
#   layer on every seed, and the test set supports it: p is below 0.05 on every seed.
# - The deep model's recipe, fewer epochs with smaller steps, costs the one-layer model a little
#   on every seed, but on some seeds p is above 0.05 (the table's p is this run's seed only):
#   within the test set's noise. So the next rung's gain, from the hidden layers, does not come
#   from the new recipe, which on its own loses a little.
# - Two hidden layers are by far the biggest step, on every seed.
# - ReLU instead of sigmoid gains on every seed in 5 epochs, and the test set supports it.
# - The shifted training digits gain on every seed too, but the shift fixes 55 to 70 digits
#   and breaks 36 to 43: on half of the seeds p is above 0.05, within the test set's noise.
#
# Each gain is what its change buys at that point of the path: the softmax output is measured on
# one layer, the shift on two hidden layers. The softmax rung also changes the loss, and the two
# losses differ in scale. Binary cross-entropy is the average of ten yes/no losses, one per
# output, so each output counts for a tenth of it and its gradients are ten times smaller;
# categorical cross-entropy is one loss per digit, not an average of ten. With Adam that makes
# no difference: it divides each step by the size of the recent gradients, so gradients ten
# times smaller still make the same steps. Plain gradient descent (section 8), whose steps are
# the gradient times the learning rate, would take steps ten times smaller, and would need a
# learning rate ten times larger to make up for it.
#
# **Better, or only faster?** The deep recipe was chosen for ReLU, so perhaps it merely suits
# sigmoid less. `benchmarks/recipe_search.py` gave each activation its own best learning rate on
# the validation digits, within 5 epochs and within 20:

# %%
metrics["ladder"] = ladder
outputs.save_json("metrics.json", metrics)
print(seed_results.describe_fair_comparison())

# %% [markdown]
# Each at its own best learning rate, ReLU still leads in 5 epochs on every seed, though by less
# than with the same recipe. Given 20 epochs, sigmoid hidden units all but catch up: the lead
# shrinks to at most half a point, and to nothing on one seed. The finding the measurements
# support is that ReLU gets there faster, not that sigmoid units cannot get there.

# %% [markdown]
# ## 7. Overfitting, made visible
#
# With 55,000 digits and 5 epochs, the deep model hardly overfits. With 1,000 digits and many
# epochs it does: the unshifted network below learns its 1,000 training digits ever better (its
# training loss keeps falling) while on the validation digits its loss turns up (the right panel
# zooms in on it). A training loss a little below the validation loss, as in section 4's curves,
# is not yet overfitting; a validation loss that turns up while the training loss falls is. The
# epoch where the validation loss is lowest is where to stop, chosen on validation digits. The
# same network trained on shifted digits overfits less. A model's accuracy on the digits it
# trained on, minus its accuracy on the validation digits, is its **generalisation gap**. For
# this small experiment both train with Adam at Keras' default learning rate, 0.001, without a
# schedule, in batches of 100, ten steps per epoch. The left panel's loss axis is on a **log
# scale**: each step up the axis multiplies the loss by the same factor, so that small and large
# losses show on one axis.

# %%
terminal_heading("7. Overfitting, made visible")
few = 1_000
overfitting = {}
shifts = {
    "unshifted": [],
    "shifted": [layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant", seed=settings.seed)],
}
for name, shift in shifts.items():
    keras.utils.set_random_seed(settings.seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            *shift,
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.Dense(512, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam", loss="categorical_crossentropy", metrics=["categorical_accuracy"]
    )
    keras.utils.set_random_seed(settings.seed)
    history = model.fit(
        x_fit[:few],
        y_fit[:few],
        epochs=25,
        batch_size=100,
        validation_data=(x_val, y_val),
        validation_batch_size=1000,
        verbose=0,
    )
    overfitting[name] = history.history
outputs.save_and_show(plots.overfitting(overfitting, few), "overfitting.png")
overfitting_table = reports.overfitting_table(overfitting)
reports.show_table(overfitting_table, f"Trained on {few:,} digits for 25 epochs")

# %% [markdown]
# On every seed, the unshifted network's validation loss is lowest after a few epochs and then
# turns up while its training loss keeps falling: it learns its 1,000 digits by heart, and
# ends with a generalisation gap of several points. The shifted network's validation loss
# stays lower, and its gap is smaller, on every seed: the shift helps, though it does not
# close the gap.
#
# The simple model's validation accuracy is about two points higher than its test accuracy,
# on every seed, and yet that is not overfitting: with a random 5,000 training digits held out
# instead, the two come within a point of each other (`benchmarks/validation_split.py`). The
# last 5,000 digits of MNIST's training file are easier than its test digits.

# %% [markdown]
# ## 8. Why ReLU: the signal fades through sigmoid layers
#
# In short: the differences between digits shrink through every sigmoid layer, and so do the
# gradients that tell the first layers how to change; through ReLU layers they do not. Below,
# first why, then the measurement, then what it costs in training.
#
# The gradient is computed backwards: the output's error travels from the last layer to the
# first, multiplied at each layer by the weights and by the activation's **slope**, how much its
# output changes per small change of its input (**backpropagation**). A sigmoid's slope is at
# most 0.25, so through six sigmoid layers the slopes alone multiply the error by at most
# 0.25⁶, about 1/4,000, unless the weights make up for it; ReLU's slope is 1 where a unit is
# active and 0 where it is not. The measurement: a stack of six hidden layers of 64 units with a
# softmax output, built twice from the same starting weights, once with sigmoid and once with
# ReLU units. On 512 training digits, before training, we measure for each hidden layer how much
# its activations (its units' outputs) differ from digit to digit (the **spread**: each unit's
# **standard deviation** over the digits, the typical distance of its output from its mean,
# averaged over the units) and the **gradient norm** of its
# weights, the length of their gradient taken as one long vector.
#
# Keras calls a `Dense` layer's weights its **kernel** (hence `kernel_initializer` below), and
# starts them at random, the smaller the more inputs and outputs the layer has (the **Glorot
# uniform** rule, Keras' default), so that for units whose slope is about 1 a signal keeps
# about its size from layer to layer. The code below spells that rule out, so that a third
# stack can scale it later: `VarianceScaling(initial_scale, mode="fan_avg",
# distribution="uniform")` draws the weights uniformly between two bounds set by `fan_avg`, the
# average of the layer's inputs and outputs, and `initial_scale` multiplies the weights'
# **variance**, the square of their standard deviation; with `initial_scale=1.0` it gives
# exactly Keras' default.

# %%
terminal_heading("8. Why ReLU: the signal fades through sigmoid layers")
from mnist_lesson.backprop import activation_spread, kernel_gradients

hidden_layers, hidden_width = 6, 64


def hidden_stack(activation, initial_scale=1.0):
    """Six hidden layers of ``activation`` units; ``initial_scale`` multiplies the variance of
    Keras' default starting weights (Glorot uniform)."""
    keras.utils.set_random_seed(settings.seed)  # every stack starts from the same weights
    # A new initializer for each layer: one shared instance would give them all the same weights.
    hidden = [
        layers.Dense(
            hidden_width,
            activation=activation,
            kernel_initializer=keras.initializers.VarianceScaling(
                initial_scale, mode="fan_avg", distribution="uniform"
            ),
        )
        for _ in range(hidden_layers)
    ]
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Flatten(),
            *hidden,
            layers.Dense(10, activation="softmax"),
        ]
    )


stacks = {"sigmoid": hidden_stack("sigmoid"), "relu": hidden_stack("relu")}
probe = x_fit[:512]
spread = {name: activation_spread(stack, probe) for name, stack in stacks.items()}
gradient_norms = {
    name: [float(np.linalg.norm(g)) for g in kernel_gradients(stack, probe, y_fit[:512])[:-1]]
    for name, stack in stacks.items()
}
per_layer = {}
for name in stacks:
    per_layer[f"{name}: spread"] = spread[name]
    per_layer[f"{name}: gradient norm"] = gradient_norms[name]
table = pd.DataFrame(per_layer, index=pd.RangeIndex(1, hidden_layers + 1, name="hidden layer"))
reports.show_table(table.T.map("{:.1e}".format), "At the start, layer 1 next to the input")

# %% [markdown]
# In the sigmoid stack the spread shrinks about four times per layer: every digit reaches the
# last hidden layers as nearly the same activations. The layers near the input, which see the
# differences, get the smallest gradients: the error shrinks on its way back. The factor four
# is the sigmoid's largest slope, 0.25, against starting weights sized for units whose slope
# is about 1 (Keras' default, Glorot's), so it depends on the starting weights as much as on
# the sigmoid. In the ReLU stack the spread shrinks about ten times over the six layers,
# against more than a thousand times with sigmoid, and the gradient does not fade on its way
# back: on every seed, the first layer's gradient norm is at least as large as the last one's.
#
# The sigmoid also explains why the ladder's sigmoid rung started above ln 10 on every seed
# (its line in section 6): sigmoid units give about 0.5 whatever the digit, never 0, so each of
# the ten output sums starts far from zero, each at a value of its own, and the untrained
# scores favour some digits over others for every input.
#
# Does that stop learning? We train both stacks for two epochs on 6,000 digits with plain
# **stochastic gradient descent** (SGD: steps proportional to the gradient, on batches drawn at
# random), each at the learning rate that suited it best over six seeds, from a sweep of 0.01 to
# 3.0 (`benchmarks/depth_seeds.py`). A third stack is sigmoid too, but starts with weights
# scaled for the sigmoid: four times as large as Keras' default, to make up for the sigmoid's
# slope of at most 0.25. That is `initial_scale=16.0`: sixteen times the variance, and the
# standard deviation, its square root, four times as large.

# %%
best_rates = seed_results.depth_learning_rates(hidden_layers)
stacks["sigmoid, scaled start"] = hidden_stack("sigmoid", initial_scale=16.0)
variant = {"sigmoid": "sigmoid", "relu": "relu", "sigmoid, scaled start": "sigmoid_scaled_init"}
# Each stack's best rate over six seeds; 0.1 for a depth the benchmark has not measured.
stack_rates = {name: best_rates.get(variant[name], 0.1) for name in stacks}
stack_accuracy = {}
for name, stack in stacks.items():
    rate = stack_rates[name]
    stack.compile(
        optimizer=keras.optimizers.SGD(learning_rate=rate),
        loss="categorical_crossentropy",
        metrics=["categorical_accuracy"],
    )
    keras.utils.set_random_seed(settings.seed)
    history = stack.fit(
        x_fit[:6000],
        y_fit[:6000],
        epochs=2,
        batch_size=50,
        validation_data=(x_val, y_val),
        verbose=0,
    )
    stack_accuracy[name] = history.history["val_categorical_accuracy"]
    print(
        f"{name} stack, SGD at learning rate {rate}: validation accuracy "
        f"{stack_accuracy[name][-1]:.2%} after 2 epochs"
    )
print(seed_results.describe_depth())

figure = plots.signal_through_layers(spread, gradient_norms, stack_accuracy)
outputs.save_and_show(figure, "vanishing_gradients.png")

# %% [markdown]
# With plain SGD the sigmoid stack stays at chance, one digit in ten: over six seeds it does so
# at every learning rate from 0.01 to 3.0, so no rate rescues it. ReLU learns. The starting
# weights matter as much as the activation: scaled for the sigmoid, the same sigmoid stack
# learns too, though less than ReLU, on every seed. ReLU's lead, each at its own best rate, is
# far larger with four or six hidden layers than with two, on every seed.
#
# Why, then, did the ladder's two sigmoid layers learn? Two reasons, both measured by
# `benchmarks/depth_seeds.py` (the last lines above). Two layers lose far less than six: with
# plain SGD at its best rate, the two-layer sigmoid stack learns on every seed. And the ladder
# trains with Adam, which divides each weight's step by the size of its recent gradients, so
# that small gradients still make full-size steps: with Adam, even the six-layer sigmoid stack
# leaves chance on every seed.

# %% [markdown]
# ## 9. What the simple model learned
#
# The simple model has one weight per pixel and digit, so each digit's 784 weights can be drawn
# as a 28×28 picture: red pixels count for that digit, blue pixels against it. Beside it, the
# same layer trained from the same start on the same batches with plain SGD, at its own best
# learning rate on the validation digits, 30.0 (`benchmarks/recipe_search.json`): 600 times
# Adam's, as plain SGD's steps are the gradient itself times the rate, and this loss's
# gradients are small (section 6).

# %%
terminal_heading("9. What the simple model learned")
keras.utils.set_random_seed(settings.seed)  # the simple model's starting weights
sgd_twin = keras.Sequential(
    [keras.Input(shape=(28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="sigmoid")]
)
sgd_schedule = keras.optimizers.schedules.CosineDecay(
    30.0, decay_steps=settings.simple_epochs * steps_per_epoch
)
sgd_twin.compile(
    optimizer=keras.optimizers.SGD(learning_rate=sgd_schedule),
    loss="binary_crossentropy",
    metrics=["categorical_accuracy"],
)
keras.utils.set_random_seed(settings.seed)  # the simple model's batches
sgd_twin.fit(x_fit, y_fit, epochs=settings.simple_epochs, batch_size=settings.batch_size, verbose=0)
for name, model in (("Adam", simple_model), ("plain SGD", sgd_twin)):
    print(f"{name}: validation accuracy {model.evaluate(x_val, y_val, verbose=0)[1]:.2%}")
pixel_usage = (train_images > 0).mean(axis=0).ravel()  # how often each pixel holds ink
kernels = {
    "Adam (the simple model)": simple_model.layers[-1].get_weights()[0],
    "plain SGD": sgd_twin.layers[-1].get_weights()[0],
}
outputs.save_and_show(plots.weight_images(kernels, pixel_usage), "simple_model_weights.png")
weight_pictures = reports.where_the_strongest_weights_are(kernels, pixel_usage)
table = pd.DataFrame(weight_pictures).T.map(reports.percent)
reports.show_table(table, "Share of training digits that ink a pixel, median over the pixels")

# %% [markdown]
# Adam's pictures have their strongest weights at the edge of the drawn area, on pixels that few
# digits ink. The table gives, for each pixel, the share of training digits that ink it, and its
# median over two groups of pixels: all drawn pixels, those that at least 5% of the digits (one
# in twenty) ink, and the tenth of them with the strongest weights (a pixel's strength: its
# largest weight in size, positive or negative, over the ten digits). Plain SGD's strongest
# weights sit on pixels inked more than twice as often as Adam's, and its pictures look more
# like templates of digits. The
# cause is the optimizer: Adam divides each weight's step by the size of that weight's own
# recent gradients, so a weight whose pixel is rarely inked, and so rarely gets a gradient,
# still takes steps as large as the others. Plain SGD's steps are proportional to the gradient,
# so rarely inked pixels keep weights near where they started. Both read digits well: over six
# seeds, plain SGD comes within a point of Adam on the validation digits
# (`benchmarks/recipe_search.json`). What the pictures show is what the optimizer did, not all
# that one layer can learn.

# %% [markdown]
# ## 10. Where the deep model fails
#
# The digits it gets wrong, each titled with the true digit, an arrow, the model's answer and its
# score for that answer ("9→4" is a 9 read as a 4), and the pairs it confuses most. Some are
# hard to read for people too; others are clear, and show what the model has yet to learn.

# %%
terminal_heading("10. Where the deep model fails")
wrong = np.flatnonzero(deep_answers != test_digits)
print(f"{len(wrong)} of {len(test_digits)} test digits read wrong")
shown = wrong[:20]
titles = [f"{test_digits[i]}→{deep_answers[i]} ({deep_outputs[i].max():.0%})" for i in shown]
outputs.save_and_show(plots.digit_grid(test_images[shown], titles), "misclassified_deep.png")
confused_pairs = reports.confused_pairs(deep_matrix, count=8)
confused_table = pd.DataFrame(confused_pairs, index=range(1, len(confused_pairs) + 1))
reports.show_table(confused_table, "The deep model's most frequent mistakes")

# %% [markdown]
# A dense layer gives every pixel its own weights, so nothing in it knows that a stroke moved
# by a few pixels is the same stroke. Here is what that costs: the test digits moved by 1 to 4
# pixels (each digit in one of four directions in turn; what leaves the picture is lost), read
# by the simple model, the deep model's unshifted rung and the deep model.

# %%
shift_pixels = [0, 1, 2, 3, 4]
robustness_models = {
    "simple": simple_model,
    "unshifted": rung_models["unshifted"][0],
    "deep": deep_model,
}
shift_accuracy = {name: [] for name in robustness_models}
for pixels in shift_pixels:
    moved = reports.shifted(x_test, pixels)
    for name, model in robustness_models.items():
        answers = model.predict(moved, batch_size=1000, verbose=0).argmax(axis=1)
        shift_accuracy[name].append(float(np.mean(answers == test_digits)))
table = pd.DataFrame(shift_accuracy, index=[f"{p} px" for p in shift_pixels]).T
reports.show_table(table.map("{:.2%}".format), "Test accuracy on moved digits")
outputs.save_and_show(plots.shift_accuracy(shift_pixels, shift_accuracy), "shift_robustness.png")

# %% [markdown]
# Compare the deep model with its unshifted rung, the same network trained on the digits as they
# are: trained on digits moved by up to a pixel, it holds up better at every shift measured, and
# gains far more at 2 to 4 pixels, beyond the one pixel it trained on, than at 1 pixel. Still,
# moved by 4 pixels, fewer than 3 digits in 5 are read right. The simple model, whose weights
# belong to fixed pixel positions, loses most. This is why MNIST digits are centred by their
# centre of mass, and why section 12 does the same to your photos.
#
# Image models use **convolutions** instead: a small **filter** of weights slides over every
# position of the picture, so that a stroke gives the same response wherever it is, a
# response that moves with it. A **pooling** layer then keeps the strongest response of each
# small neighbourhood, so that a move by a pixel or two changes little. Exercise 9 builds one.

# %% [markdown]
# ## 11. Are the scores probabilities?
#
# The deep model's ten scores lie between 0 and 1 and add up to 1. It is tempting to read them
# as probabilities, "98% sure it is a 7". Whether they deserve it is a measurement,
# **calibration**: among the digits whose top score is about 90%, is the model right about 9
# times in 10? The first table groups the test digits by their top score and compares the mean
# top score with how often the answer was right; the **calibration error** is the gap between
# the two in each group, averaged over the groups weighted by their digits. It is not the gap
# between the two overall means, where gaps of opposite sign would cancel. The second table
# compares the test digits as they are with the same digits moved by 3 pixels, a move the model
# never trained on.

# %%
terminal_heading("11. Are the scores probabilities?")
calibration = reports.calibration(deep_outputs, test_digits)
reports.show_table(
    reports.calibration_table(calibration), "Test digits by the deep model's top score"
)
moved_outputs = deep_model.predict(reports.shifted(x_test, 3), batch_size=1000, verbose=0)
confidence = {
    "as they are": reports.confidence_summary(deep_outputs, test_digits, at_least=0.9),
    "moved by 3 pixels": reports.confidence_summary(moved_outputs, test_digits, at_least=0.9),
}
reports.show_table(reports.confidence_table(confidence), "Top scores against right answers")

least_sure = np.argsort(deep_outputs.max(axis=1))[:3]
examples = np.concatenate([np.arange(min(3, len(test_digits))), least_sure])
figure = plots.score_bars(test_images[examples], deep_outputs[examples], test_digits[examples])
outputs.save_and_show(figure, "softmax_scores.png")

# %% [markdown]
# On the test digits as they are, the mean top score and the share of right answers differ by
# less than half a point, on every seed. Cross-entropy is lowest when the scores match how
# often the answers are right, so training makes them match, on average, on digits like the
# training digits; no test set is promised it. The bins below 0.9 hold few digits, a few
# hundred in all, so their shares of right answers swing from seed to seed. Moved by 3
# pixels, the model's mean top score is higher than its share of right answers by several
# points, and far more of its mistakes come with a top score of 0.9 or more, on every seed:
# its scores say more than it knows. A softmax score is a probability only as far as it has
# been measured to be one, on digits like those it was measured on. The bars show three clear
# digits and the three the model was least sure of.

# %% [markdown]
# # Part 3: Using it
#
# ## 12. Your own handwriting
#
# A photo of a digit on paper looks nothing like an MNIST digit: dark ink on white paper, much
# larger, anywhere in the picture, with shadows and grain. `prepare_image` repeats the steps
# MNIST's makers used: invert the brightness into ink, crop to the ink, scale it to fit a 20×20
# box keeping its shape, and centre it by its centre of mass in 28×28.
#
# Below, test digits are saved as PNG files that look like such photos, each named after its
# true digit, then read back through that same function; the lower row shows what the model saw,
# drawn like every digit in this lesson as dark ink on white (the pad in section 13 draws the
# same numbers light on dark). To try your own, photograph one digit written with a dark pen on
# white paper and run `python predict_digits.py my_digit.jpg --save-preprocessed seen/`.

# %%
terminal_heading("Part 3: Using it", "12. Your own handwriting")
from handwriting import prepare_image, render_as_photo

rng = np.random.default_rng(settings.seed)
photos, photo_paths, photo_digits = [], [], []
for index in rng.choice(len(test_images), size=min(6, len(test_images)), replace=False):
    digit = int(test_digits[index])
    photo = render_as_photo(test_images[index], rng)
    photos.append(np.asarray(photo))
    photo_paths.append(
        outputs.save_image(photo, f"handwriting_examples/test_digit_{index}_is_a_{digit}.png")
    )
    photo_digits.append(digit)

seen = np.stack([prepare_image(path) for path in photo_paths])
photo_scores = deep_model.predict(seen[..., np.newaxis], verbose=0)
figure = plots.photo_round_trip(photos, seen, photo_scores, photo_digits)
outputs.save_and_show(figure, "own_handwriting_round_trip.png")

# %% [markdown]
# ## 13. Draw a digit and watch the models decide
#
# Below, both models run in a drawing pad: draw a digit with the mouse, a finger or a pen,
# and with every stroke it shows the deep model's ten scores beside the simple model's ten
# yes/no answers, the 28×28 picture both see, and two views inside the deep model:
#
# - **More ink here pushes**: the deep model's **saliency** map, over a faint copy of the
#   drawing. For each pixel, it shows how the deep model's logit for its answer would change if
#   that pixel held a little more ink: orange pixels would push towards the answer, purple ones
#   away. It is the gradient of section 3, taken for the pixels instead of the weights. It tells
#   what more ink would do, not what the ink already there did: purple on the stroke itself
#   means more ink there would lower the answer's logit, not that the stroke counted against
#   it.
# - **The hidden layers**, one cell per unit: dark where a ReLU unit gives 0, amber, brighter
#   the more active, where it passes a signal on; a cell's place is only the unit's number in
#   its layer, not a place in the picture. The count says how many of each layer's 512 units are
#   active: each digit lights up a part of them, and different digits different parts.
#
# The pad runs in the page, from the weights embedded in it, with no server or network;
# `draw_a_digit.html` in the output folder is the same pad for any browser. Draw a neat digit,
# then a sloppy one (a 4 closed at the top, a 7 with a bar) and watch the two models agree, then
# part. (A model the pad cannot run, a convolutional one for instance, gets a line saying so
# instead.)

# %%
terminal_heading("13. Draw a digit and watch the models decide")
from handwriting.drawing_pad import drawing_pad_for

drawing_pad = drawing_pad_for(deep_model, simple_model)
if drawing_pad:
    pad_page = outputs.save_text("draw_a_digit.html", drawing_pad.page())
    print(f"draw a digit: open {pad_page} in a browser")
drawing_pad  # in a notebook, the pad itself is this cell's output

# %% [markdown]
# # Recap
#
# A single layer of ten sigmoid yes/no answers, built, trained and tested in a few lines of Keras,
# reads about 92% of the test digits; two hidden layers of ReLU units with a softmax output read
# 98.6% to 98.7%. The ladder showed where the difference comes from: two hidden layers are by far
# the biggest step, the softmax output adds half a point to three quarters and ReLU about one, and
# the shifted training digits add a little, within the test set's noise on some seeds. Every
# comparison was paired, the same seed giving the same starting weights and the same batches, and
# checked against the seed-to-seed spread and against the test set's own noise. Trained on few
# digits for many epochs, the network overfits: its validation loss turns up while its training loss
# still falls. Deep sigmoid stacks trained with plain SGD from Keras' default starting weights stay
# at chance at every learning rate tried, because the signal fades on its way through the layers;
# ReLU, starting weights scaled for the sigmoid, or Adam get them learning. And a dense network is
# tied to pixel positions: moved by a few pixels, digits are read far worse, and then the scores
# promise more than the model delivers.
#
# ## What to try next
#
# - Work through `exercises.ipynb`: ten exercises in the order of this lesson, each with a
#   check that tells you whether your answer holds, from counting weights to a convolutional
#   network of your own.
# - Change the deep model of section 4: a third hidden layer, 256 units instead of 512, or
#   `layers.Dropout(0.2)` after each hidden layer, which sets a random fifth of that layer's
#   outputs to 0 at each training step (never in testing), another way to fight overfitting.
#   Run with `--quick` first, then in full, and read the ladder's last rung.
# - Train longer: `python mnist_classification.py --deep-epochs 10`, and compare the
#   validation accuracy per epoch with this run's.
# - Try another seed, `--seed 7`, and see which numbers move and by how much.
# - Run it all on JAX: `KERAS_BACKEND=jax python mnist_classification.py`.
# - Train on data of your own, with Part 1's lines and none of the lesson's helpers. Below,
#   `images` are grey pictures of 28×28 pixels from 0 to 255 and `labels` their classes,
#   numbered 0 to 9, as NumPy arrays, and `test_images` and `test_labels` are kept apart for the
#   end. Fashion-MNIST's clothes are such pictures, in ten classes: after `import keras`,
#   `(images, labels), (test_images, test_labels) = keras.datasets.fashion_mnist.load_data()`.
#
#   ```python
#   import keras
#   import numpy as np
#   from keras import layers
#
#   # Shuffled, so that the last twelfth, kept to validate on, holds every class.
#   order = np.random.default_rng(42).permutation(len(images))
#   images, labels = images[order], labels[order]
#   x = np.divide(images[..., np.newaxis], 255, dtype="float32")
#   y = np.eye(10, dtype="float32")[labels]  # one-hot targets
#   last = len(x) // 12  # the last twelfth validates
#   x_fit, y_fit, x_val, y_val = x[:-last], y[:-last], x[-last:], y[-last:]
#
#   keras.utils.set_random_seed(42)
#   model = keras.Sequential(
#       [
#           keras.Input(shape=(28, 28, 1)),
#           layers.Flatten(),
#           layers.Dense(512, activation="relu"),
#           layers.Dense(512, activation="relu"),
#           layers.Dense(10, activation="softmax"),
#       ]
#   )
#   model.compile(
#       optimizer="adam", loss="categorical_crossentropy", metrics=["categorical_accuracy"]
#   )
#   model.fit(x_fit, y_fit, epochs=5, batch_size=250, validation_data=(x_val, y_val), verbose=2)
#
#   x_test = np.divide(test_images[..., np.newaxis], 255, dtype="float32")
#   y_test = np.eye(10, dtype="float32")[test_labels]
#   loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
#   print(f"test accuracy {accuracy:.2%}")
#   answers = model.predict(x_test, verbose=0).argmax(axis=1)  # each test picture's class
#   model.save("my_model.keras")  # keras.saving.load_model("my_model.keras") loads it back
#   ```
#
#   `optimizer="adam"` is Adam at Keras' default learning rate, 0.001, without a schedule. For
#   pictures of another size or another number of classes, change `shape=(28, 28, 1)` and the
#   10s, with the classes numbered from 0; with any number of classes, keep the softmax output
#   and categorical cross-entropy, one output per class. Colour pictures, of shape (N, height,
#   width, 3), have their channels already: leave out `[..., np.newaxis]`. For rows of numbers
#   rather than pictures, drop `Flatten`, start with `keras.Input(shape=(number_of_columns,))`,
#   and make `x` from your rows, each column divided by its largest size so that its numbers lie
#   between -1 and 1.
# - Train on digits you photographed. `prepare_image` of section 12 (`from handwriting import
#   prepare_image`) turns each photo into a 28×28 array of pixels from 0 to 1, as section 2
#   makes them, so `np.stack([prepare_image(path) for path in paths])[..., np.newaxis]` is an
#   `x` for `fit`, and `np.eye(10)[digits]`, the digit each photo shows, its `y`. Keep some
#   photos back to validate on and others to test on.
# - Choose the settings for new data on its validation digits: train with a few learning rates
#   (say 0.001, 0.004 and 0.01) and batch sizes, and keep those whose `val_categorical_accuracy`
#   is best after the epochs you can afford. `benchmarks/recipe_search.py` does this, over
#   seeds, for this lesson's models.

# %%
terminal_heading("Recap")
metrics |= {
    "overfitting": overfitting,
    "vanishing_gradient": {
        "hidden_layers": hidden_layers,
        "hidden_width": hidden_width,
        "activation_spread": spread,
        "gradient_norms": gradient_norms,
        "short_training": {
            "optimizer": "SGD",
            "learning_rates": stack_rates,
            "examples": len(x_fit[:6000]),
            "val_accuracy": stack_accuracy,
        },
    },
    "weight_pictures": weight_pictures,
    "most_confused_pairs": confused_pairs,
    "robustness": {"shift_pixels": shift_pixels, **shift_accuracy},
    "calibration": {**calibration, "confidence": confidence},
}
outputs.finish(metrics)
