"""The drawing pad's Python side: which models it takes, what it writes, what float16 costs.
(The page itself is tested in a real browser: test_drawing_pad_browser.py.)"""

from __future__ import annotations

import base64
import io
import re

import keras
import numpy as np
import pytest
from PIL import Image

from browser import trained_model
from mnist_lesson.data import load_mnist
from mnist_lesson.drawing_pad import SCRIPT, DrawingPad, UnsupportedModelError
from mnist_lesson.errors import UserError

MAX_PAGE_BYTES = 2_500_000


def lesson_shaped_model(hidden=(512, 512), activation="relu"):
    """The lesson's deep model's shape (untrained: size is a matter of the weight count)."""
    layers = [keras.Input((784,))]
    for units in hidden:
        layers += [keras.layers.Dense(units, activation), keras.layers.Dropout(0.2)]
    return keras.Sequential([*layers, keras.layers.Dense(10, "softmax")])


def test_the_lesson_models_are_supported():
    pad = DrawingPad(lesson_shaped_model())
    assert [layer["activation"] for layer in pad.layers] == ["relu", "relu", "softmax"]
    assert [layer["kernel"].shape for layer in pad.layers] == [(784, 512), (512, 512), (512, 10)]
    assert repr(pad) == "DrawingPad(784-512-512-10)"
    # The lesson's simple model: one layer, ten sigmoid outputs.
    simple = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, "sigmoid")])
    assert len(DrawingPad(simple).layers) == 1
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    assert np.allclose(DrawingPad(simple).predict(x), simple.predict(x, verbose=0), atol=2e-3)
    sigmoid = lesson_shaped_model((100,), "sigmoid")
    assert DrawingPad(sigmoid).layers[0]["activation"] == "sigmoid"


def test_the_lessons_shift_layer_is_skipped_as_at_inference():
    from mnist_lesson.augmentation import RandomShift

    shifted = keras.Sequential(
        [keras.Input((784,)), RandomShift(1), keras.layers.Dense(16, "relu"),
         keras.layers.Dense(10, "softmax")]
    )  # fmt: skip
    pad = DrawingPad(shifted)
    assert repr(pad) == "DrawingPad(784-16-10)"
    x = np.random.default_rng(2).random((5, 784), dtype=np.float32)
    assert np.allclose(pad.predict(x), shifted.predict(x, verbose=0), atol=2e-3)


def test_a_model_the_pad_cannot_run_gets_one_line_and_no_pad(capsys):
    from mnist_lesson.drawing_pad import drawing_pad_for

    convnet = keras.Sequential(
        [keras.Input((784,)), keras.layers.Reshape((28, 28, 1)),
         keras.layers.Conv2D(4, 3, activation="relu", name="conv"), keras.layers.Flatten(),
         keras.layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    assert drawing_pad_for(convnet) is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("no drawing pad for this model:")
    # It names what the pad does run, the lesson's own layers included, and the culprit.
    for fragment in ("Dense", "reshapes", "training-only", "shift", "'conv' is a Conv2D"):
        assert fragment in lines[0], lines[0]
    assert drawing_pad_for(lesson_shaped_model((8,))) is not None


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
    flatten = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(name="flatten"),
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
        "Flatten of 28x28": (flatten, "layer 'flatten' is a Flatten"),
        "28x28 input": (square, "reads 28 values"),
        "100 inputs": (small_input, "reads 100 values"),
        "Functional": (functional, "got a Functional"),
        "relu output": (relu_out, "the last one must have 10 units with softmax or sigmoid"),
        "5 outputs": (five, "the last one must have 10 units"),
        "not a model": (object(), "got a object"),
    }


@pytest.mark.parametrize("case", list(unsupported_models()))
def test_unsupported_models_are_refused_in_one_line(case):
    model, fragment = unsupported_models()[case]
    with pytest.raises(UnsupportedModelError) as caught:
        DrawingPad(model)
    message = str(caught.value)
    assert "\n" not in message and fragment in message, message
    assert isinstance(caught.value, UserError)  # scripts print it as one line


def test_page_size_and_content():
    pad = DrawingPad(lesson_shaped_model())
    page = pad.page()
    size = len(page.encode("utf-8"))
    print(f"page for 784-512-512-10: {size:,} bytes")
    assert size <= MAX_PAGE_BYTES
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert SCRIPT.read_text() in page  # the script is inlined, not linked
    # Nothing from outside: no script or style sources, no links, no fonts, no fetches.
    assert not re.search(r"<(link|iframe)|\bsrc=|@import|url\(|https?://|fetch\(|XMLHttp", page)


def test_script_is_small_and_self_contained():
    code = SCRIPT.read_text()
    assert len(code.encode()) < 30_000
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


def test_float16_weights_cost_almost_nothing(mnist_path):
    """The page's forward pass (float16 weights, emulated with numpy) against Keras (float32) on
    all 10,000 test digits, for the lesson's model shape."""
    model = trained_model(str(mnist_path), (512, 512))
    data = load_mnist(mnist_path)
    x = data.x_test.reshape(-1, 784).astype(np.float32) / 255
    expected = model.predict(x, verbose=0)
    page = DrawingPad(model).predict(x)
    agreement = (page.argmax(1) == expected.argmax(1)).mean()
    largest = np.abs(page - expected).max()
    print(f"float16 vs float32 on 10,000 digits: {agreement:.2%} same, largest difference "
          f"{largest:.2e}")  # fmt: skip
    assert agreement >= 0.999
    assert largest < 0.05
    assert np.allclose(page.sum(axis=1), 1, atol=1e-5)
