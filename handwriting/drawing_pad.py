"""A live drawing pad: draw a digit and watch trained models read it while you draw.

``DrawingPad(model, compare=None).page()`` is one standalone HTML document that works offline; a
``DrawingPad`` as a notebook cell's last expression shows the same pad there. The page holds the
models' weights and ``drawing_pad.js``, which prepares the drawing as ``handwriting.to_mnist``
does and shows every model's outputs, the main model's hidden layers and its saliency. The page
runs ``keras.Sequential`` stacks of ``Dense`` layers reading 784 pixels (``SUPPORTED``); for any
other model, ValueError says so in one line. Format and JavaScript API: ``docs/drawing_pad.md``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).with_name("drawing_pad.js")
ACTIVATIONS = ("relu", "sigmoid", "softmax")
INPUTS = 784
SUPPORTED = ("the drawing pad runs stacks of Dense layers (relu, sigmoid or softmax) reading the "
             "784 pixels, with Flatten, reshapes and training-only layers such as Dropout or "
             "RandomTranslation")  # fmt: skip
TRAINING_ONLY = ("Dropout", "RandomTranslation", "RandomRotation", "RandomZoom", "GaussianNoise")
RUN_TO_DRAW = "Run this cell to draw"
PRECISION_BITS = 15  # a weight's step: its tensor's root-mean-square / 2**15...
SMALL_TENSOR, SMALL_PRECISION_BITS = 65_536, 22  # ...finer for small tensors, which cost little
MAX_BITS = 24  # integers below 2**24: k * 2**exponent is exact in float32
MAX_RICE = 24  # the script reads the remainder from one 32-bit word


def encode_tensor(values: np.ndarray) -> tuple[dict, np.ndarray]:
    """``values`` as the page stores them (docs/drawing_pad.md): ``{exponent, rice, data}``, and
    the float32 values the page decodes from it."""
    v = np.asarray(values, dtype=np.float64).ravel()
    largest = float(np.abs(v).max(initial=0))
    exponent = 0
    if largest > 0:
        rms = math.sqrt(float(np.mean(v * v)))
        precision = PRECISION_BITS if v.size >= SMALL_TENSOR else SMALL_PRECISION_BITS
        exponent = round(math.log2(rms)) - precision
        exponent = max(exponent, math.frexp(largest)[1] - MAX_BITS, -126)
    k = np.round(np.ldexp(v, -exponent)).astype(np.int64)
    z = (k << 1) ^ (k >> 63)  # zigzag: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ...
    rice = min(range(MAX_RICE + 1), key=lambda r: int((z >> r).sum()) + r * z.size)
    quotient = z >> rice
    lengths = quotient + 1 + rice
    starts = np.cumsum(lengths) - lengths
    bits = np.zeros(int(lengths.sum()), dtype=np.uint8)
    ones = int(quotient.sum())
    if ones:  # the unary quotient: that many 1 bits from each value's start (then a 0)
        first_one = np.repeat(np.cumsum(quotient) - quotient, quotient)
        bits[np.repeat(starts, quotient) + np.arange(ones) - first_one] = 1
    remainder_at = starts + quotient + 1
    for bit in range(rice):
        bits[remainder_at + bit] = (z >> (rice - 1 - bit)) & 1
    data = base64.b64encode(np.packbits(bits).tobytes()).decode("ascii")
    decoded = np.ldexp(k.astype(np.float64), exponent).astype(np.float32)
    return {"exponent": exponent, "rice": rice, "data": data}, decoded.reshape(np.shape(values))


@dataclass
class PadModel:
    """One model as the page runs it: its name, Dense layers (the weights the page decodes)
    and the page's JSON for it."""

    name: str
    layers: list[dict]
    spec: dict


