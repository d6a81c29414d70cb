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
# We train two networks to read them and look closely at how well each does:
#
# 1. a **simple model**: one layer that turns the 784 pixels straight into 10 scores, squashed by
#    a **sigmoid**, about 92% of test digits right;
# 2. a **deeper model**: hidden layers with **ReLU** activations and a **softmax** output, about
#    98% right.
#
# Every number below comes from running this file: in Jupyter cell by cell, or in a terminal with
# `python mnist_classification.py` (`--help` lists the options).

# %% tags=["parameters"]
data = (
    None  # mnist.npz or an IDX folder; None: $MNIST_PATH, else ~/.keras/datasets (downloaded once)
)
seed = 42  # same seed, same machine, same numbers
simple_epochs = 6
deep_epochs = 5
batch_size = 256
output_dir = "outputs"  # figures, reports, metrics.json and the trained models go here
quick = False  # True: a small subset and one epoch per model, a smoke test in seconds
show = False  # script only: open each figure in a window

# %%
from mnist_lesson.runtime import environment, start_lesson, training_log

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
from mnist_lesson.data import load_mnist
from mnist_lesson.drawing_pad import DrawingPad
from mnist_lesson.handwriting import prepare_image, render_as_photo

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
y_train = mnist.y_train[: settings.train_examples]
x_test_images = mnist.x_test[: settings.test_examples]
y_test = mnist.y_test[: settings.test_examples]

print(f"source: {mnist.source} ({'standard' if mnist.standard else 'not the standard'} MNIST)")
print(f"training images {x_train_images.shape}, labels {y_train.shape}")
print(f"test images     {x_test_images.shape}, labels {y_test.shape}")
print("training examples per digit:", np.bincount(y_train, minlength=10).tolist())

# %%
figure = plots.digit_grid(x_train_images[:30], [f"label {y}" for y in y_train[:30]])
outputs.save_and_show(figure, "sample_digits.png")

# %% [markdown]
# ## 2. From pixels to network inputs
#
# Pixels are bytes from 0 (white paper) to 255 (black ink). Networks train best on small inputs,
# so we scale them to [0, 1] as 32-bit floats, once, here, rather than again for every batch.
# Our dense layers see an image as a flat list of 784 numbers. We hand the training pixels to
# TensorFlow once, as tensors: Keras would copy NumPy arrays into TensorFlow again for every model
# it trains, hundreds of megabytes each time.
#
# The last 5,000 training digits are held out as a **validation set**: we watch it during
# training to see whether a model still improves on digits it does not learn from. The 10,000
# test digits are kept for the final verdict only.

# %%
x_train = x_train_images.reshape(len(x_train_images), 784).astype("float32") / 255.0
x_test = x_test_images.reshape(len(x_test_images), 784).astype("float32") / 255.0

validation_size = len(x_train) // 12
x_fit, y_fit = tf.constant(x_train[:-validation_size]), tf.constant(y_train[:-validation_size])
x_val, y_val = tf.constant(x_train[-validation_size:]), tf.constant(y_train[-validation_size:])
del x_train  # the tensors hold these pixels now
print(f"fit on {len(x_fit)}, validate on {len(x_val)}, test on {len(x_test)} digits")

# %% [markdown]
# ## 3. How we train and evaluate
#
# Both models learn the same way, so one function trains each:
#
# - **Adam** adjusts every weight against the gradient of the loss, with a step size per weight.
# - **Sparse categorical cross-entropy** is the loss: small when the score of the true digit is
#   high. "Sparse" means the labels are plain digits 0-9, not one-hot vectors.
# - The **learning rate decays** along a cosine from its start value to zero: big steps early,
#   fine steps at the end, so a few epochs reach the accuracy that a fixed rate needs many for.
# - **Batches of 256** digits keep the processor's matrix units busy, and
#   `steps_per_execution` runs 20 batches per call into TensorFlow so Python is not the
#   bottleneck: the same model trains several times faster than with batches of 32.
#
# Evaluation asks each model for its answer on every test digit and summarises the answers three
# ways: accuracy, a **confusion matrix** (which digit was taken for which) and a **classification
# report** (precision, recall and F1 per digit).


# %%
def train(model, epochs, learning_rate):
    """Train ``model`` on the fit set; return its per-epoch history and the seconds it took."""
    steps_per_epoch = math.ceil(len(x_fit) / settings.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, epochs * steps_per_epoch)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=min(20, steps_per_epoch),
    )
    start = time.perf_counter()
    history = model.fit(
        x_fit,
        y_fit,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=settings.batch_size,
        verbose=0,
        callbacks=[training_log()],
    )
    return history.history, time.perf_counter() - start


