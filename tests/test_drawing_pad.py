"""The drawing pad's Python side: which models it takes, how it encodes their weights and what
that costs, what it writes. (The page itself is tested in a real browser:
test_drawing_pad_browser.py; the numpy emulation here computes what the page computes.)"""

from __future__ import annotations

import base64
import io
import re

import keras
import numpy as np
import pytest
from PIL import Image

from browser import agreement, keras_reference, trained_model, trained_simple_model
from handwriting.drawing_pad import SCRIPT, DrawingPad, PadModel, encode_tensor
from mnist_lesson.data import load_mnist

MAX_PAGE_BYTES = 2_500_000


def lesson_shaped_model(hidden=(512, 512), activation="relu"):
    """The chapter's shifted deep model's shape (untrained: size is a matter of the weight
    count): the 28x28 digit given a channel, moved in training only, flattened, Dense layers."""
    layers = [keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1)),
              keras.layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant", seed=1),
              keras.layers.Flatten()]  # fmt: skip
    for units in hidden:
        layers += [keras.layers.Dense(units, activation), keras.layers.Dropout(0.2)]
    return keras.Sequential([*layers, keras.layers.Dense(10, "softmax")])


def test_the_lesson_models_are_supported():
    pad = DrawingPad(lesson_shaped_model())
    assert [layer["activation"] for layer in pad.layers] == ["relu", "relu", "softmax"]
    assert [layer["kernel"].shape for layer in pad.layers] == [(784, 512), (512, 512), (512, 10)]
    assert repr(pad) == "DrawingPad(784-512-512-10)"
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    deep = lesson_shaped_model((16,))
    expected = deep.predict(x.reshape(-1, 28, 28), verbose=0)
    assert np.allclose(DrawingPad(deep).predict(x), expected, atol=1e-4)
    # The lesson's simple model: one layer, ten sigmoid outputs.
    simple = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                               keras.layers.Dense(10, "sigmoid")])  # fmt: skip
    assert len(DrawingPad(simple).layers) == 1
    expected = simple.predict(x.reshape(-1, 28, 28), verbose=0)
    assert np.allclose(DrawingPad(simple).predict(x), expected, atol=1e-4)
    sigmoid = lesson_shaped_model((100,), "sigmoid")
    assert DrawingPad(sigmoid).layers[0]["activation"] == "sigmoid"
    # Models reading the 784 pixels as a flat row run too.
    flat = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, "softmax")])
    assert np.allclose(DrawingPad(flat).predict(x), flat.predict(x, verbose=0), atol=1e-4)


def convnet():
    return keras.Sequential(
        [keras.Input((784,)), keras.layers.Reshape((28, 28, 1)),
         keras.layers.Conv2D(4, 3, activation="relu", name="conv"), keras.layers.Flatten(),
         keras.layers.Dense(10, activation="softmax")]
    )  # fmt: skip


def test_a_model_the_pad_cannot_run_is_refused_in_one_line():
    with pytest.raises(ValueError) as caught:
        DrawingPad(convnet(), lesson_shaped_model((8,)))
    message = str(caught.value)
    # It names what the pad does run, the chapter's own layers included, and the culprit.
    for fragment in ("Dense", "Flatten", "training-only", "RandomTranslation",
                     "'conv' is a Conv2D"):  # fmt: skip
        assert fragment in message and "\n" not in message, message
    assert repr(DrawingPad(lesson_shaped_model((8,)))) == "DrawingPad(784-8-10)"


def test_a_compared_model_the_pad_cannot_run_is_named_as_such():
    with pytest.raises(ValueError, match="^the model to compare: .*'conv' is a Conv2D"):
        DrawingPad(lesson_shaped_model((8,)), convnet())


def test_models_are_named_by_their_keras_names():
    deep = lesson_shaped_model((8,))
    simple = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, "sigmoid")])
    deep.name, simple.name = "deep", "simple"
    pad = DrawingPad(deep, simple)
    assert [model.name for model in pad.models] == ["deep", "simple"]
    assert repr(pad) == "DrawingPad(784-8-10, compare=784-10)"
    assert '"name":"deep"' in pad.page() and '"name":"simple"' in pad.page()
    # The same model twice: the second gets a name of its own.
    twice = DrawingPad(deep, deep)
    assert [model.name for model in twice.models] == ["deep", "deep_2"]
    # A name cannot end the page's script early.
    simple.name = "</script><b>"
    page = DrawingPad(deep, simple).page()
    assert page.lower().count("</script") == 1 and "<\\/script><b>" in page


