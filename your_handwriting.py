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
# # Using it: your own handwriting, and a pad to draw on
#
# The lesson (`mnist_classification.ipynb`) trained two models and saved them. This chapter puts
# them to work on digits that do not come from MNIST: photos of handwriting, and digits you draw.
#
# Run the lesson first, in this folder. This chapter reads its models from `outputs/models/`.
# It uses two helpers of this project: `handwriting`, which prepares a picture like MNIST, and
# `handwriting.drawing_pad`, the drawing pad.

# %%
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's setting: fewer start-up notes

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers
from PIL import Image
from scipy.stats import binomtest
from sklearn.model_selection import train_test_split

from handwriting import prepare_image, render_as_photo, to_mnist
from handwriting.drawing_pad import DrawingPad
from handwriting.drawings import drawn_digits
from mnist_lesson.data import load_mnist

# %% tags=["parameters"]
data = os.environ.get("MNIST_PATH")  # a local copy of mnist.npz; None: Keras downloads MNIST
count = 1000  # how many photos, and how many drawings, each model reads below

# %% [markdown]
# The lesson's two models, and the settings of the lesson's run:

# %%
if not os.path.exists("outputs/models/deep.keras"):
    raise FileNotFoundError(
        "outputs/models/deep.keras is missing: run the lesson, mnist_classification.ipynb, "
        "in this folder first"
    )
simple_model = keras.saving.load_model("outputs/models/simple.keras")
deep_model = keras.saving.load_model("outputs/models/deep.keras")
with open("outputs/metrics.json") as file:
    lesson = json.load(file)
seed = lesson["seed"]
(x_train, y_train), (x_test, y_test) = load_mnist(data)
print(f"the lesson's seed: {seed}; its deep model read "
      f"{lesson['models']['deep']['test_accuracy']:.2%} of the test digits")  # fmt: skip

# %% [markdown]
# ## 1. A photo is not an MNIST digit
#
# A photo of a digit looks nothing like an MNIST digit. Its ink is dark on white paper. The
# digit is large, anywhere in the picture, with shadows and grain.
#
# MNIST's makers prepared every digit the same way. Inverted, the ink is light on a dark
# background. The digit is cropped to its ink and scaled to fit a 20×20 box, keeping its shape.
# It is then placed in 28×28 pixels with its **centre of mass** at the centre. That point is
# the average position of the ink, each pixel weighted by how much ink it holds.
#
# `prepare_image` repeats these steps on an image file. This work on the input before the model
# sees it is called **preprocessing**.
#
# Below, test digits are made to look like photos. The lesson's deep model then reads them
# twice: prepared like MNIST, and simply squashed to 28×28. Six of them are saved as PNG files.


# %%
def squashed(photo):
    """What a first attempt does: grey, inverted, the whole picture squashed to 28×28."""
    return 1 - np.asarray(photo.convert("L").resize((28, 28)), dtype="float32") / 255


rng = np.random.default_rng(seed)
chosen = rng.choice(len(x_test), size=count, replace=False)
photos = [render_as_photo(x_test[index], rng) for index in chosen]
prepared = np.stack([to_mnist(np.asarray(photo) / 255) for photo in photos])  # as prepare_image
answers = deep_model.predict(prepared, verbose=0).argmax(axis=1)
naive = deep_model.predict(np.stack([squashed(photo) for photo in photos]), verbose=0).argmax(
    axis=1
)
photos_right = {"prepared": np.mean(answers == y_test[chosen]),
                "squashed": np.mean(naive == y_test[chosen])}  # fmt: skip
print(f"{count} photos: the deep model reads {photos_right['prepared']:.1%} of them prepared like "
      f"MNIST, {photos_right['squashed']:.1%} squashed")  # fmt: skip

os.makedirs("outputs/handwriting_examples", exist_ok=True)  # six of them, saved as files
paths = [f"outputs/handwriting_examples/test_digit_{index}_is_a_{y_test[index]}.png"
         for index in chosen[:6]]  # fmt: skip
for path, photo in zip(paths, photos):
    photo.save(path)
figure, axes = plt.subplots(2, 6, figsize=(11, 4))
for column, path in enumerate(paths):
    seen = prepare_image(path)  # the same steps, from the file
    answer = deep_model.predict(seen[np.newaxis], verbose=0).argmax()
    axes[0, column].imshow(Image.open(path), cmap="gray", vmin=0, vmax=255)
    axes[0, column].set_title(f"photo of a {y_test[chosen[column]]}", fontsize=9)
    axes[1, column].imshow(seen, cmap="gray_r")
    axes[1, column].set_title(f"prepared: read as {answer}", fontsize=9)
