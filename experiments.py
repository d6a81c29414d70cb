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
# # The experiments: why the deep model does better, and where it fails
#
# This chapter follows the lesson, `mnist_classification.ipynb`. The lesson trained a simple
# model (about 92% of test digits right) and a deep one (about 98%). Here we take them apart.
#
# 1. Gradient descent.
# 2. Backpropagation, checked against Keras.
# 3. Two baselines.
# 4. The ladder: one change at a time.
# 5. Overfitting, and three cures.
# 6. Why hidden layers use ReLU.
# 7. The simple model's weights, drawn.
# 8. Moved digits.
# 9. Are the scores probabilities?
# 10. The statistics, in one place.
#
# This chapter trains the models it needs. Every number comes from its run, except where a
# **results file** is named: numbers saved by a run of one of the project's scripts.

# %%
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's setting: fewer start-up notes

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from keras import layers
from scipy.stats import binomtest, spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split

from mnist_lesson import plots
from mnist_lesson.data import load_mnist
from mnist_lesson.shifts import shifted

# %% tags=["parameters"]
data = os.environ.get("MNIST_PATH")  # a local copy of mnist.npz; None: Keras downloads MNIST
seed = 42  # the same seed gives the same numbers
quick = False  # True: a few thousand digits only, to check quickly that everything runs

# %% [markdown]
# The digits are prepared as in the lesson: pixels scaled to 0-1, the same shuffled twelfth of
# the training digits held out for validation, and one-hot targets.

# %%
(x_train, y_train), (x_test, y_test) = load_mnist(data)
if quick:
    x_train, y_train, x_test, y_test = x_train[:4000], y_train[:4000], x_test[:1000], y_test[:1000]
x_train, x_test = x_train.astype("float32") / 255, x_test.astype("float32") / 255
x_fit, x_val, digits_fit, digits_val = train_test_split(
    x_train, y_train, test_size=1 / 12, random_state=seed
)
y_fit, y_val, y_test_1hot = (
    keras.utils.to_categorical(d, 10) for d in (digits_fit, digits_val, y_test)
)
os.makedirs("outputs", exist_ok=True)
results = {"seed": seed, "quick": quick, "backend": keras.backend.backend()}
print(f"train on {len(x_fit)}, validate on {len(x_val)}, test on {len(x_test)} digits")

# %% [markdown]
# ## 1. Gradient descent, made concrete
#
# Training moves every weight a little against its gradient, again and again. That is
# **gradient descent**. To see it, take a model with just two weights: a line, y = w·x + b.
# We fit it to 21 points. The loss is the **mean squared error**, the mean of (w·x + b − y)².
#
# The gradient has one number per weight. Here we can write it by hand:
# 2·mean((w·x + b − y)·x) for w, and 2·mean(w·x + b − y) for b. Each step subtracts the
# learning rate times the gradient. We take 20 steps at three learning rates.

# %%
rng = np.random.default_rng(seed)
x_line = np.linspace(-1, 1, 21)
y_line = 2 * x_line + 1 + rng.normal(0, 0.3, x_line.size)


def line_loss(w, b):
    return np.mean((w * x_line + b - y_line) ** 2)


def line_gradient(w, b):
    error = w * x_line + b - y_line
    return 2 * np.mean(error * x_line), 2 * np.mean(error)


paths = {}
for rate in (0.05, 0.6, 1.02):
    w, b = -1.0, -1.5  # the same start for every rate
    path = [(w, b)]
    for _ in range(20):
        gradient_w, gradient_b = line_gradient(w, b)
        w, b = w - rate * gradient_w, b - rate * gradient_b
        path.append((w, b))
    paths[rate] = np.array(path)
    print(f"learning rate {rate}: loss {line_loss(-1.0, -1.5):.3f} at the start, "
          f"{line_loss(w, b):.3f} after 20 steps")  # fmt: skip

ws, bs = np.meshgrid(np.linspace(-1.5, 3.5, 101), np.linspace(-7, 7, 141))
surface = np.vectorize(line_loss)(ws, bs)
figure, axes = plt.subplots(1, 3, figsize=(14, 4), sharey=True)
for axis, (rate, path) in zip(axes, paths.items()):
    axis.contour(ws, bs, surface, levels=np.geomspace(0.1, 30, 12), colors="0.7")
    axis.plot(path[:, 0], path[:, 1], "o-", markersize=3)
    axis.set(xlabel="w", xlim=(-1.5, 3.5), ylim=(-7, 7), title=f"learning rate {rate}")
axes[0].set_ylabel("b")
figure.suptitle("Twenty steps of gradient descent; grey lines join points of equal loss")
plt.savefig("outputs/gradient_descent.png")
plt.show()

# %% [markdown]
# The grey lines are like a map's contour lines: the loss is lowest in their centre. Each dot
# is one step.
#
# - At 0.05 the steps are too small: after 20 steps the line is still far from the centre.
# - At 0.6 it gets there in a few steps.
# - At 1.02 each step overshoots: b jumps from side to side, further every time.
#
# ## 2. Backpropagation, written out
#
# A network has thousands of weights, so nobody writes its gradient by hand.
# **Backpropagation** computes it with the chain rule, from the output back to the input.
# Here it is in NumPy, for a stack of `Dense` layers that share one
# hidden activation (ReLU or sigmoid), with a softmax output.
#
# The **forward pass** keeps each layer's output. For softmax with categorical cross-entropy,
# the loss's slope at each logit is simply (score − target). The **backward pass** carries that
# error back, one layer at a time. (Keras calls a layer's weights its **kernel**.)
#
# - a layer's kernel gradient is its input (transposed) times the error at its output;
# - its bias gradient is that error, summed over the digits;
# - the error at its input is the error times its kernel (transposed), times the slope of the
#   activation below it.


# %%
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


ACTIVATION = {"relu": lambda z: np.maximum(z, 0), "sigmoid": sigmoid}
SLOPE = {"relu": lambda a: (a > 0).astype(float), "sigmoid": lambda a: a * (1 - a)}


