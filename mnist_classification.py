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
# We train networks to read them and look closely at how well each does:
#
# 1. a **simple model**: one layer that turns the 784 pixels straight into ten scores, each
#    squashed by a **sigmoid** into a yes/no answer ("is this a 3?"), about 92% of the test
#    digits right;
# 2. a **deep model**: hidden layers with **ReLU** activations and a **softmax** output, about
#    98.8% right;
# 3. the **ladder** between them, one change at a time, to measure what each change buys.
#
# Every number the cells print comes from running this file: in Jupyter cell by cell, or in a
# terminal with `python mnist_classification.py` (`--help` lists the options).

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

# Reads the command line in a script, checks the output folder, seeds every random generator.
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

# %%
import math
import time

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers
from sklearn.metrics import classification_report, confusion_matrix

from mnist_lesson import plots
from mnist_lesson.architecture import describe
from mnist_lesson.augmentation import RandomShift
from mnist_lesson.data import load_mnist
from mnist_lesson.drawing_pad import drawing_pad_for
from mnist_lesson.handwriting import prepare_image, render_as_photo
from mnist_lesson.reports import ladder_table, show_table
from mnist_lesson.tensorflow_setup import environment
from mnist_lesson.training_log import training_log
from mnist_lesson.xla import use_xla

# %% [markdown]
# ## 1. The data
#
# MNIST is downloaded once into `~/.keras/datasets/mnist.npz`, where Keras keeps it. Offline, or
# behind a firewall, point `data` (or `--data`, or the `MNIST_PATH` environment variable) at a
# copy: a keras `mnist.npz` or a folder with the four original IDX files, or put the `mnist.npz`
# in that folder yourself. Whatever is loaded is checked, and its content is compared with the
# standard MNIST.

# %%
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

# %%
figure = plots.digit_grid(x_train_images[:30], [f"label {y}" for y in train_digits[:30]])
outputs.save_and_show(figure, "sample_digits.png")

# %% [markdown]
# ## 2. From pixels to network inputs
#
# Each pixel is a byte that says **how much ink** it holds: 0 for none (the paper), 255 for
# full ink (MNIST's own description calls 255 "foreground, black"). The plots draw more ink
# darker (the reversed grey scale `gray_r`), so the digits look as they were written. A photo
# stores the opposite, **brightness**: paper near 255, ink dark. That is why a photo of your
# own handwriting (section 12) is inverted before the model sees it: a model that learned
# "255 is ink" would take white paper for a page covered in ink.
#
# Keras' initial weights are sized for inputs of about 1, so we scale the bytes to [0, 1] as
# 32-bit floats, once, here, rather than again for every batch. Our dense layers see an image
# as a flat list of 784 numbers. We hand the training pixels to TensorFlow once, as tensors:
# Keras would copy NumPy arrays into TensorFlow again for every model it trains, hundreds of
# megabytes each time.
#
# Some training digits are held out as a **validation set**: models never learn from them, and
# we watch them during training to see whether a model still improves on digits it has not
# seen. They also chose the training recipes (`benchmarks/recipe_search.py`). The 10,000 test
# digits are kept for the final verdict only.
#
# The labels become ten targets each, one per output of the models: the digit 3 becomes
# `[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]` ("one-hot"), the answer each output should give.

# %%
x_train = x_train_images.reshape(len(x_train_images), 784).astype("float32") / 255.0
x_test = x_test_images.reshape(len(x_test_images), 784).astype("float32") / 255.0

validation_fraction = 1 / 12  # 5,000 of MNIST's 60,000 training digits
validation_size = round(len(x_train) * validation_fraction)
fit_digits, val_digits = train_digits[:-validation_size], train_digits[-validation_size:]
x_fit, x_val = tf.constant(x_train[:-validation_size]), tf.constant(x_train[-validation_size:])
y_fit, y_val, y_test = (tf.one_hot(digits, 10) for digits in (fit_digits, val_digits, test_digits))
del x_train  # the tensors hold these pixels now
print(f"fit on {len(x_fit)}, validate on {len(x_val)}, test on {len(x_test)} digits")
print(f"the first training label, {fit_digits[0]}, as ten targets:", y_fit[0].numpy())

