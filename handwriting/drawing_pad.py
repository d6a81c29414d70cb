"""A live drawing pad: draw a digit and watch trained models read it while you draw.

``DrawingPad(model, compare=None).page()`` is one standalone HTML document (open it by
double-click, no server, no network); a ``DrawingPad`` as the last expression of a notebook cell
shows the same pad in the output. The page holds the models' weights and ``drawing_pad.js``, a
small dependency-free script that preprocesses the drawing and runs the models in the browser.
While you draw it shows the main model's answer and outputs beside the compared model's (the
lesson's deep model's probabilities, which sum to 1, beside its simple model's ten sigmoid
yes/no answers, which need not: the pad shows their sum), each hidden layer of the main model as
a grid of its units with the count of active ones (above zero), and over the 28x28 picture the
gradient of the winning digit's score (its logit, before the softmax or sigmoid) with respect
to each pixel: orange where more ink would push towards the answer, purple where it would push
away.

Each model must be a ``keras.Sequential`` stack of ``Dense`` layers (relu, sigmoid or softmax; the
last one with 10 units, softmax or sigmoid) reading 784 pixels, a ``Flatten`` of the 28x28
picture or a ``Reshape`` before them. Layers that act only in training (``Dropout``,
``RandomTranslation`` and the like) are skipped, as at inference. Anything else raises
``UnsupportedModelError``, whose one line says what the pad runs; ``drawing_pad_for`` turns that
into a printed line and no pad (or, for the compared model, a pad without it). The models are
named in the page and in ``inspect`` by their Keras ``name`` (the lesson's are "deep" and
"simple"; a compared model with the main one's name gets "_2").

The page's format, its preprocessing and its JavaScript API: ``docs/drawing_pad.md``.
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

from mnist_lesson.errors import UserError

SCRIPT = Path(__file__).with_name("drawing_pad.js")
ACTIVATIONS = ("relu", "sigmoid", "softmax")
INPUTS = 784
SUPPORTED = (
    "the drawing pad runs stacks of Dense layers (relu, sigmoid or softmax) reading the 784 "
    "pixels, with Flatten, reshapes and training-only layers such as Dropout or "
    "RandomTranslation"
)


def _training_only():
    """Layers that change nothing once the model is trained: Keras turns them off outside
    training."""
    import keras

    return (keras.layers.Dropout, keras.layers.RandomTranslation, keras.layers.RandomRotation,
            keras.layers.RandomZoom, keras.layers.GaussianNoise)  # fmt: skip


RUN_TO_DRAW = "Run this cell to draw"
PRECISION_BITS = 15  # a weight's step: its tensor's root-mean-square / 2**15...
SMALL_TENSOR, SMALL_PRECISION_BITS = 65_536, 22  # ...finer for small tensors, which cost little
MAX_BITS = 24  # integers below 2**24: k * 2**exponent is exact in float32
MAX_RICE = 24  # the script reads the remainder from one 32-bit word


class UnsupportedModelError(UserError):
    """A model the drawing pad cannot run in the browser; the message is one line."""


def encode_tensor(values: np.ndarray) -> tuple[dict, np.ndarray]:
    """``values`` as the page stores them (see "Weights in the page" above): the JSON-ready
    ``{exponent, rice, data}`` and the float32 values the page decodes from it."""
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
    """One model as the page runs it: its name, its Dense layers as ``{activation, kernel,
    bias}`` with the float32 weights the page decodes, and the page's JSON for it."""

    name: str
    layers: list[dict]
    spec: dict

    @property
    def sizes(self) -> str:
        return "-".join(map(str, [INPUTS] + [layer["kernel"].shape[1] for layer in self.layers]))