def forward(weights, activation, x):
    """Each layer's output, the inputs first and the softmax scores last."""
    outputs = [x.reshape(len(x), -1).astype(np.float64)]
    for kernel, bias in weights[:-1]:
        outputs.append(ACTIVATION[activation](outputs[-1] @ kernel + bias))
    kernel, bias = weights[-1]
    logits = outputs[-1] @ kernel + bias
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return [*outputs, exp / exp.sum(axis=1, keepdims=True)]


def backward(weights, activation, outputs, targets):
    """The gradient of the mean categorical cross-entropy: (kernel, bias) for every layer."""
    error = (outputs[-1] - targets) / len(targets)  # the loss's slope at each logit
    gradients = []
    for layer in reversed(range(len(weights))):
        gradients.append((outputs[layer].T @ error, error.sum(axis=0)))
        if layer:  # back through this layer's kernel and the activation below it
            error = (error @ weights[layer][0].T) * SLOPE[activation](outputs[layer])
    return gradients[::-1]


def weight_pairs(model):
    """The model's weights as (kernel, bias) pairs, input side first, in float64."""
    arrays = [w.astype(np.float64) for w in model.get_weights()]
    return list(zip(arrays[::2], arrays[1::2]))


# %% [markdown]
# Now the check. We build a small network with Keras: two hidden layers of 32 units, once with
# ReLU and once with sigmoid. Keras' plain **SGD** optimizer moves each weight by exactly
# −(learning rate) × gradient. `train_on_batch` takes one such step on one batch. If our gradient
# is right, every weight moves by −0.1 times it.
#
# For each layer we print a **relative error**: the size of the difference between Keras' step
# and ours, divided by the size of our step. Near 0 means they agree.


# %%
def keras_step_against_ours(activation, batch, targets, rate=0.1):
    keras.utils.set_random_seed(seed)
    net = keras.Sequential(
        [keras.Input(shape=(28, 28)), layers.Flatten(), layers.Dense(32, activation=activation),
         layers.Dense(32, activation=activation), layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    net.compile(optimizer=keras.optimizers.SGD(rate), loss="categorical_crossentropy")
    before = weight_pairs(net)
    outputs = forward(before, activation, batch)
    numpy_loss = -np.mean(np.log((outputs[-1] * targets).sum(axis=1)))
    gradients = backward(before, activation, outputs, targets)
    keras_loss = float(net.train_on_batch(batch, targets))
    errors = []
    for old, new, gradient in zip(before, weight_pairs(net), gradients):  # layer by layer
        keras_step = np.concatenate([(n - o).ravel() for o, n in zip(old, new)])
        our_step = np.concatenate([(-rate * g).ravel() for g in gradient])
        errors.append(float(np.linalg.norm(keras_step - our_step) / np.linalg.norm(our_step)))
    return {"numpy_loss": float(numpy_loss), "keras_loss": keras_loss, "relative_error": errors}


activations = ("relu", "sigmoid")
backprop_check = {
    name: keras_step_against_ours(name, x_fit[:64], y_fit[:64]) for name in activations
}
table = pd.DataFrame(
    {name: [check["numpy_loss"], check["keras_loss"], *check["relative_error"]]
     for name, check in backprop_check.items()},
    index=["loss, NumPy", "loss, Keras", "relative error, layer 1", "layer 2", "output layer"],
)  # fmt: skip
print(table.T.to_string(float_format="{:.6g}".format))
results["backprop_check"] = backprop_check

# %% [markdown]
# The two losses agree. In every layer the relative error is tiny: Keras' step matches ours.
# So `fit` does this, step after step. Adam, the lesson's optimizer, starts from the same
# gradient but divides each weight's step by the size of its recent gradients.
#
# ## 3. Two baselines
#
# Guessing gets one digit in ten, 10%. A classic
# statistics model, **logistic regression** (scikit-learn's), learns one weight per pixel and
# digit, as the simple model does. To keep the run short, it learns from 10,000 of our 55,000
# training digits only, with a loose `tol`. So it is a floor, not a fair match for the simple
# model.

# %%
logistic = LogisticRegression(max_iter=300, tol=1e-3)
logistic.fit(x_fit[:10_000].reshape(-1, 784), digits_fit[:10_000])
baselines = {
    "chance": 0.1,
    "logistic_regression_validation": logistic.score(x_val.reshape(-1, 784), digits_val),
    "logistic_regression_test": logistic.score(x_test.reshape(-1, 784), y_test),
}
results["baselines"] = baselines
validation, test = (
    baselines["logistic_regression_validation"],
    baselines["logistic_regression_test"],
)
print(f"chance: 10%; logistic regression: validation {validation:.2%}, test {test:.2%}")

# %% [markdown]
# ## 4. The ladder: one change at a time
#
# From the simple model to the deep one, the lesson changed four things at once: the output,
# the recipe, the hidden layers and their activation. The **ladder** makes one change per
# **rung**. Each rung is trained like the lesson's models.
#
# The rungs are **paired**. Setting the seed before building gives models of the same shape the
# same starting weights. Setting it again before `fit` gives every rung the same batches. So two
# neighbouring rungs differ in their one change only.


# %%
def build(hidden_activation=None, output="softmax"):
    hidden = [] if hidden_activation is None else [
        layers.Dense(512, activation=hidden_activation),
        layers.Dense(512, activation=hidden_activation),
    ]  # fmt: skip
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            layers.Flatten(),
            *hidden,
            layers.Dense(10, activation=output),
        ]
    )