def evaluate(model, name):
    """Test accuracy and loss, confusion matrix and classification report of ``model``.

    Returns the numbers worth keeping and the model's output for every test digit."""
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    test_outputs = model.predict(x_test, batch_size=1024, verbose=0)
    predicted = test_outputs.argmax(axis=1)
    matrix = confusion_matrix(y_test, predicted, labels=range(10))
    report = classification_report(y_test, predicted, labels=range(10), digits=4, zero_division=0)
    print(f"{name} model: test accuracy {test_accuracy:.2%}, test loss {test_loss:.4f}\n")
    print(report)
    outputs.save_text(f"classification_report_{name}.txt", report)
    figure = plots.confusion_heatmap(
        matrix, f"{name} model: {test_accuracy:.2%} of {len(y_test)} test digits right"
    )
    outputs.save_and_show(figure, f"confusion_matrix_{name}.png")
    results = {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "confusion_matrix": matrix.tolist(),
    }
    return results, test_outputs


# %% [markdown]
# ## 4. The simple model: one layer with a sigmoid
#
# One `Dense` layer computes, for each digit, a weighted sum of all 784 pixels plus a bias: ten
# scores. The **sigmoid** `1 / (1 + e^-z)` squashes each score into (0, 1), a "how much does this
# look like a 3" per digit; the highest one is the answer. This is logistic regression, the
# classic baseline: it can only draw straight boundaries through pixel space, which is enough for
# about 92% of the test digits.

# %%
simple_model = keras.Sequential(
    [keras.Input(shape=(784,)), layers.Dense(10, activation="sigmoid")], name="simple"
)
simple_model.summary()
simple_history, simple_seconds = train(simple_model, settings.simple_epochs, learning_rate=0.02)
print(f"trained in {simple_seconds:.1f} s")

# %%
simple_results, _ = evaluate(simple_model, "simple")

# %% [markdown]
# ## 5. The deeper model: ReLU hidden layers and a softmax output
#
# Hidden layers let the network build its own features (strokes, loops, corners) before it
# decides. Each hidden unit applies **ReLU**, `max(0, z)`: cheap, and its gradient is exactly 1
# wherever the unit is active, so the training signal reaches the first layers undiminished.
# A sigmoid's gradient is at most 0.25 and shrinks with every layer it passes through: the
# *vanishing gradient* that made deep sigmoid networks hard to train.
#
# The output layer uses **softmax**, `e^z_i / Σ e^z_j`: ten positive numbers that sum to 1, a
# probability for each digit, which is exactly what cross-entropy compares with the true label.
#
# **Shifted copies.** Each time a training digit comes round, `RandomTranslation` moves it by up
# to one pixel in each direction (only in training: the model sees test digits as they are).
# Every epoch then shows slightly different digits, and the network has to learn strokes rather
# than exact pixel positions. Over seeds 1-5 this lesson's deep model gets a median 98.79% of
# the test digits right (98.71% to 98.80%, `benchmarks/results.md`). Trained alone, in the same
# conditions, five epochs of shifted digits reached 98.62% where six epochs with dropout instead
# (switching off random hidden units while training) reached 98.47%: better and faster
# (`benchmarks/deep_recipe_search.json` holds every recipe tried). The shift works on the 28×28
# picture, hence the reshapes around it.

# %%
deep_model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Reshape((28, 28, 1)),
        layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant"),
        layers.Reshape((784,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ],
    name="deep",
)
deep_model.summary()
deep_history, deep_seconds = train(deep_model, settings.deep_epochs, learning_rate=0.003)
print(f"trained in {deep_seconds:.1f} s")

# %%
deep_results, deep_probabilities = evaluate(deep_model, "deep")

# %% [markdown]
# ## 6. Side by side
#
# The deeper model has many more weights and takes longer to train, and it makes several times
# fewer mistakes. Its training curves show the same: lower loss, higher accuracy, and validation
# curves that follow the training curves (no sign yet of learning the training set by heart).

# %%
runs = {
    "simple": (simple_model, "sigmoid", settings.simple_epochs, simple_seconds, simple_results),
    "deep": (deep_model, "relu", settings.deep_epochs, deep_seconds, deep_results),
}
comparison = pd.DataFrame(
    {
        name: {
            "activation": activation,
            "parameters": model.count_params(),
            "epochs": epochs,
            "training seconds": round(seconds, 1),
            "test accuracy": f"{results['test_accuracy']:.2%}",
        }
        for name, (model, activation, epochs, seconds, results) in runs.items()
    }
).T
print(comparison.to_string())