def export_layers(model) -> list[dict]:
    """The model's Dense layers as {activation, kernel, bias} (float32), checked."""
    import keras

    if not isinstance(model, keras.Sequential):
        raise ValueError(f"{SUPPORTED} in a keras.Sequential; got a {type(model).__name__}")
    layers, shape = [], (INPUTS,)
    for layer in model.layers:
        name, kind = layer.name, type(layer).__name__
        if kind in TRAINING_ONLY:
            continue
        if isinstance(layer, (keras.layers.Reshape, keras.layers.Flatten)) and not layers:
            # a picture laid out as 784 pixels, or 784 pixels as a picture for an augmentation
            flat = isinstance(layer, keras.layers.Flatten)
            shape = (INPUTS,) if flat else tuple(layer.target_shape)
            continue
        if not isinstance(layer, keras.layers.Dense):
            raise ValueError(f"{SUPPORTED}; layer {name!r} is a {kind}")
        if not layers and shape != (INPUTS,):
            raise ValueError(f"{SUPPORTED}; layer {name!r} reads {shape} values")
        activation = getattr(layer.activation, "__name__", str(layer.activation))
        if activation not in ACTIVATIONS:
            raise ValueError(f"{SUPPORTED}; layer {name!r} uses the {activation} activation")
        weights = layer.get_weights()
        kernel = np.asarray(weights[0], dtype=np.float32)
        bias = np.asarray(weights[1] if len(weights) > 1 else np.zeros(kernel.shape[-1]))
        expected = layers[-1]["kernel"].shape[1] if layers else INPUTS
        if kernel.ndim != 2 or kernel.shape[0] != expected:
            reads = "x".join(map(str, kernel.shape[:-1]))
            raise ValueError(f"{SUPPORTED} reading {INPUTS} pixels; layer {name!r} reads {reads}")
        if not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
            raise ValueError(f"layer {name!r} has weights that are not numbers")
        layers.append({"activation": activation, "kernel": kernel, "bias": bias})
    if not layers or layers[-1]["activation"] == "relu" or layers[-1]["kernel"].shape[1] != 10:
        raise ValueError(f"{SUPPORTED}; the last one must have 10 units with softmax or sigmoid")
    return layers


def export_model(model, name: str | None = None) -> PadModel:
    """``model`` checked and encoded for the page (ValueError if the page cannot run it)."""
    layers, spec = [], []
    for layer in export_layers(model):
        kernel, kernel_values = encode_tensor(layer["kernel"])
        bias, bias_values = encode_tensor(layer["bias"])
        inputs, units = layer["kernel"].shape
        activation = layer["activation"]
        layers.append({"activation": activation, "kernel": kernel_values, "bias": bias_values})
        spec.append({"inputs": inputs, "units": units, "activation": activation,
                     "kernel": kernel, "bias": bias})  # fmt: skip
    name = name or str(getattr(model, "name", "") or "model")
    return PadModel(name, layers, {"name": name, "layers": spec})