batch_size = 250
steps_per_epoch = int(np.ceil(len(x_fit) / batch_size))
simple_recipe = {"rate": 0.05, "epochs": 6}  # the lesson's recipe for the simple model
deep_recipe = {"rate": 0.004, "epochs": 5}  # ... and for the deep model
# Each rung: what it changes, its hidden activation, output, loss and recipe.
rungs = [
    ("the simple model", None, "sigmoid", "binary_crossentropy", simple_recipe),
    ("softmax output, categorical cross-entropy", None, "softmax", "categorical_crossentropy",
     simple_recipe),
    ("the deep model's recipe", None, "softmax", "categorical_crossentropy", deep_recipe),
    ("two hidden layers of 512 sigmoid units", "sigmoid", "softmax", "categorical_crossentropy",
     deep_recipe),
    ("ReLU instead of sigmoid: the deep model", "relu", "softmax", "categorical_crossentropy",
     deep_recipe),
]  # fmt: skip
ladder, models, right_on_test = [], {}, {}
for change, hidden, output, loss, recipe in rungs:
    keras.utils.set_random_seed(seed)  # the starting weights of its shape
    model = build(hidden, output)
    if not ladder:
        simple_start = model.get_weights()  # section 7 starts from these
    schedule = keras.optimizers.schedules.CosineDecay(
        recipe["rate"], recipe["epochs"] * steps_per_epoch
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=["categorical_accuracy"]
    )
    keras.utils.set_random_seed(seed)  # the batches every rung sees
    model.fit(x_fit, y_fit, batch_size=batch_size, epochs=recipe["epochs"], verbose=0)
    # predict and evaluate take 1,000 digits at a time below: the same answers, in fewer steps
    right_on_test[change] = model.predict(x_test, batch_size=1000, verbose=0).argmax(1) == y_test
    val_right = model.predict(x_val, batch_size=1000, verbose=0).argmax(1) == digits_val
    ladder.append({
        "change": change, "loss": loss, "learning_rate": recipe["rate"], "epochs": recipe["epochs"],
        "validation_accuracy": float(val_right.mean()),
        "test_accuracy": float(right_on_test[change].mean()),
    })  # fmt: skip
    models[change] = model
simple_model, deep_model = models[rungs[0][0]], models[rungs[-1][0]]
table = pd.DataFrame(ladder).set_index("change")[["validation_accuracy", "test_accuracy"]]
table["test gain (points)"] = 100 * table["test_accuracy"].diff()
print(table.to_string(formatters={"validation_accuracy": "{:.2%}".format,
                                  "test_accuracy": "{:.2%}".format,
                                  "test gain (points)": "{:+.2f}".format}))  # fmt: skip

# %% [markdown]
# A gain is measured in **points**: 98.70% against 98.50% is +0.20 points. Read the table from
# the top, one rung at a time:
#
# - **Softmax output.** One answer out of ten replaces ten separate yes/no answers, on the same
#   single layer.
# - **The deep model's recipe.** Fewer epochs at a lower rate, still on one layer. It keeps the
#   recipe's effect out of the next rung's gain.
# - **Two hidden layers.** This is where the largest gain sits.
# - **ReLU instead of sigmoid.** The same network and recipe, with another activation.
#
# Section 10 says which of these gains are larger than the test set's own noise.
#
# Two cautions. First, each gain is what its change buys at that point of the ladder. The
# softmax output is measured on one layer, ReLU on two. Second, the deep recipe was chosen for
# ReLU units. That favours ReLU on the last rung. A fair comparison gives each activation its
# own best learning rate. `benchmarks/recipe_search.py` ran it: the deep model with sigmoid and
# with ReLU hidden units, five rates each, six seeds, the lesson's 5 epochs. On each seed both
# start from the same weights and hold out the same validation digits.

# %%
with open("benchmarks/recipe_search.json") as file:  # a results file of the project
    searches = {found["model"]: found for found in json.load(file)["rounds"]}
budget, accuracy = "adam, 5 epochs", {}
for model, activation in [("sigmoid_hidden", "sigmoid"), ("deep", "ReLU")]:
    chosen = searches[model]["chosen"][budget]  # chosen on validation, then tested once
    rate = chosen["learning_rate"]
    validation = searches[model]["grids"][budget]["validation_accuracy"][f"{rate:g}"]
    accuracy[activation] = pd.DataFrame(
        {"validation": validation, "test": chosen["test_accuracy"]},
        index=pd.Index(searches[model]["seeds"], name="seed"),
    )
    print(f"{activation} hidden units at the chosen rate, {rate}: median validation accuracy "
          f"{np.median(validation):.2%}")  # fmt: skip
fair_gains = 100 * (accuracy["ReLU"] - accuracy["sigmoid"])  # seed by seed
print("ReLU's gain over sigmoid, in points:")
print(fair_gains.round(2).T.to_string())

# %% [markdown]
# Sigmoid does best at higher rates than the lesson's. Even so, ReLU leads on all six seeds, on
# the validation digits and on the test digits, in this budget. Longer training was not
# measured here. `benchmarks/ladder_seeds.json` holds the ladder on the same seeds. There the last
# rung gains more, on every seed and on both sets of digits. So part of that rung's gain came
# from the learning rate.
#
# **The classic version of the simple model.** `benchmarks/classic_tutorial.py` is this
# tutorial as it is often written. The benchmark's results file, `benchmarks/results.json`,
# records both scripts' test accuracy. The classic simple model scores a little higher there.
# The two runs are not paired: other data, batches and seed. So part of the difference may be
# noise. Two differences may explain the rest; their shares are not measured apart:
#
# - It uses sparse categorical cross-entropy on ten sigmoid outputs. That loss expects scores
#   that sum to 1. What Keras computes for others is not documented. The next cell measures it.
# - It trains on all 60,000 digits in Keras' default batches of 32, for 5 epochs. That makes
#   far more steps than our simple model takes (next cell).

# %%
with open("benchmarks/results.json") as file:  # a results file of the project
    scripts = json.load(file)["programs"]
for script in ("classic", "lesson"):
    simple_accuracy = scripts[script]["simple_test_accuracy"]
    print(f"{script} script: simple model, test accuracy {simple_accuracy:.2%}")