# %% [markdown]
# ## 3. How we train and evaluate
#
# Every model in this lesson learns the same way, so one function trains each:
#
# - **Adam** adjusts every weight against the gradient of the loss, with a step size per weight.
# - The **loss** compares the model's ten outputs with the ten targets; sections 4 and 5 say
#   which loss goes with which output.
# - The **learning rate decays** along a cosine from its start value to zero: big steps early,
#   fine steps at the end.
# - **Batches of 250** digits: 55,000 / 250 = 220 steps per epoch, all of the same shape (XLA,
#   below, compiles one program per shape), and `steps_per_execution` runs 20 of them per call
#   into TensorFlow, so that Python steps in once per 20 steps instead of every step.
# - **XLA** (`use_xla`, Keras' `jit_compile`) compiles a whole training step of the large
#   models (forward pass, loss, gradients and Adam's update) into one program, fusing the
#   element-wise work into a few loops: in `benchmarks/step_profile.json` it makes the deep
#   model's step 1.26 times faster. Compiling takes a while (the first epoch in the log is the
#   longest), more than the small models' short training would win back: they go without.
#
# Each size of model has its **recipe**: its epochs and learning rate, chosen on the validation
# digits. The models without hidden layers follow the simple model's recipe, the models with
# hidden layers the deep model's.
#
# Evaluation asks each model for its answer on every test digit and summarises the answers three
# ways: accuracy, a **confusion matrix** (which digit was taken for which) and a **classification
# report** (precision, recall and F1 per digit).

# %%
simple_recipe = {"epochs": settings.simple_epochs, "learning_rate": 0.05, "xla": False}
deep_recipe = {"epochs": settings.deep_epochs, "learning_rate": 0.004, "xla": True}


def train(model, loss, recipe):
    """Train ``model`` on the fit set with ``recipe``; return its per-epoch history and the
    seconds it took. For models side by side in one, ``loss`` has one entry per output, and
    each output learns the same targets."""

    def per_output(make):
        return {name: make() for name in loss} if isinstance(loss, dict) else make()

    steps_per_epoch = math.ceil(len(x_fit) / settings.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        recipe["learning_rate"], recipe["epochs"] * steps_per_epoch
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=loss,
        metrics=per_output(lambda: [keras.metrics.CategoricalAccuracy(name="accuracy")]),
        steps_per_execution=min(20, steps_per_epoch),
    )
    if recipe["xla"]:
        use_xla(model)
    start = time.perf_counter()
    history = model.fit(
        x_fit,
        per_output(lambda: y_fit),
        validation_data=(x_val, per_output(lambda: y_val)),
        epochs=recipe["epochs"],
        batch_size=settings.batch_size,
        verbose=0,
        callbacks=[training_log(model.name)],
    )
    return history.history, time.perf_counter() - start


def accuracy(model, images, digits):
    """The share of ``images`` whose highest output is the right digit."""
    return float(np.mean(np.argmax(model(images, training=False), axis=1) == digits))


def evaluate(model, name):
    """Test accuracy and loss, confusion matrix and classification report of ``model``.

    Returns the numbers worth keeping and the model's output for every test digit."""
    test_loss, test_accuracy = model.evaluate(
        x_test, y_test, batch_size=settings.batch_size, verbose=0
    )
    test_outputs = model.predict(x_test, batch_size=settings.batch_size, verbose=0)
    predicted = test_outputs.argmax(axis=1)
    matrix = confusion_matrix(test_digits, predicted, labels=range(10))
    report = classification_report(
        test_digits, predicted, labels=range(10), digits=4, zero_division=0
    )
    print(f"{name} model: test accuracy {test_accuracy:.2%}, test loss {test_loss:.4f}\n")
    print(report)
    outputs.save_text(f"classification_report_{name}.txt", report)
    figure = plots.confusion_heatmap(
        matrix, f"{name} model: {test_accuracy:.2%} of {len(test_digits)} test digits right"
    )
    outputs.save_and_show(figure, f"confusion_matrix_{name}.png")
    results = {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "confusion_matrix": matrix.tolist(),
    }
    return results, test_outputs


