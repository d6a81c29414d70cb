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
# # Exercises: neural networks on handwritten digits
#
# The exercises follow the chapters, in three groups. Each exercise names the chapter it builds
# on. Group 1 needs the lesson alone (`mnist_classification.ipynb`). The lesson and group 1 make
# one lab. Group 2 builds on the experiments chapter (`experiments.ipynb`). Group 3 builds on the
# handwriting chapter (`your_handwriting.ipynb`).
#
# Each exercise has a task, a cell for your answer, and a cell that checks it. The check prints
# one line. It says `done`, with what it verified, or `not yet`, with a hint. Run the first three
# cells, then work through the exercises in order. Run a check as often as you like.
#
# The digits below all come from MNIST's training file, shuffled, so that each training takes
# seconds:
#
# - 10,000 training digits, `x_train`, with their targets `y_train`;
# - 2,000 validation digits, `x_val`, with their labels `digits_val` and targets `y_val`;
# - 5,000 **held-out digits**, `held_out`, that no training cell uses. The checks grade your
#   models on them.
#
# MNIST's test digits stay out of the exercises. The lesson keeps them for its final verdict.

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's setting: fewer start-up notes

import keras
import numpy as np
from keras import layers

import mnist_exercises as check
from mnist_lesson.data import load_mnist

# %% tags=["parameters"]
data = os.environ.get("MNIST_PATH")  # a local copy of mnist.npz; None: Keras downloads MNIST

# %%
(images, labels), _ = load_mnist(data)  # the training file; the test digits (_) stay unused
images = images.astype("float32") / 255  # pixels from 0 to 1, as in the lesson
order = np.random.default_rng(0).permutation(len(images))  # the training file, shuffled
train, val, held = order[:10_000], order[10_000:12_000], order[-5_000:]
x_train, y_train = images[train], keras.utils.to_categorical(labels[train], 10)
x_val, digits_val = images[val], labels[val]
y_val = keras.utils.to_categorical(digits_val, 10)
held_out = (images[held], labels[held])  # for the checks only: no training cell uses them
print(f"train on {len(x_train):,}, validate on {len(x_val):,}, hold out {len(held):,} digits")

# %% [markdown]
# ## Group 1: after the lesson
#
# ### Exercise 1: the loss before training
#
# *Builds on the lesson, sections 3 and 5.*
#
# Take a model that reads the 26 letters of the alphabet instead of ten digits. Before
# training, what loss should it start from?
#
# - With a softmax output of 26 scores and categorical cross-entropy?
# - With 26 sigmoid outputs and binary cross-entropy, averaged over the 26?
#
# Give numbers. `np.log` is the natural logarithm, ln.

# %%
softmax_loss = None
sigmoid_loss = None

# %%
check.check_untrained_losses(softmax_loss, sigmoid_loss)

# %% [markdown]
# ### Exercise 2: precision and recall by hand
#
# *Builds on the lesson, section 4.*
#
# The cell below trains the lesson's simple model briefly. It prints the model's confusion
# matrix on the validation digits: rows are the true digit, columns the model's answer. Compute
# the precision and the recall of the digit 8 from it, with NumPy indexing or by hand.

# %%
from sklearn.metrics import confusion_matrix

keras.utils.set_random_seed(42)
simple_model = keras.Sequential(
    [keras.Input(shape=(28, 28)), layers.Flatten(), layers.Dense(10, activation="sigmoid")]
)
simple_model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
simple_model.fit(x_train, y_train, epochs=2, batch_size=250, verbose=0)
answers = simple_model.predict(x_val, verbose=0).argmax(axis=1)
matrix = confusion_matrix(digits_val, answers, labels=range(10))
print(matrix)
precision_of_8 = None
recall_of_8 = None

# %%
check.check_precision_and_recall(matrix, 8, precision_of_8, recall_of_8)