classic = keras.models.clone_model(simple_model)  # the simple model, compiled the classic way
classic.set_weights(simple_model.get_weights())
classic.compile(loss="sparse_categorical_crossentropy")
weights = weight_pairs(simple_model)  # section 2's NumPy tools, on the simple model's layer
(kernel, bias), true = weights[0], (np.arange(len(x_val)), digits_val)
outputs = sigmoid(x_val.reshape(len(x_val), -1) @ kernel + bias)  # the ten sigmoid outputs
scores = forward(weights, "sigmoid", x_val)[-1]  # softmax of the same logits
fit_loss = classic.evaluate(x_val, digits_val, verbose=0, return_dict=True)["loss"]
classic_loss = {
    "evaluate (as fit computes it)": fit_loss,
    "−ln(true digit's output ÷ sum of the ten)": np.mean(-np.log(outputs[true] / outputs.sum(1))),
    "softmax cross-entropy of the logits": np.mean(-np.log(scores[true])),
}
for name, value in classic_loss.items():
    print(f"{name}: {value:.4f}")
results["classic_loss"] = {name: float(value) for name, value in classic_loss.items()}
classic_steps = 5 * int(np.ceil(60_000 / 32))
print(
    f"steps: the simple model {simple_recipe['epochs'] * steps_per_epoch:,}; "
    f"the classic script {classic_steps:,} (5 epochs of 60,000 digits in batches of 32)"
)

# %% [markdown]
# On TensorFlow, the compiled loss, which `fit` minimizes, equals softmax cross-entropy of the
# logits. So there the classic model trains with the softmax rung's loss, on far more steps. On
# JAX (`benchmarks/ladder_seeds_jax.json`), it is near the line that divides by the sum. Our
# simple model keeps binary cross-entropy, the loss of ten yes/no answers. That makes the
# softmax rung's gain visible.
#
# ## 5. Overfitting, and three cures
#
# Give a network only 1,000 training digits and many epochs. It learns those 1,000 digits ever
# better, while its loss on the validation digits turns up. That is **overfitting**: learning
# details of the training digits that do not carry over to new ones.
#
# Its size is the **generalisation gap**: accuracy on the training digits minus accuracy on the
# validation digits. Both are measured with `evaluate` after training, on the digits as they
# are.
#
# Here is a smaller deep model, with two hidden layers of 256 ReLU units. It is trained on
# 1,000 digits four times, from the same start:
#
# - **no cure**;
# - **early stopping**: `EarlyStopping` watches the validation loss after every epoch. It stops
#   training 3 epochs after the loss last fell, and puts back the weights of its lowest point.
# - **dropout**: a `Dropout` layer after each hidden layer. During training it zeroes a random
#   half of the hidden units at every step.
# - **random translation**: a `RandomTranslation` layer moves each training digit by up to 2
#   pixels, a new random move each time. Like dropout, it does nothing outside training.
#
# The budget is the same for all: 15 epochs of 10 batches of 100 digits, Adam at its default
# learning rate. Each cure has one setting, not tuned. Early stopping chooses on the first 2,000
# validation digits, watched after each epoch. So every cure is judged on the other 3,000
# validation digits, which nothing chose on. We run all four on three seeds. This seed's curves
# are drawn below; section 10 compares the seeds.

# %%
few, cure_epochs = 1_000, (5 if quick else 15)
watched = len(x_val) * 2 // 5  # 2,000 of the 5,000 validation digits
checked, judged = slice(0, watched), slice(watched, None)  # watched by fit; judged after it
cure_seeds = [seed, seed + 1, seed + 2]
cures = ["no cure", "early stopping", "dropout", "random translation"]


def small_data_net(cure, cure_seed):
    keras.utils.set_random_seed(cure_seed)  # the same starting weights for every cure
    # Dropout and RandomTranslation get seeds of their own; the check below compares the starts.
    drop = [layers.Dropout(0.5, seed=cure_seed)] if cure == "dropout" else []
    move = [layers.RandomTranslation(2 / 28, 2 / 28, fill_mode="constant", seed=cure_seed)]
    return keras.Sequential(
        [keras.Input(shape=(28, 28)), layers.Reshape((28, 28, 1)),
         *(move if cure == "random translation" else []), layers.Flatten(),
         layers.Dense(256, activation="relu"), *drop, layers.Dense(256, activation="relu"), *drop,
         layers.Dense(10, activation="softmax")]
    )  # fmt: skip


overfitting, small_nets = {cure: [] for cure in cures}, {}
for cure_seed in cure_seeds:
    for cure in cures:  # "no cure" first: its starting weights are every cure's
        model = small_data_net(cure, cure_seed)
        if cure == "no cure":
            start = model.get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(start, model.get_weights())), cure
        model.compile(
            optimizer="adam", loss="categorical_crossentropy", metrics=["categorical_accuracy"]
        )
        stop = [keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)]
        # Early stopping watches validation digits after every epoch; so do all cures on the
        # seed whose curves are drawn. The other runs skip it: the same result, in less time.
        watch = cure == "early stopping" or cure_seed == seed
        keras.utils.set_random_seed(cure_seed)  # the same batches for every cure
        history = model.fit(
            x_fit[:few], y_fit[:few], batch_size=100, epochs=cure_epochs, verbose=0,
            validation_data=(x_val[checked], y_val[checked]) if watch else None,
            validation_batch_size=1000, callbacks=stop if cure == "early stopping" else [],
        )  # fmt: skip
        train_accuracy = model.evaluate(x_fit[:few], y_fit[:few], batch_size=1000, verbose=0)[1]
        val_loss, val_accuracy = model.evaluate(
            x_val[judged], y_val[judged], batch_size=1000, verbose=0
        )
        overfitting[cure].append({
            "seed": cure_seed, "epochs_run": len(history.history["loss"]),
            "val_loss_curve": history.history.get("val_loss"),
            "train_loss_curve": history.history["loss"],
            "validation_loss": val_loss, "training_accuracy": train_accuracy,
            "validation_accuracy": val_accuracy, "gap": train_accuracy - val_accuracy,
        })  # fmt: skip
        if cure_seed == seed:
            small_nets[cure] = model