# %% [markdown]
# ## 4. The simple model: ten sigmoid yes/no answers
#
# One `Dense` layer computes ten scores per digit, each a weighted sum of all 784 pixels plus a
# bias. The **sigmoid** `1 / (1 + e^-z)` squashes each score z into (0, 1): ten separate
# answers to "is this a 0?", "is this a 1?", ..., and the highest one is the model's answer.
# **Binary cross-entropy** trains each of the ten outputs as its own yes/no question against its
# own target (1 for the true digit, 0 for the nine others): ten logistic regressions side by
# side, the classic baseline. It can only draw straight boundaries through pixel space.
#
# What Keras really computes: its cross-entropy losses do not read the sigmoid's outputs. Keras
# keeps the scores z from before a `sigmoid` or `softmax` output layer, and the loss works from
# those, exactly, even where a probability would round to 0 or 1 (`_get_logits` in Keras'
# `keras/src/backend/tensorflow/nn.py`). So the loss decides what the model is: the same layer
# trained with `categorical_crossentropy` would be trained as a softmax model, whatever its last
# activation says. Nothing ties our ten yes/no answers together, so they need not sum to 1: the
# cell after the evaluation prints how far from 1 they are.

# %%
simple_model = keras.Sequential(
    [keras.Input(shape=(784,)), layers.Dense(10, activation="sigmoid")], name="simple"
)
simple_model.summary()
simple_history, simple_seconds = train(simple_model, "binary_crossentropy", simple_recipe)
print(f"trained in {simple_seconds:.1f} s")

# %%
simple_results, simple_outputs = evaluate(simple_model, "simple")


# %%
def output_sums(outputs_per_digit):
    """The sum of the ten outputs for each digit: median and 5th-95th percentile."""
    sums = np.asarray(outputs_per_digit).sum(axis=1)
    low, median, high = np.percentile(sums, [5, 50, 95])
    return {"median": float(median), "percentile_5": float(low), "percentile_95": float(high)}


simple_sums = output_sums(simple_outputs)
print(
    "sum of the ten sigmoid outputs per test digit: median {median:.2f}, 5th-95th percentile "
    "{percentile_5:.2f} to {percentile_95:.2f}".format(**simple_sums)
)

# %% [markdown]
# ## 5. The deep model: ReLU hidden layers, a softmax output, shifted digits
#
# Hidden layers let the network build its own features (strokes, loops, corners) before it
# decides. Each hidden unit applies **ReLU**, `max(0, z)`: cheap, and its slope is exactly 1
# wherever the unit is active, so training signals pass back through it without shrinking (the
# weights still scale them). A sigmoid's slope is at most 0.25: section 8 measures what that
# does in a deep stack.
#
# The output layer uses **softmax**, `e^z_i / Σ e^z_j`: ten positive numbers that sum to 1, a
# probability for each digit, where a higher score for one digit means lower probabilities for
# the others: one answer out of ten. **Categorical cross-entropy** is its loss: minus the log of
# the probability given to the true digit (computed from the scores z, as above).
#
# **Shifted copies.** Each time a training digit comes round, `RandomShift` moves it by up to
# one pixel up or down and left or right, at random (only in training: the model sees test
# digits as they are). Every epoch then shows slightly different digits, and the network has to
# learn strokes rather than exact pixel positions. Keras' `RandomTranslation` would shift by
# fractions of a pixel, but XLA cannot compile its image transform; whole pixels it can.

# %%
deep_model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        RandomShift(pixels=1),
        layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ],
    name="deep",
)
deep_model.summary()
deep_history, deep_seconds = train(deep_model, "categorical_crossentropy", deep_recipe)
print(f"trained in {deep_seconds:.1f} s" + (" with XLA" if deep_model.jit_compile else ""))