# %%
figure = plots.training_curves({"simple": simple_history, "deep": deep_history})
outputs.save_and_show(figure, "training_history.png")

# %% [markdown]
# ## 7. Why ReLU: vanishing gradients, measured
#
# Backpropagation sends the error from the output back through every layer, multiplying it by
# each layer's activation slope on the way. A sigmoid's slope is at most 0.25, so after a few
# sigmoid layers little is left for the layers near the input; ReLU's slope is 1 wherever a unit
# is active. Here is the measurement instead of the claim: the same stack of 6 hidden layers
# (64 units each, Keras' default Glorot initialization, softmax output) built twice, once with
# sigmoid and once with ReLU hidden units. Before any training we compute, on a few batches, how
# large the gradient of the loss is for each hidden layer's weights.

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
    loss_function = keras.losses.SparseCategoricalCrossentropy()
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
# than the one next to the output; in the ReLU stack every layer gets a gradient of similar size.
# Does that matter for learning? We train both stacks briefly, with the same data, epochs and
# optimizer: plain SGD, whose steps are proportional to the gradient (Adam rescales each step and
# would hide part of the effect), and watch their validation accuracy.

# %%
# Both stacks in one model, side by side: they see exactly the same batches, and each is
# trained by its own loss (their weights are separate, so neither affects the other).
pixels = keras.Input(shape=(784,))
side_by_side = keras.Model(pixels, {name: stack(pixels) for name, stack in stacks.items()})
side_by_side.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.1),
    loss={name: "sparse_categorical_crossentropy" for name in stacks},
    steps_per_execution=20,
)
short_training_examples = min(len(x_fit), 6_000)
stack_val_accuracy = {name: [] for name in stacks}
for _epoch in range(2):
    side_by_side.fit(
        x_fit[:short_training_examples],
        {name: y_fit[:short_training_examples] for name in stacks},
        epochs=1,
        batch_size=64,
        verbose=0,
    )
    for name, probabilities in side_by_side(x_val).items():  # every validation digit at once
        predicted = probabilities.numpy().argmax(axis=1)
        stack_val_accuracy[name].append(float(np.mean(predicted == y_val.numpy())))
for name, accuracy in stack_val_accuracy.items():
    print(f"{name:>7} stack, validation accuracy per epoch:", np.round(accuracy, 3))

figure = plots.gradient_norms_and_learning(gradient_norms, stack_val_accuracy)
outputs.save_and_show(figure, "vanishing_gradients.png")

# %% [markdown]
# The same measurements explain the two other choices:
#
# - **Sigmoid on the simple model's output** is harmless: there is no layer before it for the
#   gradient to vanish in, and each digit gets a "yes" level between 0 and 1.
# - **Softmax on the deep model's output** makes the ten scores into probabilities that sum to 1,
#   so a higher score for one digit means lower probabilities for the others: the right shape
#   for "exactly one of ten", and what cross-entropy expects (section 10 shows them).

# %% [markdown]
# ## 8. What the simple model learned
#
# The simple model has one weight per pixel and digit, so each digit's 784 weights can be drawn
# as a 28×28 image: red pixels are evidence *for* that digit, blue pixels evidence *against* it.
# You can see blurry templates: a ring for 0, a vertical bar for 1, and for each digit the places
# where its ink differs from the others. Pixels near the border are almost never inked, so their
# weights mean nothing; they are greyed out.

# %%
pixel_usage = (x_train_images > 0).mean(axis=0).ravel()  # how often each pixel holds ink
figure = plots.weight_images(simple_model.layers[0].kernel.numpy(), pixel_usage)
outputs.save_and_show(figure, "simple_model_weights.png")

# %% [markdown]
# ## 9. Where the deep model fails
#
# The digits it gets wrong, with its answer and how sure it was. Many are hard for people too.
# The table lists the pairs it confuses most.