figure, axes = plt.subplots(1, 2, figsize=(12, 4))
for cure in cures:
    run = overfitting[cure][0]
    epochs = range(1, run["epochs_run"] + 1)
    (line,) = axes[0].plot(epochs, run["val_loss_curve"], label=cure)
    axes[1].plot(epochs, run["train_loss_curve"], color=line.get_color(), label=cure)
axes[0].set(xlabel="epoch", ylabel="validation loss", title="On 2,000 validation digits")
axes[1].set(xlabel="epoch", ylabel="training loss (log scale)", yscale="log",
            title="On the 1,000 training digits, as trained")  # fmt: skip
axes[0].legend()
plt.savefig("outputs/overfitting.png")
plt.show()
table = pd.DataFrame({cure: overfitting[cure][0] for cure in cures}).T
print(f"seed {seed}, {few:,} training digits:")
shown = ["epochs_run", "validation_loss", "training_accuracy", "validation_accuracy", "gap"]
print(table[shown].to_string(formatters={
    "validation_loss": "{:.3f}".format, "training_accuracy": "{:.2%}".format,
    "validation_accuracy": "{:.2%}".format, "gap": lambda g: f"{100 * g:+.2f} points",
}))  # fmt: skip

# %% [markdown]
# Read the "no cure" curve first. Its validation loss falls for a few epochs, then turns up.
# Meanwhile its training loss keeps falling, on a **log scale** where each grid step multiplies
# the loss by ten. The model learns its 1,000 digits by heart.
#
# Until it stops, early stopping's curves are no cure's: same start, same batches.
#
# The table gives each cure's validation loss and gap at the end. Early stopping keeps the
# weights of the lowest validation loss; its gap is where training stood at that epoch.
# Section 10 compares them over the seeds.
#
# ## 6. Why ReLU: the signal fades through sigmoid layers
#
# Backpropagation (section 2) multiplies the error, layer by layer, by the activation's slope.
# A sigmoid's slope is at most 0.25. ReLU's is 1 where a unit is active. So through many
# sigmoid layers, the error can shrink on its way back. The layers near the input then barely
# learn. This is the **vanishing gradient**.
#
# We measure it on a stack of six hidden layers of 64 units, with a softmax output. It is built
# twice from the same starting weights: once with sigmoid units, once with ReLU. On 512 training
# digits, before any training, two numbers per hidden layer:
#
# - the **spread**: how much the layer's outputs differ from digit to digit. It is each unit's
#   **standard deviation** over the digits, averaged over the units. Near 0, every digit looks
#   the same to the next layer.
# - the **gradient norm**: the length of the layer's kernel gradient, from section 2's
#   `backward`.
#
# A third stack is sigmoid too, with starting weights four times as large as Keras' default. That
# partly offsets the sigmoid's slope of at most 0.25. `VarianceScaling(16.0, ...)` draws them
# with sixteen times the default's variance.

# %%
depth, width, probe = 6, 64, slice(0, 512)


def six_layer_stack(activation, scale=1.0):
    keras.utils.set_random_seed(seed)  # every stack starts from the same draws

    def kernel():  # Keras' default (Glorot uniform) when scale is 1
        return keras.initializers.VarianceScaling(scale, mode="fan_avg", distribution="uniform")

    return keras.Sequential(
        [keras.Input(shape=(28, 28)), layers.Flatten(),
         *[layers.Dense(width, activation=activation, kernel_initializer=kernel())
           for _ in range(depth)],
         layers.Dense(10, activation="softmax")]
    )  # fmt: skip


stack_kinds = {"sigmoid": ("sigmoid", 1.0), "relu": ("relu", 1.0),
               "sigmoid, scaled start": ("sigmoid", 16.0)}  # fmt: skip
per_layer, vanishing = {}, {"spread": {}, "gradient_norm": {}}
for name, (activation, scale) in stack_kinds.items():
    weights = weight_pairs(six_layer_stack(activation, scale))
    layer_outputs = forward(weights, activation, x_fit[probe])
    gradients = backward(weights, activation, layer_outputs, y_fit[probe])
    vanishing["spread"][name] = [float(a.std(axis=0).mean()) for a in layer_outputs[1:-1]]
    vanishing["gradient_norm"][name] = [float(np.linalg.norm(k)) for k, _ in gradients[:-1]]
    per_layer[f"{name}: spread"] = vanishing["spread"][name]
    per_layer[f"{name}: gradient norm"] = vanishing["gradient_norm"][name]
table = pd.DataFrame(per_layer, index=pd.RangeIndex(1, depth + 1, name="hidden layer"))
print("Before training; hidden layer 1 is next to the input")
print(table.T.to_string(float_format="{:.1e}".format))

# %% [markdown]
# Numbers like 3.2e-04 mean 3.2 × 10⁻⁴, or 0.00032. In the default sigmoid stack the spread
# shrinks layer by layer. The gradient norm is smallest in the first layers, near the input.
# In the ReLU stack neither fades as much. The scaled start changes the sigmoid stack's numbers
# too: the starting weights matter as well as the activation.
#
# Does that stop learning? A fair answer trains each stack at many learning rates and seeds.
# The next cell reads such a run's results file, `benchmarks/depth_seeds.json`.
#
# It trains stacks of two, four and six hidden layers of 64 units, each built as above. The
# budget is small: 2 epochs on MNIST's first 6,000 training digits, in batches of 50. Its last
# 5,000 training digits validate. Each stack tries a grid of
# learning rates, with plain SGD and, for the default stacks, with Adam. A rate's score is its
# median validation accuracy over six seeds. Each best rate has a smaller and a larger rate
# beside it. Where every rate stays below 20%, near chance, no rate is
# best, and the table says so.