def export_layers(model) -> list[dict]:
    """The model's Dense layers as {activation, kernel, bias} (float32, as in the model),
    checked: its layers, weights and activations."""
    import keras

    if not isinstance(model, keras.Sequential):
        kind = type(model).__name__
        raise UnsupportedModelError(f"{SUPPORTED} in a keras.Sequential; got a {kind}")
    layers, shape = [], (INPUTS,)
    for layer in model.layers:
        name, kind = layer.name, type(layer).__name__
        if isinstance(layer, _training_only()):
            continue
        if isinstance(layer, (keras.layers.Reshape, keras.layers.Flatten)) and not layers:
            # a picture laid out as 784 pixels, or 784 pixels as a picture for an augmentation
            flat = isinstance(layer, keras.layers.Flatten)
            shape = (INPUTS,) if flat else tuple(layer.target_shape)
            continue
        if not isinstance(layer, keras.layers.Dense):
            raise UnsupportedModelError(f"{SUPPORTED}; layer {name!r} is a {kind}")
        if not layers and shape != (INPUTS,):
            raise UnsupportedModelError(f"{SUPPORTED}; layer {name!r} reads {shape} values")
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
        if not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
            raise UnsupportedModelError(f"layer {name!r} has weights that are not numbers")
        layers.append({"activation": activation, "kernel": kernel, "bias": bias})
    last = layers[-1] if layers else None
    if not last or last["activation"] == "relu" or last["kernel"].shape[1] != 10:
        raise UnsupportedModelError(
            f"{SUPPORTED}; the last one must have 10 units with softmax or sigmoid"
        )
    return layers


def export_model(model, name: str | None = None) -> PadModel:
    """``model`` checked and encoded for the page (``UnsupportedModelError`` if it cannot)."""
    layers, spec = [], []
    for layer in export_layers(model):
        kernel, kernel_values = encode_tensor(layer["kernel"])
        bias, bias_values = encode_tensor(layer["bias"])
        inputs, units = layer["kernel"].shape
        layers.append(
            {"activation": layer["activation"], "kernel": kernel_values, "bias": bias_values}
        )
        spec.append(
            {"inputs": inputs, "units": units, "activation": layer["activation"],
             "kernel": kernel, "bias": bias}
        )  # fmt: skip
    name = name or str(getattr(model, "name", "") or "model")
    return PadModel(name, layers, {"name": name, "layers": spec})