# %%
deep_predicted = deep_probabilities.argmax(axis=1)
wrong = np.flatnonzero(deep_predicted != y_test)
print(f"{len(wrong)} of {len(y_test)} test digits misclassified")
shown = wrong[:20]
figure = plots.digit_grid(
    x_test_images[shown],
    [f"{y_test[i]}→{deep_predicted[i]} ({deep_probabilities[i].max():.0%})" for i in shown],
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
        predicted = np.argmax(model(x_shifted, training=False), axis=1)  # no training shifts
        shift_accuracy[name].append(float(np.mean(predicted == y_test)))
print(pd.DataFrame(shift_accuracy, index=[f"{p} px" for p in shift_pixels]).T.to_string())
outputs.save_and_show(plots.shift_accuracy(shift_pixels, shift_accuracy), "shift_robustness.png")

# %% [markdown]
# One pixel costs the deep model under a point: it saw such shifts in training (section 5). Two
# pixels, a shift a person would not even notice, cost it a few points, and at four pixels it
# gets little more than half of the digits right: what it learned is tied to where strokes were.
# The simple model, whose templates are fixed pixels, loses several points at one pixel already
# and reads fewer than one digit in five at four. This is why MNIST digits are centred by their
# centre of mass, why the handwriting section below does the same to your images, and why image
# models use convolutions: the same small filter slides over every position, so a shifted stroke
# is still recognised.

# %% [markdown]
# ## 10. Softmax outputs are probabilities
#
# For each test digit the deep model outputs ten numbers between 0 and 1 that sum to 1. On clear
# digits nearly all the probability sits on one answer; on the hardest ones (below, the digits it
# was least sure of) it is spread over the candidates a person would hesitate between too.

# %%
least_sure = np.argsort(deep_probabilities.max(axis=1))[:3]
examples = np.concatenate([np.arange(min(3, len(y_test))), least_sure])
print("sums of the ten probabilities:", np.round(deep_probabilities[examples].sum(axis=1), 6))
figure = plots.probability_bars(
    x_test_images[examples], deep_probabilities[examples], y_test[examples]
)
outputs.save_and_show(figure, "softmax_probabilities.png")

# %% [markdown]
# ## 11. Try it on your own handwriting
#
# A photo of a digit written on paper looks nothing like an MNIST digit: dark ink on white paper,
# much larger, anywhere in the picture, with shadows and grain. Squashed straight to 28×28 it
# becomes a small grey smudge the model has never seen. `prepare_image` repeats the steps
# MNIST's makers used instead: invert dark-on-light, crop to the ink, scale it
# to fit a 20×20 box keeping its aspect ratio, and centre it by its centre of mass in 28×28.
#
# Below, test digits are saved as PNG files that look like such photos, then read back and
# classified through that same function; the lower row shows what the model saw. To try your
# own, photograph one digit written with a dark pen on white paper and run
# `python predict_digits.py my_digit.jpg --save-preprocessed seen/`.

# %%
rng = np.random.default_rng(settings.seed)
photos, photo_paths, photo_labels = [], [], []
for index in rng.choice(len(x_test_images), size=min(6, len(x_test_images)), replace=False):
    photo = render_as_photo(x_test_images[index], rng)
    photos.append(np.asarray(photo))
    photo_paths.append(outputs.save_image(photo, f"handwriting_examples/test_digit_{index}.png"))
    photo_labels.append(int(y_test[index]))

seen = np.stack([prepare_image(path) for path in photo_paths])
photo_probabilities = deep_model.predict(seen.reshape(len(seen), 784), verbose=0)
figure = plots.photo_round_trip(photos, seen, photo_probabilities, photo_labels)
outputs.save_and_show(figure, "own_handwriting_round_trip.png")

# %% [markdown]
# ## 12. Draw a digit and watch the model decide
#
# Below is the deep model in a drawing pad: draw a digit with the mouse, a finger or a pen, and
# watch its answer, its ten probabilities and what it sees (your drawing after the same
# preprocessing as a photo) change with every stroke. It runs entirely in the page, with the
# model's weights embedded in it: no kernel, no server, no network. The same pad is saved as
# `draw_a_digit.html` in the output folder: open it in any browser. Try a 7 with a bar, a 1 with
# a base, a digit drawn small in a corner, or one that is half a 3 and half an 8.

# %%
drawing_pad = DrawingPad(deep_model)
pad_page = outputs.save_text("draw_a_digit.html", drawing_pad.page())
drawing_pad  # in a notebook, the pad itself is this cell's output

# %% [markdown]
# ## 13. Keeping the results
#
# Everything above is saved in the output folder: the figures, the reports, the trained models
# (`models/simple.keras`, `models/deep.keras`, reload them with `keras.saving.load_model`), the
# drawing pad and `metrics.json` with the numbers of this run.

# %%
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
            "activation": activation,
            "output_activation": model.layers[-1].activation.__name__,
            "params": model.count_params(),
            "epochs": epochs,
            "batch_size": settings.batch_size,
            "train_seconds": round(seconds, 3),
            **results,
            "history": history,
        }
        for (name, (model, activation, epochs, seconds, results)), history in zip(
            runs.items(), (simple_history, deep_history)
        )
    },
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
outputs.save_model(simple_model, "models/simple.keras")
outputs.save_model(deep_model, "models/deep.keras")
outputs.finish(metrics)  # metrics.json last; files an earlier run left there are removed
print(f"draw a digit: open {pad_page} in a browser")