# %%
with open("benchmarks/depth_seeds.json") as file:  # a results file of the project
    depth_runs = json.load(file)
stack_names = {"sigmoid": "sigmoid", "relu": "ReLU", "sigmoid_scaled_init": "sigmoid, scaled start"}
optimizer_names = {"sgd": "SGD", "adam": "Adam"}
trained = {}
for hidden_layers, stacks in depth_runs["depths"].items():
    for stack, optimizers in stacks.items():
        for optimizer, by_rate in optimizers.items():
            medians = {rate: float(np.median(found)) for rate, found in by_rate.items()}
            best = depth_runs["best_learning_rates"][hidden_layers][stack][optimizer]
            row = trained.setdefault(f"{stack_names[stack]}, {optimizer_names[optimizer]}", {})
            row[f"{hidden_layers} layers"] = (
                f"{medians[str(best)]:.1%} at rate {best}"
                if best is not None
                else f"chance at all {len(medians)} rates"
            )
vanishing["trained"] = {"from": "benchmarks/depth_seeds.json", "seeds": depth_runs["seeds"],
                        "best_median_validation_accuracy": trained}  # fmt: skip
results["vanishing_gradient"] = vanishing
print("Median validation accuracy at each stack's best rate, over seeds", depth_runs["seeds"])
print(pd.DataFrame(trained).T.to_string())

# %% [markdown]
# Compare each line with chance, 10%. With plain SGD, the default sigmoid stack learns at two
# layers, but stays at chance at four and six, at every rate tried. The ReLU stack learns at
# every depth. So does the sigmoid stack with its scaled start, though less well at six layers.
#
# Adam helps the sigmoid stack too: with Adam, small gradients still make full steps (section
# 2). Yet at six layers, sigmoid with Adam stays far below ReLU. Only this small budget was
# measured.
#
# The ladder's two sigmoid layers did learn, with Adam. In the table, two sigmoid layers learn
# even with plain SGD. The signal fades layer by layer, so two layers lose less of it than six.
#
# ## 7. What the simple model learned
#
# The simple model has one weight per pixel and digit. So each digit's 784 weights can be drawn
# as a 28×28 picture: red pixels count for that digit, blue ones against it. Beside it is a
# twin: the same layer, trained from the same start on the same batches with plain SGD. Its
# learning rate is 30, with the same cosine schedule. That rate was best for plain SGD on a grid
# from 3 to 300 (`benchmarks/recipe_search.json`). It suits plain SGD, not Adam: their
# rates are not in the same units. Plain SGD's step is the rate times the gradient. Adam's step
# is about the rate itself, whatever the gradient's size. The twin applies its sigmoid inside
# the loss (`from_logits=True`): the same loss, in the form Keras' documentation recommends.

# %%
keras.utils.set_random_seed(seed)
sgd_twin = build(None, output=None)  # the sigmoid moves into the loss: from_logits=True
assert all(np.array_equal(a, b) for a, b in zip(sgd_twin.get_weights(), simple_start))
schedule = keras.optimizers.schedules.CosineDecay(30.0, simple_recipe["epochs"] * steps_per_epoch)
sgd_twin.compile(optimizer=keras.optimizers.SGD(schedule),
                 loss=keras.losses.BinaryCrossentropy(from_logits=True),
                 metrics=["categorical_accuracy"])  # fmt: skip
keras.utils.set_random_seed(seed)  # the simple model's batches
sgd_twin.fit(x_fit, y_fit, batch_size=batch_size, epochs=simple_recipe["epochs"], verbose=0)
inked = (x_fit > 0).mean(axis=0).ravel()  # how often each pixel holds ink
drawn = inked >= 0.05  # pixels inked in at least one digit in twenty
weight_pictures = {}
for name, model in (("Adam (the simple model)", simple_model), ("plain SGD", sgd_twin)):
    kernel = model.layers[-1].get_weights()[0]
    moved = np.abs(kernel - simple_start[0]).mean(axis=1)  # how far each pixel's weights moved
    strength = np.abs(kernel).max(axis=1)
    strongest = drawn & (strength >= np.percentile(strength[drawn], 90))
    weight_pictures[name] = {
        "validation_accuracy": float(model.evaluate(x_val, y_val, batch_size=1000, verbose=0)[1]),
        "median_inking_strongest_tenth": float(np.median(inked[strongest])),
        "rank_correlation_inking_movement": float(spearmanr(inked[drawn], moved[drawn])[0]),
        "kernel": kernel,
    }
table = pd.DataFrame(weight_pictures).T.drop(columns="kernel")
print(f"median inking of all drawn pixels: {np.median(inked[drawn]):.1%}")
print(table.to_string(formatters={
    "validation_accuracy": "{:.2%}".format, "median_inking_strongest_tenth": "{:.1%}".format,
    "rank_correlation_inking_movement": "{:.2f}".format,
}))  # fmt: skip
kernels = {name: found.pop("kernel") for name, found in weight_pictures.items()}
plots.weight_images(kernels, inked)
plt.savefig("outputs/simple_model_weights.png")
plt.show()
results["weight_pictures"] = weight_pictures

# %% [markdown]
# The table measures two things over the drawn pixels, those inked in at least 5% of the
# training digits:
#
# - how often the pixels with each model's strongest tenth of weights are inked (a pixel's
#   strength is its largest weight in size, over the ten digits);
# - the **rank correlation** between how often a pixel is inked and how far its weights moved in
#   training. It is 1 when the two rise together in perfect order, and 0 when they are unrelated.
#
# Adam's strongest weights sit on rarely inked pixels. Our hypothesis for the reason is Adam's
# step, scaled by each weight's own recent gradients (section 2). If so, a rarely inked pixel
# gets few gradients, yet steps as large as the others'. With plain SGD, a step is proportional
# to the gradient, so such weights would move less. The correlation column tests a weak form of
# that: Adam's correlation negative (the rarer the ink, the further the weights moved), plain
# SGD's higher. Step sizes were not measured. The link held on all six seeds of
# `benchmarks/ladder_seeds.json`; it is not proof of the cause.
#
# ## 8. Where the deep model fails
#
# Here are the first 20 test digits the deep model gets wrong. Each title gives the true digit,
# the answer and the answer's score: "9→4" is a 9 read as a 4.