# %% [markdown]
# In the deep model's log, validation accuracy starts out higher than training accuracy,
# although the model never learns from the validation digits. The two are not measured alike:
# training accuracy is counted on shifted digits, which are harder, and averaged over the epoch
# while the model is still improving; validation accuracy is measured on the digits as they are,
# at the end of the epoch. Once the model has learned most of what it can, the two meet.

# %%
deep_results, deep_probabilities = evaluate(deep_model, "deep")
figure = plots.training_curves({"simple": simple_history, "deep": deep_history})
outputs.save_and_show(figure, "training_history.png")

# %% [markdown]
# ## 6. One change at a time: the ladder from the simple model to the deep one
#
# From the simple model to the deep one we changed five things at once: the output, the
# training recipe, the depth, the hidden activation and the training data. The **ladder**
# below changes one at a time. Each rung is the rung above it with one change, trained on the
# same digits with its recipe: the simple model's for the rungs without hidden layers, the deep
# model's for the rungs with them, and one rung in between that moves the softmax model to the
# deep recipe, so that adding hidden layers changes nothing else. The first rung is the simple
# model and the last the deep model, as trained above. The two rungs with hidden layers but no
# shift are trained side by side in one Keras model, on exactly the same batches: each has its
# own loss and its own weights, so neither affects the other.
#
# The table's columns: the **hidden layers** and their **hidden activation**; the **output
# activation** of the last layer and the **loss** it is trained with; the **epochs** and
# **learning rate** of the recipe; the **validation** and **test accuracy**; the **test errors**,
# digits the model got wrong out of all the test digits; and the **gain**, the change in test
# accuracy from the rung above, in percentage points.


# %%
def softmax_layer_model(name):
    return keras.Sequential(
        [keras.Input(shape=(784,)), layers.Dense(10, activation="softmax")], name=name
    )


softmax_model = softmax_layer_model("softmax")
softmax_deep_recipe_model = softmax_layer_model("softmax_deep_recipe")
train(softmax_model, "categorical_crossentropy", simple_recipe)
train(softmax_deep_recipe_model, "categorical_crossentropy", deep_recipe)


def unshifted_deep_model(activation):
    return keras.Sequential(
        [keras.Input(shape=(784,))]
        + [layers.Dense(512, activation=activation) for _ in range(2)]
        + [layers.Dense(10, activation="softmax")],
        name=f"hidden_{activation}",
    )


hidden = {activation: unshifted_deep_model(activation) for activation in ("sigmoid", "relu")}
pixels = keras.Input(shape=(784,))
side_by_side = keras.Model(
    pixels, {name: model(pixels) for name, model in hidden.items()}, name="hidden_side_by_side"
)
_, side_by_side_seconds = train(
    side_by_side, {name: "categorical_crossentropy" for name in hidden}, deep_recipe
)
print(f"both hidden-layer models trained side by side in {side_by_side_seconds:.1f} s")

# %%
rungs = [
    ("the simple model", simple_model, "binary_crossentropy", simple_recipe),
    ("softmax output", softmax_model, "categorical_crossentropy", simple_recipe),
    ("the deep model's recipe", softmax_deep_recipe_model, "categorical_crossentropy", deep_recipe),
    (
        "two hidden layers of 512 sigmoid units",
        hidden["sigmoid"],
        "categorical_crossentropy",
        deep_recipe,
    ),
    ("ReLU instead of sigmoid", hidden["relu"], "categorical_crossentropy", deep_recipe),
    (
        "digits shifted in training: the deep model",
        deep_model,
        "categorical_crossentropy",
        deep_recipe,
    ),
]
ladder = [
    {
        "change": change,
        **describe(model),
        "loss": loss,
        "epochs": recipe["epochs"],
        "learning_rate": recipe["learning_rate"],
        "validation_accuracy": accuracy(model, x_val, val_digits),
        "test_accuracy": accuracy(model, x_test, test_digits),
    }
    for change, model, loss, recipe in rungs
]
show_table(ladder_table(ladder, len(test_digits)))
outputs.save_and_show(plots.ladder(ladder, len(test_digits)), "ladder.png")