def test_training_only_augmentation_layers_are_skipped():
    """The lesson shifts training digits with layers that Keras turns off outside training."""
    augmented = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Reshape((28, 28, 1)),
            keras.layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant"),
            keras.layers.Reshape((784,)),
            keras.layers.Dense(32, "relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, "softmax"),
        ]
    )
    pad = DrawingPad(augmented)
    assert repr(pad) == "DrawingPad(784-32-10)"
    x = np.random.default_rng(1).random((5, 784), dtype=np.float32)
    assert np.allclose(pad.predict(x), augmented.predict(x, verbose=0), atol=2e-3)


def unsupported_models():
    conv = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(8, 3, activation="relu", name="conv2d"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, "softmax"),
        ]
    )
    square = keras.Sequential([keras.Input((28, 28)), keras.layers.Dense(10, "softmax", name="d")])
    small_input = keras.Sequential([keras.Input((100,)), keras.layers.Dense(10, "softmax")])
    inputs = keras.Input((784,))
    functional = keras.Model(inputs, keras.layers.Dense(10, "softmax")(inputs))
    relu_out = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, "relu")])
    five = keras.Sequential([keras.Input((784,)), keras.layers.Dense(5, "softmax")])
    unflattened = keras.Sequential(
        [keras.Input((784,)), keras.layers.Reshape((28, 28, 1)), keras.layers.Dense(10, "softmax")]
    )
    return {
        "reshaped, not flattened back": (unflattened, "reads (28, 28, 1) values"),
        "Conv2D": (conv, "layer 'conv2d' is a Conv2D"),
        "tanh": (lesson_shaped_model((64,), "tanh"), "tanh"),
        "Flatten of 32x32": (
            keras.Sequential(
                [keras.Input((32, 32)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
            ),
            "reads 1024",
        ),  # fmt: skip
        "28x28 input, not flattened": (square, "reads 28"),
        "100 inputs": (small_input, "reads 100"),
        "Functional": (functional, "got a Functional"),
        "relu output": (relu_out, "the last one must have 10 units with softmax or sigmoid"),
        "5 outputs": (five, "the last one must have 10 units"),
        "not a model": (object(), "got a object"),
    }


@pytest.mark.parametrize("case", list(unsupported_models()))
def test_unsupported_models_are_refused_in_one_line(case):
    model, fragment = unsupported_models()[case]
    with pytest.raises(ValueError) as caught:
        DrawingPad(model)
    message = str(caught.value)
    assert "\n" not in message and fragment in message, message


def test_page_size_and_content():
    simple = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, "sigmoid")])
    pad = DrawingPad(lesson_shaped_model(), simple)
    page = pad.page()
    size = len(page.encode("utf-8"))
    print(f"page for 784-512-512-10 and 784-10 (untrained): {size:,} bytes")
    assert size <= MAX_PAGE_BYTES
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert SCRIPT.read_text() in page  # the script is inlined, not linked
    # Nothing from outside: no script or style sources, no links, no fonts, no fetches.
    assert not re.search(r"<(link|iframe)|\bsrc=|@import|url\(|https?://|fetch\(|XMLHttp", page)


def test_script_is_small_and_self_contained():
    code = SCRIPT.read_text()
    assert len(code.encode()) < 40_000
    assert not re.search(r"\b(import|require)\s*\(|https?://|fetch\(|XMLHttpRequest|eval\(", code)


def test_fragment_is_a_picture_until_its_script_runs():
    pad = DrawingPad(lesson_shaped_model((32,)))
    fragment = pad.fragment()
    assert pad._repr_html_() == fragment
    static, script = fragment.split("<script>", 1)
    # Untrusted notebooks drop the script: what remains is the picture and the invitation.
    assert "Run this cell to draw" in static
    assert "<canvas" not in static and 'id="pad' not in static and "<style" not in static
    # It finds its own output by document.currentScript, never by searching the whole page.
    assert "document.currentScript" in script and "document.querySelector" not in script
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', static).group(1))
    assert len(png) < 40_000
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.format == "PNG" and picture.width >= 200