# %%
deep_scores = deep_model.predict(x_test, batch_size=1000, verbose=0)
deep_answers = deep_scores.argmax(axis=1)
wrong = np.flatnonzero(deep_answers != y_test)
print(f"{len(wrong)} of {len(y_test)} test digits read wrong")
titles = [f"{y_test[i]}→{deep_answers[i]} ({deep_scores[i].max():.0%})" for i in wrong[:20]]
plots.digit_grid(x_test[wrong[:20]], titles)
plt.savefig("outputs/misclassified_deep.png")
plt.show()
mistakes = confusion_matrix(y_test, deep_answers, labels=range(10))
np.fill_diagonal(mistakes, 0)
pairs = sorted(((mistakes[t, a], t, a) for t in range(10) for a in range(10)), reverse=True)[:6]
print("commonest mistakes:", "; ".join(f"{t} read as {a}, {n} times" for n, t, a in pairs))

# %% [markdown]
# A `Dense` layer gives every pixel its own weights. Nothing in it knows that a stroke moved by
# a few pixels is the same stroke. We move every test digit by 1 to 4
# pixels, down, up, right or left in turn; what leaves the picture is lost. Four models read
# them: the simple and deep models, and section 5's nets trained on 1,000 digits, without a cure
# and with random translation.

# %%
shift_pixels = [0, 1, 2, 3, 4]
readers = {"simple": simple_model, "deep": deep_model,
           "1,000 digits, no cure": small_nets["no cure"],
           "1,000 digits, random translation": small_nets["random translation"]}  # fmt: skip
robustness = {"shift_pixels": shift_pixels}
for name, model in readers.items():
    robustness[name] = [
        float(
            np.mean(
                model.predict(shifted(x_test, p), batch_size=1000, verbose=0).argmax(axis=1)
                == y_test
            )
        )
        for p in shift_pixels
    ]
    plt.plot(shift_pixels, robustness[name], "o-", label=name)
plt.gca().set(xlabel="pixels moved", ylabel="test accuracy", title="Digits moved off centre")
plt.legend()
plt.savefig("outputs/shift_robustness.png")
plt.show()
table = pd.DataFrame({n: a for n, a in robustness.items() if n != "shift_pixels"},
                     index=[f"{p} px" for p in shift_pixels]).T  # fmt: skip
print(table.to_string(float_format="{:.2%}".format))
results["robustness"] = robustness

# %% [markdown]
# The simple and deep models lose accuracy with every pixel the digits move. Their weights
# belong to fixed pixel positions. Now compare the two nets trained on 1,000 digits. The one
# trained with random translation, on moves of up to 2 pixels, reads more at every shift. Its
# lead is far larger at 2 to 4 pixels than at 0 or 1.
#
# Image models use **convolutions** instead. A small **filter** of weights slides over every
# position of the picture, so a stroke gives the same response, moved with it, wherever it is.
# An exercise of group 2 in `exercises.ipynb` builds one.
#
# ## 9. Are the scores probabilities?
#
# The deep model's ten scores lie between 0 and 1 and add up to 1. It is tempting to read them
# as probabilities: "98% sure it is a 7". Whether they deserve it is measured by
# **calibration**. Among the digits whose top score is about 90%, is the model right about 9
# times in 10?
#
# The first table groups the test digits by their top score: the mean top score in each group,
# and how often the answer was right. The **calibration error** is the gap between
# the two in each group, averaged over the groups, weighted by their digits. The second table
# compares the test digits as they are with the same digits moved by 3 pixels.


# %%
def calibration(scores, digits):
    top, right = scores.max(axis=1), scores.argmax(axis=1) == digits
    group = np.minimum((top * 10).astype(int), 9)  # 0.9-1.0 is group 9
    rows = [{"top score": f"{g / 10:.1f}-{(g + 1) / 10:.1f}", "digits": int((group == g).sum()),
             "mean top score": float(top[group == g].mean()),
             "right": float(right[group == g].mean())} for g in np.unique(group)]  # fmt: skip
    error = sum(r["digits"] * abs(r["mean top score"] - r["right"]) for r in rows) / len(digits)
    sure = top >= 0.9
    summary = {"mean top score": float(top.mean()), "right": float(right.mean()),
               "calibration error": float(error), "scored 0.9 or more": int(sure.sum()),
               "wrong among them": int((sure & ~right).sum())}  # fmt: skip
    return rows, summary


rows, as_they_are = calibration(deep_scores, y_test)
print(pd.DataFrame(rows).set_index("top score").to_string(float_format="{:.2%}".format))
moved_rows, moved_3 = calibration(
    deep_model.predict(shifted(x_test, 3), batch_size=1000, verbose=0), y_test
)
print(pd.DataFrame({"as they are": as_they_are, "moved by 3 pixels": moved_3}).T.to_string(
    formatters={"mean top score": "{:.2%}".format, "right": "{:.2%}".format,
                "calibration error": lambda e: f"{100 * e:.2f} points",
                "scored 0.9 or more": "{:.0f}".format,
                "wrong among them": "{:.0f}".format}))  # fmt: skip
results["calibration"] = {"bins": rows, "as_they_are": as_they_are, "moved_by_3": moved_3}
top = deep_scores.max(axis=1)
examples = np.concatenate([np.argsort(-top)[:3], np.argsort(top)[:3]])
plots.score_bars(x_test[examples], deep_scores[examples], y_test[examples])
plt.savefig("outputs/softmax_scores.png")
plt.show()