# %% [markdown]
# Read the gains from the top. The softmax output, one answer out of ten, does a little better
# than ten independent yes/no answers from the same layer. The deep model's recipe, fewer epochs
# with smaller steps, suits the softmax layer less well: what the hidden layers gain below is
# not the recipe's. Two hidden layers are by far the biggest step: the network builds its own
# features instead of weighing raw pixels. ReLU instead of sigmoid in those same two layers
# gains about another point, and the shifted training digits a little more on top.

# %% [markdown]
# ## 7. Keeping the results
#
# The models and their numbers are saved now, before the sections that look closer at them: a
# change that breaks one of those sections loses nothing. From here on the output folder holds
# this run's files only (what an earlier run wrote there is replaced; anything else you keep
# there stays): the figures, the reports, `models/simple.keras` and `models/deep.keras`, and
# `metrics.json`, which the end of the lesson completes. Reload a model with
# `keras.saving.load_model` after `import mnist_lesson.augmentation`, where the deep model's
# `RandomShift` layer is defined.

# %%
recipes = {"simple": simple_recipe, "deep": deep_recipe}
runs = {
    "simple": (simple_model, "binary_crossentropy", simple_seconds, simple_results, simple_history),
    "deep": (deep_model, "categorical_crossentropy", deep_seconds, deep_results, deep_history),
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
    "environment": environment(),
    "models": {
        name: {
            **describe(model),
            "loss": loss,
            **recipes[name],
            "batch_size": settings.batch_size,
            "xla": bool(model.jit_compile),
            "train_seconds": round(seconds, 3),
            **results,
            "history": history,
        }
        for name, (model, loss, seconds, results, history) in runs.items()
    },
    "simple_output_sums": simple_sums,
    "ladder": ladder,
}
outputs.save_model(simple_model, "models/simple.keras")
outputs.save_model(deep_model, "models/deep.keras")
outputs.save_json("metrics.json", metrics)
outputs.keep_run()

# %% [markdown]
# ## 8. Why ReLU: vanishing gradients, measured
#
# Backpropagation sends the error from the output back through every layer, multiplying it by
# each layer's activation slope on the way. A sigmoid's slope is at most 0.25, so after a few
# sigmoid layers little is left for the layers near the input; ReLU's slope is 1 wherever a unit
# is active. With two hidden layers this costs sigmoid units part of their learning (the ladder
# above); with more it decides whether the first layers learn at all. Here is the measurement:
# the same stack of 6 hidden layers (64 units each, Keras' default Glorot initialization,
# softmax output) built twice, once with sigmoid and once with ReLU hidden units. Before any
# training we compute, on a few batches, how large the gradient of the loss is for each hidden
# layer's weights.

# %%
hidden_layers, hidden_width = 6, 64


def hidden_stack(activation):
    return keras.Sequential(
        [keras.Input(shape=(784,))]
        + [layers.Dense(hidden_width, activation=activation) for _ in range(hidden_layers)]
        + [layers.Dense(10, activation="softmax")],
        name=f"{activation}_stack",
    )


def hidden_gradient_norms(model, batch_count=2, batch_size=256):
    """Mean gradient norm of each hidden layer's weights, input side first."""
    loss_function = keras.losses.CategoricalCrossentropy()
    kernels = [layer.kernel for layer in model.layers[:-1]]
    norms = []
    for start in range(0, min(len(x_fit), batch_count * batch_size), batch_size):
        rows = slice(start, start + batch_size)
        with tf.GradientTape() as tape:
            loss = loss_function(y_fit[rows], model(x_fit[rows], training=True))
        norms.append([float(tf.norm(gradient)) for gradient in tape.gradient(loss, kernels)])
    return np.mean(norms, axis=0).tolist()