@pytest.mark.slow  # trains the lesson-sized model, then compares 10,000 digits
def test_the_pages_numbers_agree_with_keras(mnist_path):
    """The page's computation (emulated in numpy: its float32 weights, float64 sums) against
    Keras on the lesson's two models: on the first 1,000 test digits outputs within 1e-4, hidden
    activations within 1e-4 (or 1e-5 of the layer's largest), saliency with a cosine similarity
    of at least 0.999 to the gradient TensorFlow computes; on all 10,000 the same but for the
    saliency of a few digits where a hidden unit at the edge of zero (3e-7) is on for one and
    off for the other. (The browser test checks that the page computes what this emulation
    does.)"""
    deep = trained_model(str(mnist_path), (512, 512))
    simple = trained_simple_model(str(mnist_path))
    pad = DrawingPad(deep, simple)
    x = load_mnist(mnist_path)[1][0].reshape(-1, 784).astype(np.float32) / 255
    page = pad.inspect(x)
    reference = keras_reference(deep, x, page["digit"])
    for count in (1000, 10_000):
        ours = {
            "outputs": page["models"]["deep"]["outputs"][:count],
            "hidden": [values[:count] for values in page["hidden"]],
            "saliency": page["saliency"][:count],
        }
        theirs = {key: value[:count] for key, value in reference.items() if key != "hidden"}
        theirs["hidden"] = [values[:count] for values in reference["hidden"]]
        numbers = agreement(ours, theirs)
        simple_outputs = page["models"]["simple"]["outputs"][:count]
        numbers["simple_outputs"] = float(np.abs(simple_outputs - simple(x[:count])).max())
        print(f"page vs Keras on {count:,} digits: {numbers}")
        assert numbers["outputs"] <= 1e-4 and numbers["simple_outputs"] <= 1e-4
        assert numbers["same_answer"] >= 0.999
        assert numbers["hidden_within_targets"]
        if count == 1000:
            assert numbers["saliency_cosine_min"] >= 0.999
        else:
            assert numbers["saliency_cosine_below_0_999"] <= 10
            assert numbers["saliency_cosine_min"] >= 0.99
    assert np.allclose(page["models"]["deep"]["outputs"].sum(axis=1), 1, atol=1e-9)
    assert not np.allclose(page["models"]["simple"]["outputs"].sum(axis=1), 1, atol=0.01)
    assert np.allclose(pad.predict(x[:100]), page["models"]["deep"]["outputs"][:100], atol=1e-12)


def test_saliency_is_the_gradient_of_the_winning_logit():
    """Finite differences on the emulation: nudging a pixel moves the winning logit by the
    saliency times the nudge (the relu pattern stays put for a small nudge), through relu,
    sigmoid and softmax hidden layers."""
    model = keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(32, "relu"), keras.layers.Dense(16, "sigmoid"),
         keras.layers.Dense(12, "softmax"), keras.layers.Dense(10, "softmax")]
    )  # fmt: skip
    pad = DrawingPad(model)
    x = np.random.default_rng(4).random((1, 784))
    seen = pad.inspect(x)
    digit = int(seen["digit"][0])
    last = pad.layers[-1]

    def logit(pixels):
        hidden = pad.inspect(pixels)["hidden"][-1]
        return (hidden @ last["kernel"].astype(np.float64) + last["bias"])[:, digit]

    pixels = [3, 100, 400, 783]
    nudged = np.repeat(x, len(pixels), axis=0)
    nudged[np.arange(len(pixels)), pixels] += 1e-6
    slopes = (logit(nudged) - logit(x)) / 1e-6
    assert np.allclose(slopes, seen["saliency"][0, pixels], rtol=1e-3, atol=1e-7)