for axis in axes.flat:
    axis.axis("off")
plt.savefig("outputs/own_handwriting.png")
plt.show()

# %% [markdown]
# The top row shows the photos, the bottom row what the model sees after `prepare_image`. The
# printed line gives both shares: compare them.
#
# To try your own, write one digit with a dark pen on white paper and take a photo. Then run
# `python predict_digits.py my_digit.jpg --save-preprocessed seen/`. It prints the digit the
# deep model reads, and saves what it saw in `seen/`. The photos made here are in
# `outputs/handwriting_examples/`, each named after its true digit.
#
# ## 2. Drawn digits
#
# The drawing pad below reads a digit while you draw it. Your strokes are prepared the same way
# as a photo. But a pen stroke is not a pencil stroke: it has the same width everywhere, with
# no soft edge.
#
# So we measure how well the models read drawings before we give them a pad. `drawn_digits`
# draws digits as the pad does, with its round pen. Each digit has one or two shapes that people
# draw, at a random size, place and slant, every point moved a little.

# %%
drawings, drawn = drawn_digits(count, seed=seed)
drawn_seen = np.stack([to_mnist(drawing) for drawing in drawings])
read = {model.name: model.predict(drawn_seen, verbose=0).argmax(axis=1)
        for model in (simple_model, deep_model)}  # fmt: skip
for name, answers in read.items():
    print(f"{name} model: reads {np.mean(answers == drawn):.1%} of {count} drawings")

figure, axes = plt.subplots(2, 10, figsize=(12, 2.8))
for column in range(10):
    axes[0, column].imshow(drawings[column], cmap="gray", vmin=0, vmax=1)
    axes[1, column].imshow(drawn_seen[column], cmap="gray_r")
    axes[1, column].set_title(f"read as {read['deep'][column]}", fontsize=9)
for axis in axes.flat:
    axis.axis("off")
plt.savefig("outputs/drawn_digits.png")
plt.show()

# %% [markdown]
# ## 3. Would shifted training digits help?
#
# Earlier versions of this lesson trained the deep model on shifted digits. `RandomTranslation`
# moved each training digit by up to a pixel in each direction, differently each epoch. Making
# new training examples from old ones like this is **data augmentation**. It might help with
# drawings, which differ from MNIST's digits in small ways.
#
# So here a copy of the deep model learns with that augmentation. It starts from the same
# weights as the lesson's deep model, and follows its recipe: the same digits, batches, epochs
# and learning rate. Only the augmentation differs. The first line checks the starting weights.

# %%
if lesson["quick"]:  # the lesson's quick run trained on its first 4,000 digits
    x_train, y_train = x_train[:4000], y_train[:4000]
x_fit, x_val, digits_fit, digits_val = train_test_split(
    x_train.astype("float32") / 255, y_train, test_size=1 / 12, random_state=seed
)
y_fit, y_val = (
    keras.utils.to_categorical(digits_fit, 10),
    keras.utils.to_categorical(digits_val, 10),
)


def deep(shifted):
    """The lesson's deep model; shifted: with RandomTranslation before Flatten."""
    keras.utils.set_random_seed(seed)
    shift = [layers.Reshape((28, 28, 1)),  # RandomTranslation works on pictures with channels
             layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant", seed=seed)]  # fmt: skip
    return keras.Sequential(
        [keras.Input(shape=(28, 28)), *(shift if shifted else []), layers.Flatten(),
         layers.Dense(512, activation="relu"), layers.Dense(512, activation="relu"),
         layers.Dense(10, activation="softmax")],
        name="shifted" if shifted else "deep",
    )  # fmt: skip


shifted_model = deep(shifted=True)
same_start = all(np.array_equal(a, b) for a, b in zip(deep(False).weights, shifted_model.weights))
print("the same starting weights as the lesson's deep model:", same_start)
steps = 5 * int(np.ceil(len(x_fit) / 250))  # the lesson's recipe: 5 epochs of batches of 250
shifted_model.compile(
    optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.004, steps)),
    loss="categorical_crossentropy",
    metrics=["categorical_accuracy"],
)
history = shifted_model.fit(x_fit, y_fit, batch_size=250, epochs=5, verbose=0)

# %% [markdown]
# Both models now read the validation digits and the same drawings. Each drawing counts only
# where the two models disagree: one reads it right and the other does not. If the two were
# equally good, those drawings would split about evenly. The **p-value** is the chance of a
# split at least as lopsided as this one, if they were. A p-value above 0.05 means the
# difference is within noise.