stacks = {activation: hidden_stack(activation) for activation in ("sigmoid", "relu")}
gradient_norms = {name: hidden_gradient_norms(stack) for name, stack in stacks.items()}
for name, norms in gradient_norms.items():
    print(f"{name:>7}: " + "  ".join(f"{norm:.1e}" for norm in norms))
    print(f"         input-side layer / output-side layer: {norms[0] / norms[-1]:.1e}")

# %% [markdown]
# In the sigmoid stack the layer next to the input gets a gradient hundreds of times smaller
# than the one next to the output: the signal shrinks at every sigmoid it passes. In the ReLU
# stack the layers' gradients stay within a few times of each other (the weights still scale
# the signal, but nothing shrinks it layer after layer). Does that matter for learning? We train
# both stacks briefly, with the same data, epochs and optimizer: plain SGD, whose steps are
# proportional to the gradient (Adam rescales each step and would hide part of the effect), and
# watch their validation accuracy.

# %%
# Both stacks in one model, side by side: they see exactly the same batches, and each is
# trained by its own loss (their weights are separate, so neither affects the other).
pixels = keras.Input(shape=(784,))
stacks_side_by_side = keras.Model(pixels, {name: stack(pixels) for name, stack in stacks.items()})
stacks_side_by_side.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.1),
    loss={name: "categorical_crossentropy" for name in stacks},
    steps_per_execution=20,
)
short_training_examples = min(len(x_fit), 6_000)
stack_val_accuracy = {name: [] for name in stacks}
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

figure = plots.gradient_norms_and_learning(gradient_norms, stack_val_accuracy)
outputs.save_and_show(figure, "vanishing_gradients.png")

# %% [markdown]
# In two epochs the sigmoid stack stays near chance, one digit in ten, while the same stack with
# ReLU units learns: its first layers receive a gradient they can learn from. This is why
# ReLU's edge grows with depth, and why deep networks use ReLU or its relatives in their hidden
# layers. For the output, the sigmoid and softmax compared on the ladder's first two rungs are
# both trained through the scores z, with no layer after them to shrink a gradient.

# %% [markdown]
# ## 9. What the simple model learned
#
# The simple model has one weight per pixel and digit, so each digit's 784 weights can be drawn
# as a 28×28 image: red pixels are evidence *for* that digit, blue pixels evidence *against* it.
# You can see blurry templates: for 0 a red ring around a blue centre (ink in the middle speaks
# against a 0), a red vertical bar for 1, and for each digit the places where its ink differs
# from the others. Pixels near the border are almost never inked, so their
# weights mean nothing; they are greyed out.

# %%
pixel_usage = (x_train_images > 0).mean(axis=0).ravel()  # how often each pixel holds ink
figure = plots.weight_images(simple_model.layers[0].kernel.numpy(), pixel_usage)
outputs.save_and_show(figure, "simple_model_weights.png")

# %% [markdown]
# ## 10. Where the deep model fails
#
# The digits it gets wrong, with its answer and how sure it was. Many are hard for people too.
# The table lists the pairs it confuses most.

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
# moved by a few pixels is the same stroke: it has to learn each position from examples. MNIST's
# digits are all centred the same way, so it rarely had to. Here is how much that costs: both
# models on the test digits moved by 1 to 4 pixels (each digit in one of the four directions, in
# turn; what leaves the 28×28 field is lost).


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
shift_accuracy = {name: [] for name in runs}
for pixels in shift_pixels:
    x_shifted = shifted(x_test_images, pixels).reshape(len(x_test_images), 784) / np.float32(255)
    for name, (model, *_) in runs.items():
        shift_accuracy[name].append(accuracy(model, x_shifted, test_digits))
print(pd.DataFrame(shift_accuracy, index=[f"{p} px" for p in shift_pixels]).T.to_string())
outputs.save_and_show(plots.shift_accuracy(shift_pixels, shift_accuracy), "shift_robustness.png")