def decode(tensor: dict, count: int) -> np.ndarray:
    """The page's decoder, bit by bit: unary quotient, ``rice`` remainder bits, zigzag."""
    bits = np.unpackbits(np.frombuffer(base64.b64decode(tensor["data"]), np.uint8))
    values, at = [], 0
    for _ in range(count):
        quotient = 0
        while bits[at]:
            quotient, at = quotient + 1, at + 1
        at += 1
        remainder = 0
        for _ in range(tensor["rice"]):
            remainder, at = remainder * 2 + int(bits[at]), at + 1
        z = (quotient << tensor["rice"]) + remainder
        values.append((-(z + 1) // 2 if z % 2 else z // 2) * 2.0 ** tensor["exponent"])
    assert len(bits) - at < 8, "bits left over"
    return np.array(values, dtype=np.float32)


def tensors():
    rng = np.random.default_rng(5)
    outliers = rng.normal(0, 0.05, 3000)
    outliers[::500] = [40, -3, 1e3, -1e-3, 7, 0.5]
    return {
        "normal": rng.normal(0, 0.05, 3000),
        "uniform": rng.uniform(-0.07, 0.07, 3000),
        "zeros": np.zeros(50),
        "one value": np.array([-0.25]),
        "outliers": outliers,
        "heavy tails": rng.standard_cauchy(3000) * 0.01,
        "large": rng.normal(0, 3e4, 300),
        "tiny": rng.normal(0, 1e-30, 300),
        "bias-like": rng.normal(0.1, 0.01, 10),
        "a large layer": rng.normal(0, 0.05, 70_000),
    }


@pytest.mark.parametrize("case", list(tensors()))
def test_the_weight_encoding_round_trips(case):
    values = tensors()[case].astype(np.float32)
    tensor, decoded = encode_tensor(values)
    assert set(tensor) == {"exponent", "rice", "data"} and 0 <= tensor["rice"] <= 24
    assert np.array_equal(decode(tensor, values.size), decoded)
    step = 2.0 ** tensor["exponent"]
    assert np.abs(decoded.astype(np.float64) - values).max() <= step / 2 * (1 + 1e-6)
    assert np.abs(values).max() / step < 2**24  # whole numbers below 2**24: exact in float32
    rms = np.sqrt(np.mean(values.astype(np.float64) ** 2))
    bits = 15 if values.size >= 65_536 else 22  # below the tensor's scale; small ones finer
    if rms > 1e-30 and np.abs(values).max() / rms < 2 ** (23 - bits):  # no outlier in the way
        assert 2 ** (bits - 0.5) <= rms / step <= 2 ** (bits + 0.5)


@pytest.mark.slow  # trains the lesson-sized model
def test_the_encoding_takes_about_17_bits_a_weight_for_trained_weights(mnist_path):
    deep = trained_model(str(mnist_path), (512, 512))
    tensor, _ = encode_tensor(deep.layers[0].get_weights()[0])
    bits = len(base64.b64decode(tensor["data"])) * 8 / (784 * 512)
    print(f"first layer: {bits:.2f} bits a weight")
    assert 14 < bits < 19


def test_the_pad_takes_exported_models():
    model = lesson_shaped_model((8,))
    exported = DrawingPad(model).models[0]
    assert isinstance(exported, PadModel) and repr(DrawingPad(exported)) == "DrawingPad(784-8-10)"
    assert DrawingPad(exported).page() == DrawingPad(model).page()


def test_the_picture_shows_both_models_and_the_saliency(mnist_path):
    deep = trained_model(str(mnist_path))
    pad = DrawingPad(deep, trained_simple_model(str(mnist_path)))
    png = base64.b64decode(pad.picture())
    assert len(png) < 40_000
    with Image.open(io.BytesIO(png)) as picture:
        rgb = np.asarray(picture.convert("RGB")).reshape(-1, 3).astype(int)

    def has(colour, tolerance=12, count=40):
        return (np.abs(rgb - colour).max(axis=1) <= tolerance).sum() >= count

    assert has((58, 111, 176)) and has((42, 143, 127))  # the deep model's bars, the simple one's
    assert has((230, 97, 1), 40, 10) and has((94, 60, 153), 40, 10)  # towards, away
    # One model: no second column of bars.
    with Image.open(io.BytesIO(base64.b64decode(DrawingPad(deep).picture()))) as picture:
        rgb = np.asarray(picture.convert("RGB")).reshape(-1, 3).astype(int)
    assert has((58, 111, 176)) and not has((42, 143, 127))