def activate(activation: str, z: np.ndarray) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-z))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def run_model(model: PadModel, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's output after its activation (float64 sums of the float32 weights)."""
    activations = []
    for layer in model.layers:
        x = activate(layer["activation"], x @ layer["kernel"].astype(np.float64) + layer["bias"])
        activations.append(x)
    return activations


def saliency(model: PadModel, activations: list[np.ndarray], digits: np.ndarray) -> np.ndarray:
    """The gradient of each row's logit for ``digits`` with respect to the 784 inputs."""
    kernels = [layer["kernel"].astype(np.float64) for layer in model.layers]
    grad = kernels[-1][:, digits].T
    for layer, kernel, a in zip(model.layers[-2::-1], kernels[-2::-1], activations[-2::-1]):
        if layer["activation"] == "relu":
            grad = grad * (a > 0)
        elif layer["activation"] == "sigmoid":
            grad = grad * a * (1 - a)
        else:  # a softmax inside the stack: its Jacobian times the gradient
            grad = a * (grad - (grad * a).sum(axis=1, keepdims=True))
        grad = grad @ kernel.T
    return grad


class DrawingPad:
    """The drawing pad for ``model`` and, beside it, ``compare`` (Keras models or PadModels)."""

    def __init__(self, model, compare=None):
        main = model if isinstance(model, PadModel) else export_model(model)
        self.models = [main]
        if compare is not None:
            if not isinstance(compare, PadModel):
                try:
                    compare = export_model(compare)
                except ValueError as reason:
                    raise ValueError(f"the model to compare: {reason}") from None
            if compare.name == main.name:
                name = f"{main.name}_2"
                compare = PadModel(name, compare.layers, {**compare.spec, "name": name})
            self.models.append(compare)
        self.layers = main.layers
        spec = {"models": [model.spec for model in self.models]}
        # "</" escaped: a model's name must not end the inline script early.
        self._spec = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
        self._picture: str | None = None

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        """The main model's outputs as the page computes them (N x 784 -> N x 10)."""
        return self.inspect(pixels)["models"][self.models[0].name]["outputs"]

    def inspect(self, pixels: np.ndarray) -> dict:
        """What the page's ``inspect`` gives, for N inputs (N x 784 values in [0, 1]):
        ``{models: {name: {outputs: N x 10}}, hidden: [N x units per hidden layer], saliency:
        N x 784, digit: N}``, computed as the page computes them."""
        x = np.asarray(pixels, dtype=np.float64).reshape(-1, INPUTS)
        runs = {model.name: run_model(model, x) for model in self.models}
        activations = runs[self.models[0].name]
        digits = activations[-1].argmax(axis=1)
        return {
            "models": {name: {"outputs": run[-1]} for name, run in runs.items()},
            "hidden": activations[:-1],
            "saliency": saliency(self.models[0], activations, digits),
            "digit": digits,
        }

    def _script(self, standalone: bool) -> str:
        call = f"DigitPad.mount(document.currentScript, {self._spec}, {str(standalone).lower()});"
        body = f"{SCRIPT.read_text(encoding='utf-8')}\n{call}"
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
        output's script runs (Jupyter runs it only in trusted notebooks, and strips it from
        untrusted ones, which then keep the picture and its words)."""
        names = " and ".join(model.name for model in self.models)
        models = "models" if len(self.models) > 1 else "model"
        return (
            '<div class="digit-pad-output">\n<div class="digit-pad-picture">\n'
            f'<img src="data:image/png;base64,{self.picture()}" width="{PICTURE_SIZE[0]}" '
            f'height="{PICTURE_SIZE[1]}" alt="A drawn 3: what the {html.escape(names)} '
            f'{models} read and where more ink would push">\n'
            f"<p>{RUN_TO_DRAW}: a live pad that reads your digit as you draw.</p>\n"
            f"</div>\n{self._script(standalone=False)}\n</div>"
        )

    _repr_html_ = fragment

    def __repr__(self) -> str:
        sizes = ["-".join(str(n) for n in [INPUTS, *(layer["kernel"].shape[1] for layer in
                 model.layers)]) for model in self.models]  # fmt: skip
        return f"DrawingPad({', compare='.join(sizes)})"

    def picture(self) -> str:
        """A PNG (base64) of the pad with a drawn 3 and what the page shows about it."""
        if self._picture is None:
            self._picture = base64.b64encode(_draw_picture(self)).decode("ascii")
        return self._picture


PICTURE_SIZE = (720, 222)
TOWARDS, AWAY = (230, 97, 1), (94, 60, 153)  # as in drawing_pad.js
BAR_COLOURS = [(58, 111, 176), (42, 143, 127)]
THREE = [[(0.29, 0.25), (0.43, 0.18), (0.61, 0.2), (0.7, 0.32), (0.64, 0.45), (0.48, 0.5),
          (0.66, 0.57), (0.71, 0.71), (0.62, 0.84), (0.45, 0.86), (0.29, 0.79)]]  # fmt: skip


def saliency_colours(pixels: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """The page's saliency view (28x28x3 uint8): orange where the gradient is positive, purple
    where negative, stronger the larger it is; darker where the digit's ink is."""
    top = np.abs(gradient).max()
    t = np.minimum(1, 1.25 * np.abs(gradient) / top) if top > 0 else np.zeros_like(gradient)
    colour = np.where(gradient[:, None] > 0, TOWARDS, AWAY)
    rgb = (255 + (colour - 255) * t[:, None]) * (1 - 0.5 * pixels.reshape(-1, 1))
    return rgb.reshape(28, 28, 3).astype(np.uint8)


