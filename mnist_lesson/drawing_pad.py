"""A live drawing pad: draw a digit and watch a trained model read it while you draw.

``DrawingPad(model).page()`` is one standalone HTML document (open it by double-click, no server,
no network); ``DrawingPad(model)`` as the last expression of a notebook cell shows the same pad in
the output. The page holds the model's weights (float16, base64) and ``drawing_pad.js``, a small
dependency-free script that preprocesses the drawing and runs the model in the browser.

The model must be a ``keras.Sequential`` stack of ``Dense`` layers (relu, sigmoid or softmax; the
last one with 10 units, softmax or sigmoid) reading 784 pixels. Layers that act only in training
(``Dropout``, the lesson's ``RandomShift``, Keras' ``RandomTranslation`` and the like) are skipped,
as at inference, and a ``Reshape`` to 28x28 and back may surround them: the shape of the lesson's
models (its simple model's ten sigmoid outputs are shown as they are, yes/no levels that need
not sum to 1). Anything else raises ``UnsupportedModelError``, whose one line says what the pad
runs; ``drawing_pad_for`` turns that into a printed line and no pad.

Preprocessing, shared by both implementations
---------------------------------------------
``drawing_pad.js`` (``toMnist``) implements exactly ``handwriting.to_mnist``, which this text
describes; the tests run both on the same pixels and compare (max abs difference <= 1e-4, same box
and placement). Input: brightness in [0, 1] (0 black), row-major; the pad's 280x280 canvas is
white paper with black round strokes 18 pixels wide, read as Pillow's ``convert("L")`` does
(``(R*19595 + G*38470 + B*7471 + 0x8000) >> 16``, then / 255).

1. Paper: the median of the border pixels. Above 0.5, ink = 1 - brightness, else brightness.
2. Contrast: the 99.9th percentile of the ink (numpy's linear interpolation; the maximum for
   1,000 pixels or fewer) becomes 1 and the paper 0, clipped to [0, 1]; less than 0.15 between
   them means no ink (Python raises ``ImageError``, the pad shows no prediction).
3. Box: rows and columns with ink >= 0.25, leaving out up to 0.2% of that ink at each side
   (cumulative counts, numpy ``searchsorted``); inside the box, ink below 0.25 becomes 0.
4. Scale: the longer side to 20 pixels, the other ``round(side * 20 / longer)`` (round half to
   even, at least 1), with Pillow's Lanczos filter on a float image (two passes, horizontal
   first, each skipped when its size does not change, float32 in between); clip to [0, 1] and
   divide by the brightest pixel.
5. Place: in a 28x28 field, shifted so that the centre of mass lands at (14, 14), rounded half
   to even and kept inside the field.

JavaScript API (each pad; ``window.digitPad`` is the latest one, ``element.digitPad`` the one
built in ``element``, the ``.digit-pad`` root):

- ``predict(pixels)``: 784 MNIST-style inputs (ink 1, background 0, row-major) as an Array or
  Float32Array in [0, 1], or a Uint8Array of 0-255 (divided by 255), to an Array of the model's
  10 outputs (probabilities for a softmax model).
- ``preprocess()``: the 784 inputs for the current drawing, or ``null`` when it is blank.
- ``clear()``: empties the pad, the prediction and the bars (as the Clear button and Escape do).
- ``preprocessGray(gray, width, height)``: a test hook: the steps above on brightness values
  (a Float32Array), giving ``{pixels, rows: [start, stop], cols: [start, stop], size: [height,
  width], top, left}`` or ``null`` where Python raises ``ImageError``.
- ``updateMs``: how long the latest updates (preprocess, model, display) took, in milliseconds.

Elements: ``canvas#pad`` (the drawing surface), ``#prediction`` (the predicted digit, empty when
blank, in an ``aria-live`` region), ``[data-digit="0"]`` to ``[data-digit="9"]`` (each with
``data-probability``, ``toFixed(6)`` or empty), ``button#clear`` and ``canvas#seen`` (the 28x28
input). In notebook outputs each id has a unique suffix (``pad-x7k2q0``).
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

from mnist_lesson.errors import UserError

SCRIPT = Path(__file__).with_name("drawing_pad.js")
ACTIVATIONS = ("relu", "sigmoid", "softmax")
INPUTS = 784
SUPPORTED = (
    "the drawing pad runs stacks of Dense layers (relu, sigmoid or softmax) reading the 784 "
    "pixels, with reshapes and training-only layers such as Dropout or a random shift"
)
# Layers that change nothing once the model is trained: Keras turns them off outside training.
TRAINING_ONLY = (
    "Dropout",
    "RandomShift",
    "RandomTranslation",
    "RandomRotation",
    "RandomZoom",
    "GaussianNoise",
)
RUN_TO_DRAW = "Run this cell to draw"


class UnsupportedModelError(UserError):
    """A model the drawing pad cannot run in the browser; the message is one line."""


def export_layers(model) -> list[dict]:
    """The model's Dense layers as {activation, kernel, bias} with float16 weights.

    Checks the class names, weights and activations (duck typing: no Keras import needed).
    """
    kind = type(model).__name__
    if kind != "Sequential":
        raise UnsupportedModelError(f"{SUPPORTED} in a keras.Sequential; got a {kind}")
    layers, shape = [], (INPUTS,)
    for layer in model.layers:
        name, kind = getattr(layer, "name", "?"), type(layer).__name__
        if kind in TRAINING_ONLY:
            continue
        if kind == "Reshape" and np.prod(layer.target_shape) == INPUTS and not layers:
            shape = tuple(layer.target_shape)  # 784 pixels as 28x28 for an augmentation layer
            continue
        if kind == "Dense" and not layers and shape != (INPUTS,):
            raise UnsupportedModelError(f"{SUPPORTED}; layer {name!r} reads {shape} values")
        if kind != "Dense":
            raise UnsupportedModelError(f"{SUPPORTED}; layer {name!r} is a {kind}")
        activation = getattr(layer.activation, "__name__", str(layer.activation))
        if activation not in ACTIVATIONS:
            raise UnsupportedModelError(
                f"{SUPPORTED}; layer {name!r} uses the {activation} activation"
            )
        weights = layer.get_weights()
        if not weights:
            raise UnsupportedModelError(f"layer {name!r} has no weights yet: build or train it")
        kernel = np.asarray(weights[0], dtype=np.float32)
        bias = np.asarray(weights[1] if len(weights) > 1 else np.zeros(kernel.shape[-1]))
        expected = layers[-1]["kernel"].shape[1] if layers else INPUTS
        if kernel.ndim != 2 or kernel.shape[0] != expected:
            raise UnsupportedModelError(
                f"{SUPPORTED} reading {INPUTS} pixels; layer {name!r} reads "
                f"{'x'.join(map(str, kernel.shape[:-1]))} values"
            )
        if np.abs(kernel).max(initial=0) > 65504 or np.abs(bias).max(initial=0) > 65504:
            raise UnsupportedModelError(f"layer {name!r} has weights too large for float16")
        layers.append(
            {"activation": activation, "kernel": kernel.astype("<f2"), "bias": bias.astype("<f2")}
        )
    last = layers[-1] if layers else None
    if not last or last["activation"] == "relu" or last["kernel"].shape[1] != 10:
        raise UnsupportedModelError(
            f"{SUPPORTED}; the last one must have 10 units with softmax or sigmoid"
        )
    return layers


class DrawingPad:
    """The drawing pad for one model; the weights are exported once, here."""

    def __init__(self, model):
        self.layers = export_layers(model)
        spec = {
            "layers": [
                {
                    "inputs": layer["kernel"].shape[0],
                    "units": layer["kernel"].shape[1],
                    "activation": layer["activation"],
                    "kernel": base64.b64encode(layer["kernel"].tobytes()).decode("ascii"),
                    "bias": base64.b64encode(layer["bias"].tobytes()).decode("ascii"),
                }
                for layer in self.layers
            ]
        }
        self._spec = json.dumps(spec, separators=(",", ":"))
        self._picture: str | None = None

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        """The probabilities the page computes, with its float16 weights (N x 784 -> N x 10)."""
        x = np.asarray(pixels, dtype=np.float32).reshape(-1, INPUTS)
        for layer in self.layers:
            x = x @ layer["kernel"].astype(np.float32) + layer["bias"].astype(np.float32)
            if layer["activation"] == "relu":
                x = np.maximum(x, 0)
            elif layer["activation"] == "sigmoid":
                x = 1 / (1 + np.exp(-x))
            else:
                x = np.exp(x - x.max(axis=1, keepdims=True))
                x /= x.sum(axis=1, keepdims=True)
        return x

    def _script(self, standalone: bool) -> str:
        code = SCRIPT.read_text(encoding="utf-8")
        call = f"DigitPad.mount(document.currentScript, {self._spec}, {str(standalone).lower()});"
        body = f"{code}\n{call}"
        assert "</script" not in body.lower()  # would end the inline script early
        return f"<script>\n{body}\n</script>"

    def page(self) -> str:
        """A complete standalone HTML document: save it and open it in any browser."""
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>Draw a digit</title>\n</head>\n<body>\n<main>\n<h1>Draw a digit</h1>\n"
            "<noscript>The drawing pad needs JavaScript.</noscript>\n"
            f"<div>\n{self._script(standalone=True)}\n</div>\n</main>\n</body>\n</html>\n"
        )

    def fragment(self) -> str:
        """HTML for a notebook output: a picture of the pad, replaced by the live pad when the
        output's script runs (Jupyter runs it only in trusted notebooks, and strips it along
        with styles from untrusted ones, which then keep the picture and its words)."""
        return (
            '<div class="digit-pad-output">\n<div class="digit-pad-picture">\n'
            f'<img src="data:image/png;base64,{self.picture()}" width="360" height="160" '
            'alt="A drawn 3, what the model sees and its ten probabilities">\n'
            f"<p>{html.escape(RUN_TO_DRAW)}: a live pad that reads your digit as you draw.</p>\n"
            f"</div>\n{self._script(standalone=False)}\n</div>"
        )

    def _repr_html_(self) -> str:
        return self.fragment()

    def __repr__(self) -> str:
        sizes = [INPUTS] + [layer["kernel"].shape[1] for layer in self.layers]
        return f"DrawingPad({'-'.join(map(str, sizes))})"

    def picture(self) -> str:
        """A PNG (base64) of the pad with a drawn 3, what the model sees and its answer."""
        if self._picture is None:
            self._picture = base64.b64encode(_draw_picture(self)).decode("ascii")
        return self._picture


def drawing_pad_for(model) -> DrawingPad | None:
    """The drawing pad for ``model``; or, for a model it cannot run, one printed line saying
    so, and None: a lesson whose model a student changed goes on without its pad."""
    try:
        return DrawingPad(model)
    except UnsupportedModelError as reason:
        print(f"no drawing pad for this model: {reason}")
        return None


def _draw_picture(pad: DrawingPad) -> bytes:
    from PIL import Image, ImageDraw

    from mnist_lesson.handwriting import to_mnist

    drawing = Image.new("L", (280, 280), 255)
    three = [(80, 70), (120, 50), (170, 55), (195, 90), (180, 125), (135, 140), (185, 160)]
    three += [(200, 200), (175, 235), (125, 240), (80, 220)]
    ImageDraw.Draw(drawing).line(three, fill=0, width=18, joint="curve")
    seen = to_mnist(np.asarray(drawing, dtype=np.float32) / 255)
    probabilities = pad.predict(seen.reshape(1, -1))[0]

    picture = Image.new("RGB", (360, 160), "white")
    draw = ImageDraw.Draw(picture)
    picture.paste(drawing.resize((140, 140), Image.Resampling.BILINEAR), (10, 10))
    draw.rectangle((9, 9, 150, 150), outline=(136, 136, 136))
    seen_image = Image.fromarray(np.round(seen * 255).astype(np.uint8)).resize((56, 56))
    picture.paste(seen_image, (165, 10))
    draw.text((165, 75), f"reads: {int(probabilities.argmax())}", fill=(34, 34, 34))
    for digit, p in enumerate(probabilities):
        top = 10 + 14 * digit
        draw.text((235, top), str(digit), fill=(34, 34, 34))
        draw.rectangle((247, top + 2, 347, top + 10), fill=(238, 238, 238))
        draw.rectangle((247, top + 2, 247 + round(100 * p), top + 10), fill=(58, 111, 176))
    buffer = io.BytesIO()
    picture.quantize(16).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