# %% [markdown]
# On the digits as they are, compare the two means and the calibration error. If the mean top
# score is above the share read right, the model is overconfident: it claims more than it knows.
# This run does not test whether the difference is beyond noise. Groups below 0.9 hold few
# digits, so their shares of right answers are rough.
#
# Now the moved digits: compare the same two means. The "wrong among them" column counts
# confident mistakes. A softmax score is a probability only as far as it has been measured to
# be one.
#
# The bars show the three test digits with the highest top scores, then the three with the
# lowest.
#
# ## 10. The statistics, in one place
#
# Each number above comes from one run, except those read from results files. Two kinds of
# chance could move it.
#
# **The test set's noise.** A change **fixes** some test digits the rung above got wrong, and
# **breaks** others it got right. Suppose the change made no difference. Then each of these
# digits would be as likely fixed as broken, like a coin toss. The **p-value** is the chance that
# fair coin tosses split at least as unevenly as the split measured. This is **McNemar's test**,
# computed below with `scipy.stats.binomtest`.
#
# **The seed's noise.** Another seed gives other starting weights and batches, and other
# numbers. The cures of section 5 ran on three seeds. Their table gives each effect's smallest
# and largest value over the seeds.
#
# How to read them together:
#
# - One test with p below 0.05: luck alone is an unlikely explanation for this split of this
#   run's test digits.
# - A range over seeds that keeps one sign: the effect held on every seed tried.
# - A p above that, or a range that crosses zero: the difference is within noise. It may be
#   real, but this run does not show it.
# - Three seeds is few. With no real effect, three seeds share one sign about one time in four.
#   Early stopping's gap may be one (below).
# - Section 4's fair comparison held on all six seeds of a results file. With no real effect, six
#   seeds share one sign about one time in 32. Each seed drew its own validation digits, so
#   this covers their noise. The test digits were shared.
# - Four rungs are four tests, and one can pass 0.05 by luck. So the ladder's table asks each
#   for p below 0.05 / 4 (**Bonferroni's rule**).

# %%
for above, rung in zip(ladder, ladder[1:]):
    right_above, right = right_on_test[above["change"]], right_on_test[rung["change"]]
    rung["fixed"] = int(np.sum(right & ~right_above))
    rung["broken"] = int(np.sum(~right & right_above))
    both = rung["fixed"] + rung["broken"]
    rung["p_value"] = float(binomtest(rung["fixed"], both).pvalue) if both else 1.0
table = pd.DataFrame(ladder[1:]).set_index("change")[["fixed", "broken", "p_value"]]
threshold = 0.05 / len(table)  # four tests at once: Bonferroni's rule
table["reading"] = [
    "beyond test noise" if p < threshold else "within test noise" for p in table["p_value"]
]
print("The ladder's changes on the test digits (this run, this seed only):")
print(table.to_string(formatters={"p_value": "{:.2g}".format}))
results["ladder"] = ladder

summary = {}
for cure in cures[1:]:
    runs = zip(overfitting["no cure"], overfitting[cure])
    changes = [(run["validation_loss"] - base["validation_loss"],
                run["validation_accuracy"] - base["validation_accuracy"], run["gap"] - base["gap"])
               for base, run in runs]  # fmt: skip
    losses, accuracies, gaps = zip(*changes)
    summary[cure] = {
        "validation loss change": f"{min(losses):+.3f} to {max(losses):+.3f}",
        "validation accuracy change (points)":
            f"{100 * min(accuracies):+.2f} to {100 * max(accuracies):+.2f}",
        "gap change (points)": f"{100 * min(gaps):+.2f} to {100 * max(gaps):+.2f}",
    }  # fmt: skip
print(f"\nEach cure against no cure, over seeds {cure_seeds} (smallest to largest):")
print(pd.DataFrame(summary).T.to_string())
results["overfitting"] = {"digits": few, "epochs": cure_epochs, "batch_size": 100,
                          "seeds": cure_seeds, "runs": overfitting}  # fmt: skip

# %% [markdown]
# The first table's last column applies Bonferroni's rule to each change. In the second table,
# read the sign of each range before its size. A cure lowers the loss on new digits where the
# validation loss change is negative. It reads more of them where the accuracy change is
# positive. It narrows the gap where the gap change is negative.
#
# More seeds: `benchmarks/ladder_seeds.json` keeps this chapter run on six seeds. There, the
# hidden layers bring the largest gain on every seed. The recipe rung passes Bonferroni's rule on
# one seed only. Yet it lowers test and validation accuracy on all six: a small loss, probably
# real. Its 18 cure runs, on six splits with three seeds each, show this:
#
# - Every cure lowers the validation loss, in every run.
# - Random translation also reads more validation digits in every run, and narrows the gap.
# - Dropout narrows the gap in every run, mostly by reading its training digits less well. Its
#   change in validation accuracy takes both signs.
# - Early stopping's changes in validation accuracy and in the gap take both signs.
#
# ## Saving the results
#
# The numbers of this run go to `outputs/experiments.json`.

# %%
with open("outputs/experiments.json", "w") as file:
    json.dump(results, file, indent=1)
print("saved:", ", ".join(results))

# %% [markdown]
# ## Recap
#
# - Gradient descent moves each weight against its gradient, by the learning rate times it.
#   Too small a rate crawls, too large a rate overshoots.
# - Backpropagation computes the gradient layer by layer, from the output back. Twenty lines of
#   NumPy match Keras' step, with ReLU or sigmoid.
# - On the ladder, the hidden layers bring the largest gain.
# - With 1,000 training digits and 15 epochs, a network overfits. Early stopping, dropout and random
#   translation, one untuned setting each, lowered the validation loss. Only random translation
#   also read more validation digits in all 18 runs of `benchmarks/ladder_seeds.json`.
# - Sigmoid layers can shrink the signal and its gradient. In briefly trained six-layer stacks,
#   ReLU learned best; a scaled start or Adam helped sigmoid less (six seeds).
# - Dense networks lose accuracy on moved digits, and their scores can claim more than they know.
#
# Next: `exercises.ipynb`, whose second group builds on this chapter.