# %% [markdown]
# ### Exercise 3: counting weights
#
# *Builds on the lesson, section 5.*
#
# The deep model's summary lists 401,920 parameters for its first `Dense` layer. That layer has
# 512 units, and it reads the 784 pixels. Where does the number come from? Write it as arithmetic.

# %%
dense_512_weights = None  # for example 10 * 10 + 10

# %%
check.check_parameter_count(dense_512_weights)

# %% [markdown]
# ### Exercise 4: a model of your own
#
# *Builds on the lesson, section 5.*
#
# Build a `keras.Sequential` with one hidden layer or more, of your choice. Compile it and fit it
# on `x_train`, `y_train`, with `validation_data=(x_val, y_val)`, as the lesson does. Choose
# its settings by the validation digits. The check then grades it on the held-out digits: it
# should read at least 93% of them right. A few epochs are enough.

# %%
my_model = None

# %%
check.check_own_model(my_model, held_out)

# %% [markdown]
# ### Exercise 5: the slope of tanh
#
# *Builds on the lesson, section 7.*
#
# Keras offers another activation, **tanh**, the hyperbolic tangent (`np.tanh`). It looks like
# the sigmoid, stretched to run from −1 to 1. The lesson draws the sigmoid's slope as
# `sigmoid * (1 - sigmoid)`, written with the sigmoid's own value. Do the same for tanh:
#
# - write `tanh_slope(t)`, the slope of tanh where its value is t;
# - give tanh's largest slope.
#
# No calculus is needed. Measure the slope of `np.tanh` at a few points over a small step, and
# look for a pattern in t.


# %%
def tanh_slope(t):
    return ...


largest_slope = None

# %%
check.check_tanh_slope(tanh_slope, largest_slope)

# %% [markdown]
# ## Group 2: after the experiments chapter
#
# ### Exercise 6: overfit on purpose, then cure it
#
# *Builds on the experiments chapter, section 5: overfitting and three cures.*
#
# Train a model on only `x_train[:500]` for many epochs, with `validation_data=(x_val, y_val)`.
# Keep `fit(...).history`. Its validation loss should turn up while its training loss still
# falls. Then cure it with one of the chapter's cures: `keras.callbacks.EarlyStopping`,
# `layers.Dropout` or `layers.RandomTranslation`. Train the same model again, from the same
# start, with that cure. It should end with a lower validation loss. `RandomTranslation` needs
# `layers.Reshape((28, 28, 1))` in front of it.


# %%
overfit_history = None
cured_history = None

# %%
check.check_overfitting(overfit_history, cured_history)

# %% [markdown]
# ### Exercise 7: a learning rate for a sigmoid stack
#
# *Builds on the experiments chapter, section 6: the vanishing gradient.*
#
# A stack of six sigmoid layers learns slowly: the gradient shrinks at each layer on its way
# back. Adam scales each weight's step by the size of its recent gradients. So the right
# learning rate can take such a stack out of chance, even in a short training. The chapter's
# table gives a best rate for it on other digits. Find one here, and show that it is the best
# of a grid:
#
# - `stack_accuracy(rate)` below trains the stack with Adam at `rate`, and returns its accuracy
#   on the validation digits. It takes a few seconds.
# - Try rates ten times apart, and record each one's accuracy in `accuracy_by_rate`.
# - Set `adam_learning_rate` to the best rate you tried. It must read at least 40% of the
#   validation digits. Try a smaller and a larger rate beside it: then the best is not outside
#   your grid.


# %%
def stack_accuracy(rate):
    """Six Dense(64) sigmoid layers and a softmax output, trained with Adam at ``rate`` for
    two epochs on the first 6,000 training digits, in batches of 50: validation accuracy."""
    keras.utils.set_random_seed(42)  # the same start and batches for every rate
    stack = keras.Sequential(
        [keras.Input(shape=(28, 28)), layers.Flatten()]
        + [layers.Dense(64, activation="sigmoid") for _ in range(6)]
        + [layers.Dense(10, activation="softmax")]
    )
    stack.compile(optimizer=keras.optimizers.Adam(rate), loss="categorical_crossentropy")
    stack.fit(x_train[:6000], y_train[:6000], epochs=2, batch_size=50, verbose=0)
    return float(np.mean(stack.predict(x_val, verbose=0).argmax(axis=1) == digits_val))