def activate(activation: str, z: np.ndarray) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-z))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def run_model(model: PadModel, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Every layer's output after its activation, and the last layer's logits (float64)."""
    activations, logits = [], x
    for layer in model.layers:
        logits = x @ layer["kernel"].astype(np.float64) + layer["bias"]
        x = activate(layer["activation"], logits)
        activations.append(x)
    return activations, logits


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
    """The drawing pad for ``model`` and, beside it, ``compare`` (each a Keras model or a
    ``PadModel``); the weights are exported once, here."""

    def __init__(self, model, compare=None):
        main = model if isinstance(model, PadModel) else export_model(model)
        self.models = [main]
        if compare is not None:
            if not isinstance(compare, PadModel):
                try:
                    compare = export_model(compare)
                except UnsupportedModelError as reason:
                    raise UnsupportedModelError(f"the model to compare: {reason}") from None
            if compare.name == main.name:
                compare = PadModel(f"{main.name}_2", compare.layers,
                                   {**compare.spec, "name": f"{main.name}_2"})  # fmt: skip
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
        """What the page's ``inspect`` gives, for N inputs at once (N x 784 values in [0, 1]):
        ``{models: {name: {outputs: N x 10}}, hidden: [N x units per hidden layer], saliency:
        N x 784, digit: N}``, computed as the page computes them."""
        x = np.asarray(pixels, dtype=np.float64).reshape(-1, INPUTS)
        runs = {model.name: run_model(model, x) for model in self.models}
        main = self.models[0]
        activations, _ = runs[main.name]
        digits = activations[-1].argmax(axis=1)
        return {
            "models": {name: {"outputs": run[0][-1]} for name, run in runs.items()},
            "hidden": activations[:-1],
            "saliency": saliency(main, activations, digits),
            "digit": digits,
        }

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
        names = " and ".join(model.name for model in self.models)
        models = "models" if len(self.models) > 1 else "model"
        return (
            '<div class="digit-pad-output">\n<div class="digit-pad-picture">\n'
            f'<img src="data:image/png;base64,{self.picture()}" width="{PICTURE_SIZE[0]}" '
            f'height="{PICTURE_SIZE[1]}" alt="A drawn 3: what the {html.escape(names)} '
            f'{models} read, the hidden units at work and where more ink would push">\n'
            f"<p>{html.escape(RUN_TO_DRAW)}: a live pad that reads your digit as you draw.</p>\n"
            f"</div>\n{self._script(standalone=False)}\n</div>"
        )

    def _repr_html_(self) -> str:
        return self.fragment()

    def __repr__(self) -> str:
        compare = f", compare={self.models[1].sizes}" if len(self.models) > 1 else ""
        return f"DrawingPad({self.models[0].sizes}{compare})"

    def picture(self) -> str:
        """A PNG (base64) of the pad with a drawn 3 and all the page shows about it."""
        if self._picture is None:
            self._picture = base64.b64encode(_draw_picture(self)).decode("ascii")
        return self._picture


def drawing_pad_for(model, compare=None) -> DrawingPad | None:
    """The drawing pad for ``model``, with ``compare`` beside it; or, for a main model it
    cannot run, one printed line saying so, and None: a lesson whose model a student changed
    goes on without its pad. A compared model it cannot run is left out, with one line."""
    try:
        main = export_model(model)
    except UnsupportedModelError as reason:
        print(f"no drawing pad for this model: {reason}")
        return None
    if compare is not None:
        try:
            compare = export_model(compare)
        except UnsupportedModelError as reason:
            print(f"the drawing pad leaves out the model to compare: {reason}")
            compare = None
    return DrawingPad(main, compare)


PICTURE_SIZE = (720, 340)
TOWARDS, AWAY = (230, 97, 1), (94, 60, 153)  # as in drawing_pad.js
BAR_COLOURS = [(58, 111, 176), (42, 143, 127)]


def saliency_colours(pixels: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """The page's saliency view (28x28x3 uint8): orange where the gradient is positive, purple
    where negative, stronger the larger it is; darker where the digit's ink is."""
    top = np.abs(gradient).max()
    t = np.minimum(1, 1.25 * np.abs(gradient) / top) if top > 0 else np.zeros_like(gradient)
    colour = np.where(gradient[:, None] > 0, TOWARDS, AWAY)
    rgb = (255 + (colour - 255) * t[:, None]) * (1 - 0.5 * pixels.reshape(-1, 1))
    return rgb.reshape(28, 28, 3).astype(np.uint8)


def unit_grid(values: np.ndarray, cell: int) -> np.ndarray:
    """A hidden layer as the page draws it: one cell per unit (32 to a row for 512), dark grey
    where the unit gives 0, amber brighter the more active."""
    units = len(values)
    columns = min(64, 2 ** math.ceil(math.log2(math.sqrt(2 * units))))
    rows = math.ceil(units / columns)
    image = np.zeros((rows * cell - 1, columns * cell - 1, 3), np.uint8)
    top = values.max()
    for unit, value in enumerate(values):
        t = max(value, 0) / top if top > 0 else 0
        colour = (70 + 185 * t, 45 + 165 * t, 10 + 50 * t) if value > 0 else (40, 40, 40)
        y, x = divmod(unit, columns)
        image[y * cell : (y + 1) * cell - 1, x * cell : (x + 1) * cell - 1] = colour
    return image


def _draw_picture(pad: DrawingPad) -> bytes:
    """The notebook's still picture of the pad: a drawn 3, the answers, what the models see, the
    saliency (where more ink pushes), every model's outputs and the main model's hidden layers."""
    from PIL import Image, ImageDraw, ImageFont

    from handwriting import to_mnist

    def font(size: int):
        try:
            return ImageFont.load_default(size)
        except (TypeError, ImportError, OSError):  # an old Pillow or one without FreeType
            return ImageFont.load_default()

    small, normal, large = font(11), font(13), font(40)
    ink, grey = (34, 34, 34), (85, 85, 85)
    drawing = Image.new("L", (280, 280), 255)
    three = [(80, 70), (120, 50), (170, 55), (195, 90), (180, 125), (135, 140), (185, 160)]
    three += [(200, 200), (175, 235), (125, 240), (80, 220)]
    ImageDraw.Draw(drawing).line(three, fill=0, width=18, joint="curve")
    seen = to_mnist(np.asarray(drawing, dtype=np.float32) / 255)
    seen_by = pad.inspect(seen.reshape(1, -1))
    outputs = [seen_by["models"][model.name]["outputs"][0] for model in pad.models]
    answers = [int(values.argmax()) for values in outputs]
    digit = answers[0]

    picture = Image.new("RGB", PICTURE_SIZE, "white")
    draw = ImageDraw.Draw(picture)
    picture.paste(drawing.resize((180, 180), Image.Resampling.BILINEAR), (10, 10))
    draw.rectangle((9, 9, 190, 190), outline=(136, 136, 136))

    left = 206  # the answer, what the models see and where more ink pushes
    draw.text((left, 22), "Prediction", fill=ink, font=normal)
    draw.text((left + 72, 4), str(digit), fill=ink, font=large)
    draw.text((left + 100, 14), f"by the {pad.models[0].name}", fill=grey, font=small)
    draw.text((left + 100, 27), "model", fill=grey, font=small)
    if len(pad.models) > 1:
        line = f"the {pad.models[1].name} model reads {answers[1]}"
        line += " too" if answers[1] == digit else ": they differ"
        draw.text((left, 52), line, fill=(179, 38, 30) if answers[1] != digit else grey, font=small)
    draw.text((left, 72), "The models see:", fill=grey, font=small)
    draw.text((left + 112, 72), "More ink here pushes:", fill=grey, font=small)
    seen_image = Image.fromarray(np.round(seen * 255).astype(np.uint8)).convert("RGB")
    picture.paste(seen_image.resize((98, 98), Image.Resampling.NEAREST), (left, 88))
    decided = Image.fromarray(saliency_colours(seen.reshape(-1), seen_by["saliency"][0]))
    picture.paste(decided.resize((98, 98), Image.Resampling.NEAREST), (left + 112, 88))
    draw.rectangle((left + 111, 87, left + 210, 186), outline=(187, 187, 187))
    for row, (colour, words) in enumerate([(TOWARDS, "towards"), (AWAY, "away from")]):
        top = 192 + 13 * row
        draw.rectangle((left + 112, top + 2, left + 120, top + 10), fill=colour)
        draw.text((left + 124, top), f"{words} {digit}", fill=grey, font=small)

    left = 440  # every model's outputs, a column each, and their sums
    width = min(150, (PICTURE_SIZE[0] - left - 16) // len(pad.models))
    for m, (model, values) in enumerate(zip(pad.models, outputs)):
        x = left + 16 + m * width
        kind = "scores" if model.layers[-1]["activation"] == "softmax" else "yes/no each"
        draw.text((x, 6), model.name, fill=ink, font=normal)
        draw.text((x, 22), f"{model.layers[-1]['activation']}: {kind}", fill=grey, font=small)
        for d, value in enumerate(values):
            top = 42 + 15 * d
            if m == 0:
                draw.text((left, top), str(d), fill=ink, font=normal)
            bar = width - 50
            draw.rectangle((x, top + 3, x + bar, top + 12), fill=(238, 238, 238))
            if round(bar * value) > 0:
                draw.rectangle((x, top + 3, x + round(bar * value), top + 12), fill=BAR_COLOURS[m])
            draw.text((x + bar + 6, top), f"{value:.2f}", fill=ink, font=normal)
        draw.line((x, 195, x + width - 12, 195), fill=(204, 204, 204))
        draw.text((x, 198), f"sum {values.sum():.2f}", fill=ink, font=normal)

    x = 10  # the main model's hidden layers, a grid each
    words = f"Inside the {pad.models[0].name} model, one cell per unit (black: gives 0):"
    draw.text((x, 222), words, fill=grey, font=small)
    for number, values in enumerate(seen_by["hidden"], start=1):
        values = values[0]
        grid = Image.fromarray(unit_grid(values, 5 if len(values) >= 256 else 8))
        if x + grid.width > PICTURE_SIZE[0]:
            break
        picture.paste(grid, (x, 238))
        active = int((values > 0).sum())
        caption = f"hidden layer {number}: {active} of {len(values)} units active"
        draw.text((x, 242 + grid.height), caption, fill=grey, font=small)
        x += max(grid.width, 200) + 24
    buffer = io.BytesIO()
    picture.quantize(256).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
