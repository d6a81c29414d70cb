# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
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
data = None  # an mnist.npz or a folder of IDX files; None: $MNIST_PATH, else download with Keras
seed = 42  # same seed, same machine, same numbers
simple_epochs = 6
deep_epochs = 6
batch_size = 256
output_dir = "outputs"  # figures, reports, metrics.json and the trained models go here
quick = False  # True: a small subset and one epoch per model, a smoke test in seconds
show = False  # script only: open each figure in a window

# %%
import lesson_runtime  # first: it keeps TensorFlow's start-up log lines out of the lesson's output

# isort: split
import math
import time

import keras
import numpy as np
import pandas as pd
from keras import layers
from sklearn.metrics import classification_report, confusion_matrix

import lesson_plots
from mnist_data import load_mnist

settings = lesson_runtime.configure(globals())
outputs = lesson_runtime.OutputFolder(settings.output_dir)
print(f"Keras {keras.__version__}, backend {keras.backend.backend()}, seed {settings.seed}")

# %% [markdown]
# ## 1. The data
#
# Keras downloads MNIST once and keeps it in `~/.keras/datasets`. Offline, or behind a firewall,
# point `data` (or `--data`, or the `MNIST_PATH` environment variable) at a copy: a keras
# `mnist.npz` or a folder with the four original IDX files. Whatever is loaded is checked, and
# its content is compared with the standard MNIST.

# %%
mnist = load_mnist(settings.data)
x_train_images = mnist.x_train[: settings.train_examples]
y_train = mnist.y_train[: settings.train_examples]
x_test_images = mnist.x_test[: settings.test_examples]
y_test = mnist.y_test[: settings.test_examples]

print(f"source: {mnist.source} ({'standard' if mnist.standard else 'NOT the standard'} MNIST)")
print(f"training images {x_train_images.shape}, labels {y_train.shape}")
print(f"test images     {x_test_images.shape}, labels {y_test.shape}")
print("training examples per digit:", np.bincount(y_train, minlength=10).tolist())

# %%
figure = lesson_plots.digit_grid(x_train_images[:30], [f"label {y}" for y in y_train[:30]])
outputs.save_figure(figure, "sample_digits.png")
lesson_runtime.show(figure, settings)

# %% [markdown]
# ## 2. From pixels to network inputs
#
# Pixels are bytes from 0 (white paper) to 255 (black ink). Networks train best on small inputs,
# so we scale them to [0, 1] as 32-bit floats, once, here, rather than again for every batch.
# Our dense layers see an image as a flat list of 784 numbers.
#
# The last 5,000 training digits are held out as a **validation set**: we watch it during
# training to see whether a model still improves on digits it does not learn from. The 10,000
# test digits are kept for the final verdict only.

# %%
x_train_all = x_train_images.reshape(len(x_train_images), 784).astype("float32") / 255.0
x_test = x_test_images.reshape(len(x_test_images), 784).astype("float32") / 255.0

validation_size = len(x_train_all) // 12
x_fit, y_fit = x_train_all[:-validation_size], y_train[:-validation_size]
x_val, y_val = x_train_all[-validation_size:], y_train[-validation_size:]
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
        verbose=settings.verbose,
    )
    return history.history, time.perf_counter() - start


def evaluate(model, name):
    """Test accuracy and loss, confusion matrix and classification report of ``model``."""
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    predicted = model.predict(x_test, batch_size=1024, verbose=0).argmax(axis=1)
    matrix = confusion_matrix(y_test, predicted, labels=range(10))
    report = classification_report(y_test, predicted, labels=range(10), digits=4, zero_division=0)
    print(f"{name} model: test accuracy {test_accuracy:.2%}, test loss {test_loss:.4f}\n")
    print(report)
    outputs.save_text(f"classification_report_{name}.txt", report)
    figure = lesson_plots.confusion_heatmap(
        matrix, f"{name} model: {test_accuracy:.2%} of {len(y_test)} test digits right"
    )
    outputs.save_figure(figure, f"confusion_matrix_{name}.png")
    lesson_runtime.show(figure, settings)
    return {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "confusion_matrix": matrix.tolist(),
    }


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
simple_results = evaluate(simple_model, "simple")

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
# **Dropout** switches off a random 20% of the hidden units at each training step, so the network
# cannot lean on any single one; it is active only during training.

# %%
deep_model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(512, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(512, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ],
    name="deep",
)
deep_model.summary()
deep_history, deep_seconds = train(deep_model, settings.deep_epochs, learning_rate=0.003)
print(f"trained in {deep_seconds:.1f} s")

# %%
deep_results = evaluate(deep_model, "deep")

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
            "hidden activation": activation,
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
figure = lesson_plots.training_curves({"simple": simple_history, "deep": deep_history})
outputs.save_figure(figure, "training_history.png")
lesson_runtime.show(figure, settings)

# %% [markdown]
# ## 7. Why these activations
#
# - **Sigmoid** turns a score into a number between 0 and 1. On the simple model's output it
#   works well: each digit gets a "yes" level. Inside a deep network it is a poor choice: its
#   slope is at most 0.25 and near 0 for large scores, and backpropagation multiplies one such
#   slope per layer, so the first layers barely learn.
# - **ReLU** keeps positive scores as they are and zeroes the rest. Its slope is 1 where a unit is
#   active, so gradients keep their size through many layers, and it costs a comparison instead
#   of an exponential.
# - **Softmax** makes the ten output scores into probabilities that sum to 1, so a higher score for
#   one digit means lower probabilities for the others: the right shape for "exactly one of ten".

# %% [markdown]
# ## 8. Keeping the results
#
# Everything above is saved in the output folder: the figures, the reports, the trained models
# (`models/simple.keras`, `models/deep.keras`, reload them with `keras.saving.load_model`) and
# `metrics.json` with the numbers of this run.

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
    "environment": lesson_runtime.environment(),
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
}
outputs.save_model(simple_model, "models/simple.keras")
outputs.save_model(deep_model, "models/deep.keras")
outputs.save_json("metrics.json", metrics)
print(f"results saved in {outputs.path}/")