accuracy_by_rate = {}  # each rate you tried: its validation accuracy
adam_learning_rate = None  # the best rate you tried

# %%
check.check_sigmoid_stack_learning_rate(adam_learning_rate, accuracy_by_rate, stack_accuracy)

# %% [markdown]
# ### Exercise 8: a network that holds up on moved digits
#
# *Builds on the experiments chapter, section 8: where the deep model fails.*
#
# The lesson's deep model reads digits moved by a few pixels far worse than digits where they
# belong. A **convolutional network** holds up better. Build one and train it on `x_train`:
#
# - `layers.Reshape((28, 28, 1))` first: these layers expect a channel axis;
# - `layers.Conv2D(32, 3, activation="relu")` slides 32 filters of 3×3 weights over the picture;
# - `layers.MaxPooling2D(2)` keeps the strongest response of each 2×2 square;
# - then `layers.Flatten` and a `Dense` softmax output, compiled and fitted as in the lesson.
#
# The check moves the held-out digits by 3 pixels, up, down, left or right. Your network should
# read them better than the lesson's deep model trained on the same digits. The check trains
# that deep model too, in a few seconds.

# %%
my_convnet = None

# %%
check.check_convnet(my_convnet, (x_train, y_train), held_out)

# %% [markdown]
# ### Exercise 9: one calibration computation
#
# *Builds on the experiments chapter, section 9: calibration.*
#
# Take your model of exercise 4 and its scores for the validation digits,
# `my_model.predict(x_val)`. Keep the digits whose top score is 0.9 or more. What is their mean
# top score? What share of them did the model read right (`digits_val`)? A well calibrated
# model gives two numbers close to each other.

# %%
mean_top_score = None
share_right = None

# %%
check.check_calibration(my_model, (x_val, digits_val), mean_top_score, share_right)

# %% [markdown]
# ### Exercise 10: is a gain a finding?
#
# *Builds on the experiments chapter, section 10: the statistics.*
#
# A change to a model fixes 28 validation digits that the old model got wrong. It breaks 17
# that the old model got right. The experiments chapter weighs such a result with **McNemar's
# test**. Only the 45 digits that changed count. Suppose the change made no real difference.
# Then each of those 45 would be a fix or a break with even odds, like a coin toss. The
# **p-value** is the chance of a split at least as uneven as 28 to 17, either way. A gain is a
# finding when p is below 0.05. `scipy.stats.binomtest(k, n).pvalue` gives that chance for k
# heads in n tosses.
#
# Give the p-value, and say whether this gain is a finding. Then find the fewest fixes, out of
# the same 45 changed digits, that would make a finding.

# %%
p_value = None
finding = None  # True or False
fewest_fixes = None

# %%
check.check_p_value(p_value, finding, fewest_fixes)

# %% [markdown]
# ## Group 3: after the handwriting chapter
#
# ### Exercise 11: a photo, the MNIST way
#
# *Builds on the handwriting chapter (`your_handwriting.ipynb`), section 1.*
#
# A photo of a digit shows dark ink on white paper. MNIST shows light ink on black. Write
# `prepare(photo)` for a photo of 28×28 pixels, each from 0 (black) to 255 (white). It returns
# the digit in MNIST's form:
#
# - pixels from 0 to 1, with the ink near 1 and the paper 0;
# - the digit moved by whole pixels, so that its **centre of mass** sits at row 14, column 14
#   (counting from 0). The centre of mass is the mean row and the mean column, each pixel
#   weighted by its ink.
#
# The check gives it held-out digits made into such photos, each moved 3 pixels off centre.


# %%
def prepare(photo):
    return ...


# %%
check.check_prepare(prepare, held_out)
