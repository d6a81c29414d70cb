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
# MNIST holds 70,000 handwritten digits. Each one is a small grey picture, with the digit it
# shows as its **label**. In this lesson you teach a computer to read them.
#
# You build two **models**. A model is a function with many adjustable numbers: it takes a
# picture and gives ten outputs, one per digit. The simple one reads about 92% of new digits
# right. The deep one, a larger model, reads about 98%. You then look at each one's mistakes,
# and at what makes the deep one better.
#
# We use **Keras**, a Python library for neural networks. It hands the arithmetic to TensorFlow
# (or to JAX, if you choose it). Run the cells from top to bottom: every number below comes from
# that run. TensorFlow may print a few start-up lines about a graphics card (GPU), some marked E
# for error. Without a GPU, they are harmless.

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's setting: fewer start-up notes

import keras
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from keras import layers
from keras.optimizers.schedules import CosineDecay
from sklearn.model_selection import train_test_split

# %% tags=["parameters"]
data = os.environ.get("MNIST_PATH")  # a local copy of mnist.npz; None: Keras downloads MNIST
seed = 42  # the same seed gives the same numbers
quick = False  # True: a few thousand digits only, to check quickly that everything runs

# %% [markdown]
# ## 1. The data
#
# Keras downloads MNIST (11 MB) the first time and keeps it. Offline, set `data` to a local
# copy of `mnist.npz`. MNIST comes as 60,000 **training** digits to learn from and 10,000
# **test** digits, written by other people than the training digits. They measure how well a model
# reads digits it has never seen.

# %%
if data:  # a local mnist.npz, in the layout of Keras' own copy
    try:
        with np.load(data) as mnist:
            x_train, y_train = mnist["x_train"], mnist["y_train"]
            x_test, y_test = mnist["x_test"], mnist["y_test"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"data = {data!r} is not a readable mnist.npz: {error}") from None
else:
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
if x_train.shape[1:] != (28, 28) or set(np.unique(y_train)) != set(range(10)):
    raise ValueError(f"data = {data!r} does not hold MNIST: 28×28 images of the digits 0-9")
if quick:
    x_train, y_train, x_test, y_test = x_train[:4000], y_train[:4000], x_test[:1000], y_test[:1000]
os.makedirs("outputs/models", exist_ok=True)  # where the figures and models of this run go
print("training images:", x_train.shape, " test images:", x_test.shape)
print("pixel values from", x_train.min(), "to", x_train.max())

# %% [markdown]
# Each digit is a grid of 28×28 **pixels**. Each pixel is a number from 0 (no ink) to 255
# (full ink). Here are the first 20 training digits, with their labels:

# %%
figure, axes = plt.subplots(2, 10, figsize=(10, 2.6))
for axis, image, label in zip(axes.flat, x_train, y_train):
    axis.imshow(image, cmap="gray_r")
    axis.set(title=f"label {label}", xticks=[], yticks=[])
plt.savefig("outputs/sample_digits.png")
plt.show()

# %% [markdown]
# ## 2. Getting the digits ready
#
# Networks learn best from small numbers, so we divide every pixel by 255. Each pixel is then
# between 0 and 1.
#
# We also hold out a twelfth of the training digits, drawn at random: the **validation** set.
# The models never learn from it. It shows how a model does on unseen digits, so we choose
# training settings with it. The test digits give the final verdict only, once, at the end.
#
# Each label becomes ten **targets**, one per model output: 1 for the right digit, 0 for the
# others. This is **one-hot** coding: the digit 3 becomes `[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]`.

# %%
x_train, x_test = x_train.astype("float32") / 255, x_test.astype("float32") / 255
split = train_test_split(x_train, y_train, test_size=1 / 12, random_state=seed)
x_fit, x_val, digits_fit, digits_val = split
y_fit = keras.utils.to_categorical(digits_fit, 10)  # one-hot targets
y_val = keras.utils.to_categorical(digits_val, 10)
y_test_1hot = keras.utils.to_categorical(y_test, 10)  # y_test keeps the digits themselves
validation = (x_val, y_val)
print(f"train on {len(x_fit)}, validate on {len(x_val)}, test on {len(x_test)} digits")
print(f"the first training digit is a {digits_fit[0]}; its targets: {y_fit[0]}")