# %% [markdown]
# One pixel costs the deep model under a point: it saw such shifts in training (section 5). Two
# pixels, a shift a person would not even notice, cost it a point or more, and at four pixels it
# gets about one digit in three wrong: what it learned is tied to where strokes were. The simple
# model, whose templates are fixed pixels, loses several points at one pixel already and reads
# fewer than one digit in four at four. This is why MNIST digits are centred by their
# centre of mass, why the handwriting section below does the same to your images, and why image
# models use convolutions: the same small filter slides over every position, so a shifted stroke
# is still recognised.

# %% [markdown]
# ## 11. Softmax outputs are probabilities
#
# For each test digit the deep model outputs ten numbers between 0 and 1 that sum to 1, unlike
# the simple model's ten yes/no answers (section 4). On clear digits nearly all the probability
# sits on one answer; on the hardest ones (the last three below, the digits it was least sure
# of) it is spread over the candidates a person would hesitate between too.

# %%
least_sure = np.argsort(deep_probabilities.max(axis=1))[:3]
examples = np.concatenate([np.arange(min(3, len(test_digits))), least_sure])
print("sums of the ten probabilities:", np.round(deep_probabilities[examples].sum(axis=1), 6))
figure = plots.probability_bars(
    x_test_images[examples], deep_probabilities[examples], test_digits[examples]
)
outputs.save_and_show(figure, "softmax_probabilities.png")

# %% [markdown]
# ## 12. Try it on your own handwriting
#
# A photo of a digit written on paper looks nothing like an MNIST digit: dark ink on white paper,
# much larger, anywhere in the picture, with shadows and grain. Squashed straight to 28×28 it
# becomes a small grey smudge the model has never seen. `prepare_image` repeats the steps
# MNIST's makers used instead: invert the brightness into ink (section 2), crop to the ink,
# scale it to fit a 20×20 box keeping its aspect ratio, and centre it by its centre of mass in
# 28×28.
#
# Below, test digits are saved as PNG files that look like such photos, each named after its
# true digit, then read back and classified through that same function; the lower row shows what
# the model saw. To try your own, photograph one digit written with a dark pen on white paper
# and run `python predict_digits.py my_digit.jpg --save-preprocessed seen/`, or run it on the
# saved examples: `python predict_digits.py outputs/handwriting_examples/`.

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
photo_probabilities = deep_model(seen.reshape(len(seen), 784), training=False).numpy()
figure = plots.photo_round_trip(photos, seen, photo_probabilities, photo_digits)
outputs.save_and_show(figure, "own_handwriting_round_trip.png")

# %% [markdown]
# ## 13. Draw a digit and watch the model decide
#
# Below is the deep model in a drawing pad: draw a digit with the mouse, a finger or a pen, and
# watch its answer, its ten probabilities and what it sees (your drawing after the same
# preprocessing as a photo) change with every stroke. It runs entirely in the page, with the
# model's weights embedded in it: no kernel, no server, no network. The same pad is saved as
# `draw_a_digit.html` in the output folder: open it in any browser. Try a 7 with a bar, a 1 with
# a base, a digit drawn small in a corner, or one that is half a 3 and half an 8. (A model the
# pad cannot run in a page, a convnet for one, gets a line saying so instead.)

# %%
drawing_pad = drawing_pad_for(deep_model)
if drawing_pad:
    pad_page = outputs.save_text("draw_a_digit.html", drawing_pad.page())
    print(f"draw a digit: open {pad_page} in a browser")
drawing_pad  # in a notebook, the pad itself is this cell's output

# %% [markdown]
# ## The end
#
# `metrics.json` now gets the numbers of sections 8 to 10 too. Everything this run made is in
# the output folder.

# %%
metrics |= {
    "vanishing_gradient": {
        **gradient_norms,
        "hidden_layers": hidden_layers,
        "hidden_width": hidden_width,
        "short_training": {
            "optimizer": "SGD(learning_rate=0.1)",
            "examples": short_training_examples,
            "val_accuracy": stack_val_accuracy,
        },
    },
    "most_confused_pairs": confused_pairs.to_dict(orient="records"),
    "robustness": {"shift_pixels": shift_pixels, **shift_accuracy},
}
outputs.finish(metrics)