# %%
read["shifted"] = shifted_model.predict(drawn_seen, verbose=0).argmax(axis=1)
plain_right, shifted_right = read["deep"] == drawn, read["shifted"] == drawn
only_shifted, only_plain = (
    int(np.sum(shifted_right & ~plain_right)),
    int(np.sum(plain_right & ~shifted_right)),
)
p_value = (
    binomtest(only_shifted, only_shifted + only_plain).pvalue if only_shifted + only_plain else 1.0
)
for model, right in ((deep_model, plain_right), (shifted_model, shifted_right)):
    validation = model.evaluate(x_val, y_val, verbose=0)[1]
    print(f"{model.name} model: validation {validation:.2%}, drawings {right.mean():.1%}")
print(f"drawings only the shifted model reads: {only_shifted}, only the lesson's: {only_plain}, "
      f"p = {p_value:.2f}")  # fmt: skip
pad_model = shifted_model if only_shifted > only_plain else deep_model
noise = "beyond noise" if p_value < 0.05 else "within noise"
print(f"the drawing pad uses the {pad_model.name} model (the difference is {noise})")

# %% [markdown]
# The pad should read drawings as well as we can make it. So it takes the shifted model if that
# one reads more of these drawings. Otherwise it keeps the lesson's own deep model, the plainer
# of the two. The last line above names the model it uses, and says if the difference is
# beyond noise.
#
# The numbers of this chapter go to `outputs/your_handwriting.json`, and the pad's model to
# `outputs/models/pad.keras`.

# %%
results = {
    "seed": seed,
    "photos": {"count": count, **{way: float(share) for way, share in photos_right.items()}},
    "drawings": {
        "count": count,
        **{name: float(np.mean(answers == drawn)) for name, answers in read.items()},
    },  # fmt: skip
    "shifted_against_deep": {
        "only_shifted": only_shifted,
        "only_deep": only_plain,
        "p_value": float(p_value),
        "same_start": same_start,
    },  # fmt: skip
    "pad_model": pad_model.name,
}
with open("outputs/your_handwriting.json", "w") as file:
    json.dump(results, file, indent=2)
pad_model.save("outputs/models/pad.keras")

# %% [markdown]
# ## 4. Draw a digit and watch the models decide
#
# Below, the pad's model and the simple model run in a drawing pad. Draw a digit with the mouse,
# a finger or a pen. With every stroke, the pad shows:
#
# - each model's ten outputs: the pad's deep model's scores, which add up to 1, beside the
#   simple model's ten yes/no answers, which need not;
# - the 28×28 picture both models see;
# - **More ink here pushes**: the deep model's **saliency** map. For each pixel, it shows how
#   the logit of the model's answer would change if that pixel held a little more ink. Orange
#   pixels would push towards the answer, purple ones away;
# - the hidden layers, one cell per unit: dark where a ReLU unit gives 0, amber where it
#   passes a signal on. The count says how many of each layer's units are active.
#
# The saliency is the gradient of the lesson, taken for the pixels instead of the weights. It
# tells what more ink would do, not what the ink already there did.
#
# The pad runs in the page, from the weights stored in it, with no server or network. A saved
# notebook shows a picture of it instead: run the cell to draw. `outputs/draw_a_digit.html` is
# the same pad, for any browser. Draw a neat digit, then a sloppy one, and watch the two models
# agree, then part.

# %%
drawing_pad = DrawingPad(pad_model, simple_model)
with open("outputs/draw_a_digit.html", "w", encoding="utf-8") as file:
    file.write(drawing_pad.page())
print("draw a digit: open outputs/draw_a_digit.html in a browser")
drawing_pad  # in a notebook, the pad itself is this cell's output

# %% [markdown]
# ## Recap
#
# - A model reads new pictures well only if they are prepared like its training pictures.
# - For MNIST that means light ink on dark, cropped, scaled into 20×20 and centred by mass.
# - Drawings need the same steps. We measured how well each model reads them.
# - Data augmentation was tried on the same start and recipe, and kept only if it clearly helped.
#
# ## Where next
#
# - `predict_digits.py` reads your photos from the command line. It also writes the pad for any
#   saved model of `Dense` layers: `python predict_digits.py --drawing-pad pad.html --model
#   outputs/models/pad.keras`.
# - Train the lesson's deep model with `layers.Dropout(0.2)` after each hidden layer. Then see
#   how it reads drawings here.
# - `exercises.ipynb`: tasks that check themselves.
