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
# # Exercises: neural networks on handwritten digits
#
# Ten exercises in the order of the lesson (`mnist_classification.ipynb`), from reading a
# result to designing a small experiment. Each has a task, a cell for your answer, and a cell
# that checks it and says in one line either `done`, with what it verified, or `not yet`, with
# a hint. Run the first two cells, then work through them in order; run a check as often as
# you like.
#
# The training digits below are a small part of MNIST, so that each training takes seconds:
# 10,000 training digits (`x_train`, with their targets `y_train`) and 2,000 validation digits
# (`x_val`, `y_val`). The 10,000 test digits (`x_test`, `test_digits`) are held out: no training
# cell uses them, and the checks measure your models on them.

# %% tags=["parameters"]
data = None  # mnist.npz or a folder of IDX files; None: $MNIST_PATH, else Keras' own copy

# %%
import numpy as np

import mnist_exercises as check
from mnist_lesson.data import load_mnist
from mnist_lesson.keras_setup import import_keras_quietly

keras = import_keras_quietly()  # Keras and its backend, without their start-up messages
from keras import layers

mnist = load_mnist(data)  # as the lesson loads it: data, else $MNIST_PATH, else Keras' copy
targets = np.eye(10, dtype="float32")
x_train = mnist.x_train[:10_000, ..., np.newaxis].astype("float32") / 255.0
y_train = targets[mnist.y_train[:10_000]]
x_val = mnist.x_train[-5_000:-3_000, ..., np.newaxis].astype("float32") / 255.0
val_digits = mnist.y_train[-5_000:-3_000]
y_val = targets[val_digits]
x_test = mnist.x_test[..., np.newaxis].astype("float32") / 255.0  # held out: for the checks
test_digits = mnist.y_test
print(f"train on {len(x_train):,}, validate on {len(x_val):,}, hold out {len(x_test):,} digits")

# %% [markdown]
# ## Part 1: The basics
#
# ### Exercise 1: counting weights (sections 3 and 4)
#
# The deep model's summary lists 401,920 parameters for its first `Dense` layer of 512 units,
# which reads the 784 pixels. Where does the number come from? Write it as arithmetic.

# %%
dense_512_weights = None  # for example 10 * 10 + 10

# %%
check.check_parameter_count(dense_512_weights)

# %% [markdown]
# ### Exercise 2: the loss before training (sections 3 and 4)
#
# Before training, the lesson checks each model's loss. What should it be for a softmax
# output of ten scores, about 1/10 each, with categorical cross-entropy? And for ten sigmoid
# outputs, each about 0.5, with binary cross-entropy averaged over the ten? Give numbers
# (`np.log` is the natural logarithm).

# %%
softmax_loss = None
sigmoid_loss = None

# %%
check.check_untrained_losses(softmax_loss, sigmoid_loss)

# %% [markdown]
# ### Exercise 3: precision and recall by hand (section 3)
#
# Below, the lesson's simple model is trained briefly on these digits, and its confusion matrix
# on the held-out digits is printed (rows: the true digit; columns: the model's answer).
# Compute the precision and the recall of the digit 8 from it, with NumPy indexing or by hand.

# %%
from sklearn.metrics import confusion_matrix

keras.utils.set_random_seed(42)
simple_model = keras.Sequential(
    [keras.Input(shape=(28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="sigmoid")]
)
simple_model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
simple_model.fit(x_train, y_train, epochs=2, batch_size=250, verbose=0)
answers = simple_model.predict(x_test, verbose=0).argmax(axis=1)
matrix = confusion_matrix(test_digits, answers, labels=range(10))
print(matrix)
precision_of_8 = None
recall_of_8 = None

# %%
check.check_precision_and_recall(matrix, 8, precision_of_8, recall_of_8)

# %% [markdown]
# ### Exercise 4: a model of your own (section 4)
#
# Build a `keras.Sequential` with one hidden layer (or more) of your choice, compile it and
# fit it on `x_train`, `y_train` with `validation_data=(x_val, y_val)`, as Part 1
# does, until it reads at least 93% of the held-out digits right. A few epochs are enough.

# %%
my_model = None

# %%
check.check_own_model(my_model, (x_test, test_digits))

# %% [markdown]
# ## Part 2: The experiments
#
# ### Exercise 5: is a gain a finding? (section 6)
#
# A change to a model fixes 30 test digits that the model got wrong and breaks 15 it got
# right. With `scipy.stats.binomtest`, compute the p-value of McNemar's test, and say whether
# the test set supports the gain (p below 0.05).

# %%

p_value = None
finding = None  # True or False

# %%
check.check_p_value(p_value, finding)

# %% [markdown]
# ### Exercise 6: overfit on purpose, then cure it (section 7)
#
# Train a model on only `x_train[:500]` for many epochs so that its validation loss turns
# up while its training loss still falls; keep `fit(...).history`. Then cure it: the same
# training with a change of your choice (a `RandomTranslation` in front, `Dropout`, fewer
# units...) that ends with a lower validation loss. Use `validation_data=(x_val, y_val)`.

# %%
overfit_history = None
cured_history = None

# %%
check.check_overfitting(overfit_history, cured_history)

# %% [markdown]
# ### Exercise 7: the sigmoid's slope (section 8)
#
# Write the slope (the derivative) of the sigmoid `1 / (1 + e^-z)` as a NumPy function of
# `z`, and give its largest value. Without calculus: the slope can be written with the
# sigmoid's own value s, and you can test a guess against the slope measured over a small
# step h, `(s(z + h) - s(z - h)) / (2 * h)` with `h = 1e-4`.


# %%
def sigmoid_slope(z):
    return ...


largest_slope = None

# %%
check.check_sigmoid_slope(sigmoid_slope, largest_slope)

# %% [markdown]
# ### Exercise 8: a learning rate that gets the sigmoid stack going (section 8)
#
# With plain SGD, the six-layer sigmoid stack of section 8 stays at chance at every learning
# rate from 0.01 to 3.0. Adam scales each weight's step by the size of its recent gradients.
# Find a learning rate at which Adam takes the same stack, in the same short training (two
# epochs on the first 6,000 digits of `x_train`, batches of 50), to at least 25% of the
# validation digits. The check trains it (a few seconds).

# %%
adam_learning_rate = None

# %%
check.check_sigmoid_stack_learning_rate(adam_learning_rate, (x_train, y_train, x_val, val_digits))

# %% [markdown]
# ### Exercise 9: a convolutional network that holds up on moved digits (section 10)
#
# The deep model reads digits moved by 3 pixels far worse than digits where they belong.
# Build a small convolutional network and train it on `x_train`: `layers.Conv2D(32, 3,
# activation="relu")` slides 32 filters of 3×3 weights over the picture, and
# `layers.MaxPooling2D(2)` keeps the strongest response of each 2×2 square; then
# `layers.Flatten` and a `Dense` softmax output, compiled and fitted as in Part 1, so that it
# reads the held-out digits moved by 3 pixels (as section 10 moves them) better than the deep
# model trained on the same digits. The check trains that deep model too (a few seconds).

# %%
my_convnet = None

# %%
check.check_convnet(my_convnet, (x_train, y_train), (x_test, test_digits))

# %% [markdown]
# ### Exercise 10: one calibration computation (section 11)
#
# Take your model of exercise 4 and its scores for the held-out digits,
# `my_model.predict(x_test)`. Among the digits whose top score is 0.9 or more, what is the
# mean top score, and what share of them did the model read right (`test_digits`)?

# %%
mean_top_score = None
share_right = None

# %%
check.check_calibration(my_model, (x_test, test_digits), mean_top_score, share_right)