def _draw_picture(pad: DrawingPad) -> bytes:
    """The notebook's still picture of the pad: a drawn 3, the answers, what the models see, the
    saliency (where more ink pushes) and every model's outputs."""
    from PIL import Image, ImageDraw, ImageFont

    from handwriting import to_mnist
    from handwriting.drawings import draw

    picture = Image.new("RGB", PICTURE_SIZE, "white")
    pen = ImageDraw.Draw(picture)

    def text(xy, words, size=11, fill=(85, 85, 85)):
        pen.text(xy, str(words), fill=fill, font=ImageFont.load_default(size))

    drawing = draw(THREE)
    seen = to_mnist(drawing)
    seen_by = pad.inspect(seen.reshape(1, -1))
    outputs = [seen_by["models"][model.name]["outputs"][0] for model in pad.models]
    answers = [int(values.argmax()) for values in outputs]
    digit, ink = answers[0], (34, 34, 34)
    big = Image.fromarray(np.uint8(drawing * 255)).resize((180, 180), Image.Resampling.BILINEAR)
    picture.paste(big, (10, 10))
    pen.rectangle((9, 9, 190, 190), outline=(136, 136, 136))

    left = 206  # the answer, what the models see and where more ink pushes
    text((left, 22), "Prediction", 13, ink)
    text((left + 72, 4), digit, 40, ink)
    text((left + 100, 14), f"by the {pad.models[0].name}\nmodel")
    if len(pad.models) > 1:
        differ = answers[1] != digit
        line = f"the {pad.models[1].name} model reads {answers[1]}"
        text((left, 52), line + (": they differ" if differ else " too"), 11,
             (179, 38, 30) if differ else (85, 85, 85))  # fmt: skip
    text((left, 72), "The models see:")
    text((left + 112, 72), "More ink here pushes:")
    seen_image = Image.fromarray(np.uint8(np.round(seen * 255))).convert("RGB")
    picture.paste(seen_image.resize((98, 98), Image.Resampling.NEAREST), (left, 88))
    decided = Image.fromarray(saliency_colours(seen.reshape(-1), seen_by["saliency"][0]))
    picture.paste(decided.resize((98, 98), Image.Resampling.NEAREST), (left + 112, 88))
    pen.rectangle((left + 111, 87, left + 210, 186), outline=(187, 187, 187))
    for row, (colour, words) in enumerate([(TOWARDS, "towards"), (AWAY, "away from")]):
        pen.rectangle((left + 112, 194 + 13 * row, left + 120, 202 + 13 * row), fill=colour)
        text((left + 124, 192 + 13 * row), f"{words} {digit}")

    left = 440  # every model's outputs, a column each, and their sums
    width = min(150, (PICTURE_SIZE[0] - left - 16) // len(pad.models))
    bar = width - 50
    for m, (model, values) in enumerate(zip(pad.models, outputs)):
        x, activation = left + 16 + m * width, model.layers[-1]["activation"]
        text((x, 6), model.name, 13, ink)
        text((x, 22), f"{activation}: {'scores' if activation == 'softmax' else 'yes/no each'}")
        for d, value in enumerate(values):
            top = 42 + 15 * d
            text((left, top), d, 13, ink)
            pen.rectangle((x, top + 3, x + bar, top + 12), fill=(238, 238, 238))
            pen.rectangle((x, top + 3, x + round(bar * value), top + 12), fill=BAR_COLOURS[m])
            text((x + bar + 6, top), f"{value:.2f}", 13, ink)
        pen.line((x, 195, x + width - 12, 195), fill=(204, 204, 204))
        text((x, 198), f"sum {values.sum():.2f}", 13, ink)

    buffer = io.BytesIO()
    picture.quantize(256).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