# %% [markdown]
# ## 3. The simple model: ten yes/no answers
#
# A neural network is a stack of **layers**. `Flatten` lays each image out as one row of 784
# pixels. A `Dense` layer has **units**. Each unit multiplies every input by a **weight** of its
# own, adds the products up, and adds a **bias**. Training learns these weights and biases.
#
# Our simple model has one `Dense` layer of ten units, one per digit. Their ten sums are the
# **logits**. The **sigmoid**, 1 / (1 + e^−z), squashes each logit z into a number between 0
# and 1. It is the layer's **activation** function. So the model gives ten yes/no answers: "is
# this a 0?", "is this a 1?", and so on. Its answer is the digit with the highest output.
#
# The weights start random. The **seed** fixes every random draw, so the same seed gives the
# same starting weights.

# %%
keras.utils.set_random_seed(seed)
simple_model = keras.Sequential(
    [keras.Input(shape=(28, 28)), layers.Flatten(), layers.Dense(10, activation="sigmoid")],
    name="simple",
)
simple_model.summary()

# %% [markdown]
# `keras.Input` gives the shape of one digit. In the summary, `None` stands for any number of
# digits at once. The parameters are 784 weights for each of the ten units, plus ten biases.
#
# **Training** repeats one **step**:
#
# - The model reads a **batch** of 250 training digits.
# - The **loss** measures how wrong its outputs are, in one number. Ours is **binary
#   cross-entropy**: −ln(output) where the target is 1, −ln(1 − output) where it is 0,
#   averaged over all answers. It punishes a confident wrong answer hardest.
# - The **gradient** says, for every weight, how the loss changes when that weight grows a little.
# - The **optimizer** moves every weight against its gradient, downhill for the loss.
#   Ours is **Adam**, which adapts each weight's step to that weight's recent gradients.
#
# The **learning rate** sets the size of these moves. Keras' default for Adam is a fixed 0.001.
# We start higher, at 0.05, and let the rate fall to zero along a cosine curve: fast progress
# first, then small steps that settle. We tried both on the validation digits, with two seeds,
# in runs kept in `benchmarks/lesson_recipe.json`. The higher, falling rate beat the default by
# 2.18 to 2.50 percentage points of accuracy.
#
# One pass over all training digits is an **epoch**. The optimizer, learning rate, epochs and
# batch size make the model's training **recipe**. `compile` gives the model its loss, its
# optimizer and the **metric** to report.

# %%
batch_size, simple_epochs, deep_epochs = 250, 6, 5
steps_per_epoch = int(np.ceil(len(x_fit) / batch_size))
simple_rate = CosineDecay(0.05, decay_steps=simple_epochs * steps_per_epoch)
simple_model.compile(
    optimizer=keras.optimizers.Adam(simple_rate),
    loss="binary_crossentropy",
    metrics=["categorical_accuracy"],  # is the highest output the right digit?
)

# %% [markdown]
# The starting weights are small, so every logit starts near 0 and every output near 0.5.
# Binary cross-entropy then gives about ln 2 = 0.693 per answer, a little either side.
# So before `fit` trains the model, we check its loss with `evaluate`. It returns the loss, then
# the metric.
#
# After each epoch, `fit` prints the steps it took (220 here), then the **accuracy** and the
# loss. Accuracy is the share of digits read right; Keras calls it `categorical_accuracy`.
# The first pair is on the training digits. The `val_` pair is on the validation digits. The
# training pair is averaged over the epoch, while the model was still learning. So it can trail
# the validation pair, which is measured at the epoch's end.

# %%
loss_before = simple_model.evaluate(x_val, y_val, verbose=0)[0]
print(f"loss before training: {loss_before:.3f} (ln 2 = {np.log(2):.3f})")
simple_history = simple_model.fit(
    x_fit, y_fit, batch_size=batch_size, epochs=simple_epochs, validation_data=validation, verbose=2
)

# %% [markdown]
# The figure draws one of these steps, with this model's numbers. Beside it is the learning rate
# at every step of this training.

# %%
figure, (flow, rates) = plt.subplots(1, 2, figsize=(14, 3), width_ratios=(3, 1))
parameters, box = simple_model.count_params(), {"boxstyle": "round", "facecolor": "0.93"}
# fmt: off
boxes = [f"a batch\n{batch_size} digits", f"the model\n{parameters:,} weights\nand biases",
         "its outputs", "the loss\none number", f"the gradient\n{parameters:,} numbers",
         "Adam moves\nevery one"]
# fmt: on
for x, text in enumerate(boxes):
    flow.text(x, 0.5, text, ha="center", va="center", fontsize=9, bbox=box)
    if x:
        flow.annotate("", (x - 0.42, 0.5), (x - 0.58, 0.5), arrowprops={"arrowstyle": "->"})
flow.set(xlim=(-0.6, 5.6), title=f"One training step; {steps_per_epoch} steps make an epoch")
flow.axis("off")
steps = np.arange(simple_epochs * steps_per_epoch)
rates.plot(steps, np.asarray(simple_rate(steps)))  # the schedule gives each step its rate
rates.set(xlabel="step", ylabel="learning rate", title="The learning rate, step by step")
plt.tight_layout()
plt.savefig("outputs/training_step.png")
plt.show()

# %% [markdown]
# ## 4. Testing the simple model
#
# Now the test digits, once. Three things show how the model did:
#
# - its **accuracy** on them;
# - a **confusion matrix**: for each true digit (a row), how often the model gave each answer (a
#   column). Right answers fill the diagonal. The **heatmap** greys the diagonal out and colours
#   only the mistakes;
# - a **classification report**, one row per digit. **Precision** is the share of the model's
#   "3" answers that were 3s. **Recall** is the share of true 3s it called "3". The **F1-score**
#   is high only when both are. **Support** is how many test digits the row counts.


# %%
from sklearn.metrics import classification_report, confusion_matrix


def test(model):
    """Test a trained model on the test digits: accuracy, confusion heatmap, report."""
    loss, accuracy = model.evaluate(x_test, y_test_1hot, verbose=0)
    answers = model.predict(x_test, verbose=0).argmax(axis=1)  # each digit's highest output
    print(f"{model.name} model: test accuracy {accuracy:.2%}")
    matrix = confusion_matrix(y_test, answers, labels=range(10))
    # The heatmap hides (masks) the diagonal, so its colours count mistakes only; the hidden
    # cells show the figure's background, set to grey.
    plt.figure(figsize=(7, 5.5)).gca().set_facecolor("0.8")
    sns.heatmap(matrix, mask=np.eye(10, dtype=bool), annot=True, fmt="d", cmap="Reds")
    for digit in range(10):  # the right answers, written on the grey diagonal
        plt.text(digit + 0.5, digit + 0.5, matrix[digit, digit], ha="center", va="center", size=8)
    plt.gca().set(xlabel="the model's answer", ylabel="true digit")
    plt.title(f"{model.name} model: mistakes in colour, right answers in grey")
    plt.savefig(f"outputs/confusion_matrix_{model.name}.png")
    plt.show()
    print(classification_report(y_test, answers, digits=3))
    recall = matrix.diagonal() / matrix.sum(axis=1)  # right answers / true digits, per digit
    mistakes = matrix - np.diag(matrix.diagonal())  # the matrix with its diagonal set to 0
    # The largest cell's row and column: the true digit, and what the model said it was.
    true, said = np.unravel_index(mistakes.argmax(), mistakes.shape)
    print(f"lowest recall: the {recall.argmin()}s, {recall.min():.1%} of them read right")
    print(f"commonest mistake: {true} read as {said}, {mistakes.max()} times")
    return {"test_accuracy": accuracy, "test_loss": loss, "mistakes": int(mistakes.sum())}


simple_results = test(simple_model)

# %% [markdown]
# **Macro avg**, near the report's end, is the plain mean over the ten digits. **Weighted avg**
# weighs each digit by its support. The heatmap shows which digits the model mixes up. Its
# largest cell is the commonest mistake, printed above. Each heatmap has its own colour scale,
# so read the numbers.

# %% [markdown]
# ## 5. The deep model: hidden layers, ReLU and softmax
#
# **Hidden layers** sit between the input and the output. The output layer then reads the
# hidden units, not the raw pixels. Hidden layers make a network **deep**. Ours has two, of 512
# units each.
#
# Each hidden unit applies **ReLU**, max(0, z): it passes a positive sum on and stops a negative
# one. The output layer applies **softmax**, e^z_i / (e^z_0 + ... + e^z_9). It turns the ten
# logits into ten positive scores that add up to 1: one answer out of ten.
#
# Its loss is **categorical cross-entropy**: −ln of the score of the true digit. Untrained,
# every score is near 1/10, so the loss starts near ln 10 = 2.303. Its learning rate falls
# along a cosine curve too, from 0.004 over 5 epochs. On the validation digits, that beat Adam's
# default by 0.58 to 1.18 points.

# %%
keras.utils.set_random_seed(seed)
deep_model = keras.Sequential(
    [
        keras.Input(shape=(28, 28)),
        layers.Flatten(),
        layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ],
    name="deep",
)
deep_rate = CosineDecay(0.004, decay_steps=deep_epochs * steps_per_epoch)
deep_model.compile(
    optimizer=keras.optimizers.Adam(deep_rate),
    loss="categorical_crossentropy",
    metrics=["categorical_accuracy"],
)
deep_model.summary()
loss_before = deep_model.evaluate(x_val, y_val, verbose=0)[0]
print(f"loss before training: {loss_before:.3f} (ln 10 = {np.log(10):.3f})")
deep_history = deep_model.fit(
    x_fit, y_fit, batch_size=batch_size, epochs=deep_epochs, validation_data=validation, verbose=2
)

# %%
deep_results = test(deep_model)

# %% [markdown]
# ## 6. Side by side
#
# Compare the deep model's heatmap and report with the simple model's. The table puts the two
# models' test results together. Compare their accuracies and mistakes, not their losses: the
# two losses are different formulas. The curves show each model's
# validation accuracy after each epoch.

# %%
import pandas as pd

table = pd.DataFrame([simple_results, deep_results], index=["simple", "deep"])
table["parameters"] = [simple_model.count_params(), deep_model.count_params()]
print(table.to_string(formatters={"test_accuracy": "{:.2%}".format, "test_loss": "{:.4f}".format}))
for name, history in (("simple", simple_history), ("deep", deep_history)):
    accuracy = history.history["val_categorical_accuracy"]
    plt.plot(range(1, len(accuracy) + 1), accuracy, "o-", label=f"{name} model")
plt.gca().set(xlabel="epoch", ylabel="validation accuracy", title="Learning, epoch by epoch")
plt.legend()
plt.savefig("outputs/learning_curves.png")
plt.show()

# %% [markdown]
# ## 7. Why sigmoid, ReLU and softmax
#
# **Their shapes.** Training moves each weight by its gradient. The gradient flows back from the
# loss, layer by layer. At each activation, the **chain rule** of calculus multiplies it by the
# activation's **slope**: how fast its output changes with its input. The figure draws both
# functions and their slopes.

# %%
z = np.linspace(-6, 6, 241)
sigmoid = 1 / (1 + np.exp(-z))
figure, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
for axis, name, value, slope in (
    (axes[0], "sigmoid", sigmoid, sigmoid * (1 - sigmoid)),
    (axes[1], "ReLU", np.maximum(0, z), (z > 0).astype(float)),
):
    axis.plot(z, value, label=name)
    axis.plot(z, slope, "--", label="its slope")
    axis.set(xlabel="z", ylim=(-0.1, 1.6), title=f"{name}: top slope {slope.max():.2f}")
    axis.legend()
plt.savefig("outputs/activations.png")
plt.show()

# %% [markdown]
# The sigmoid's slope is never more than 0.25, and near zero for large sums. So each sigmoid
# layer multiplies the gradient passing back by 0.25 or less. Through several layers it fades.
# ReLU's slope is 1 wherever its input is positive: the gradient passes through unchanged. That is
# why hidden layers use ReLU.
#
# **The same network, two activations.** Here one network is trained twice: four hidden layers
# of 128 units, with Keras' default Adam, for three epochs. The two copies start from the same
# weights and see the same batches. Only the hidden activation differs, so their losses differ
# even before training.

# %%
curves = {}
for activation in ("sigmoid", "relu"):
    keras.utils.set_random_seed(seed)  # the same starting weights, and later the same batches
    hidden = [layers.Dense(128, activation=activation) for _ in range(4)]
    output = layers.Dense(10, activation="softmax")
    model = keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten(), *hidden, output])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    before = model.evaluate(x_val, y_val, verbose=0)  # the loss alone: no metric compiled
    history = model.fit(
        x_fit, y_fit, batch_size=batch_size, epochs=3, validation_data=validation, verbose=0
    )
    curves[activation] = [before, *history.history["val_loss"]]
    print(f"{activation}: validation loss after 0-3 epochs", np.round(curves[activation], 3))
    plt.plot(curves[activation], "o-", label=f"{activation} hidden layers")
plt.gca().set(xlabel="epoch", ylabel="validation loss", title="Same start", xticks=range(4))
plt.legend()
plt.savefig("outputs/sigmoid_or_relu.png")
plt.show()

# %% [markdown]
# Epoch 0 is before training. If the ReLU curve lies lower,
# ReLU learned faster, in these three epochs, with this seed. The experiments chapter
# (`experiments.ipynb`) gives each activation its own best learning rate, over several seeds.
#
# **Softmax against ten sigmoids.** The simple model's ten sigmoid answers are separate, so
# nothing makes them add up to 1. Softmax shares out 1 among the ten digits: raising one score
# lowers the others. Here are the sums of the ten outputs, for the middle 90% of the test
# digits:

# %%
for model in (simple_model, deep_model):
    sums = model.predict(x_test, verbose=0).sum(axis=1)
    low, high = np.percentile(sums, [5, 95])
    print(f"{model.name} model: the ten outputs add up to {low:.3f}-{high:.3f} for the middle 90%")

# %% [markdown]
# One answer out of ten is what we want for digits, so the output layer uses softmax.
#
# **Overfitting.** A model can learn details of its training digits that do not carry over to
# new ones. It then reads its training digits better than unseen ones: that is **overfitting**.
# In section 5's log, the deep model's last training accuracy was above its validation
# accuracy. The gap between the two shows how much. `evaluate` measures both after training,
# on 5,000 digits each:

# %%
for model in (simple_model, deep_model):
    train_accuracy = model.evaluate(x_fit[:5000], y_fit[:5000], verbose=0)[1]
    val_accuracy = model.evaluate(x_val, y_val, verbose=0)[1]
    print(
        f"{model.name} model: training digits {train_accuracy:.2%}, validation {val_accuracy:.2%}"
    )

# %% [markdown]
# ## 8. Saving the models
#
# `model.save` writes a model to one file: its layers, weights, loss and optimizer.
# `keras.saving.load_model` reads it back, ready to `evaluate` or `predict`. The numbers of
# this run go to `outputs/metrics.json`.

# %%
import json

simple_model.save("outputs/models/simple.keras")
deep_model.save("outputs/models/deep.keras")
metrics = {
    "seed": seed,
    "quick": quick,
    "backend": keras.backend.backend(),  # TensorFlow or JAX: the library doing the arithmetic
    "dataset": {"n_train": len(x_fit), "n_validation": len(x_val), "n_test": len(x_test)},
    "models": {"simple": simple_results, "deep": deep_results},
    "hidden_activation_curves": curves,
}
with open("outputs/metrics.json", "w") as file:
    json.dump(metrics, file, indent=2)

reloaded = keras.saving.load_model("outputs/models/deep.keras")
print(
    "the deep model, loaded back: test accuracy",
    f"{reloaded.evaluate(x_test, y_test_1hot, verbose=0)[1]:.2%}",
)

# %% [markdown]
# ## 9. Recap
#
# - MNIST is 28×28 pictures of digits. We scaled the pixels to 0-1 and held out a validation set.
# - A `Dense` layer computes weighted sums. An activation shapes each sum.
# - The simple model gives ten sigmoid yes/no answers. It reads about 92% of the test digits.
# - The deep model adds two hidden ReLU layers and a softmax output. It reads about 98%.
# - The confusion matrix and the classification report show which digits each model mixes up.
# - ReLU passes gradients back where the sigmoid shrinks them. Softmax gives one answer out of ten.
#
# To train on data of your own, change the loading cell. Any 28×28 grey images with pixels from
# 0 to 255 and labels 0 to 9 work as they are.
# Keras has other datasets in the same layout, such as `keras.datasets.fashion_mnist`.
#
# ## Where next
#
# - `experiments.ipynb`: why the deep model does better, one change at a time, and where it fails.
# - `your_handwriting.ipynb`: the models read your own handwriting, and digits you draw.
# - `exercises.ipynb`: tasks that check themselves. The first group needs only this lesson.
