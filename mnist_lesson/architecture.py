"""What a model is made of, read off the model itself (Keras classes and public attributes), and
what changed from one ladder rung to the next: tables that cannot drift from their models. Keras
is imported only when a model is described."""

from __future__ import annotations

# The settings a ladder rung is described by, in groups: consecutive rungs of the lesson's own
# ladder differ in exactly one group.
SETTING_GROUPS = {
    "output": ("output_activation", "loss"),
    "hidden layers": ("hidden_layers",),
    "hidden activation": ("hidden_activation",),
    "recipe": ("epochs", "learning_rate", "batch_size"),
    "xla": ("xla",),
    "shift": ("shift_pixels",),
}


def _plumbing():
    """Layers that only reshape the digit or act only in training: not hidden layers."""
    import keras

    return (keras.layers.Flatten, keras.layers.Reshape, keras.layers.RandomTranslation,
            keras.layers.Dropout)  # fmt: skip


def _activation(layer) -> str | None:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) if activation is not None else None


def layer_name(layer) -> str:
    """A layer as a reader would write it: ``Dense(512, relu)``, ``Conv2D(16, 3x3, relu)``,
    ``MaxPooling2D(2x2)``, ``RandomTranslation(1 px)``, ``Flatten``."""
    kind = type(layer).__name__
    parts = [str(getattr(layer, attribute)) for attribute in ("units", "filters")
             if hasattr(layer, attribute)]  # fmt: skip
    for attribute in ("kernel_size", "pool_size", "target_shape"):
        size = getattr(layer, attribute, None)
        if size:
            parts.append("x".join(map(str, size)))
    if hasattr(layer, "height_factor") and hasattr(layer, "width_factor"):  # a translation
        parts.append(f"{shift_pixels(layer):g} px")
    rate = getattr(layer, "rate", None)
    if isinstance(rate, (int, float)):
        parts.append(str(rate))
    activation = _activation(layer)
    if activation and activation != "linear":
        parts.append(activation)
    return f"{kind}({', '.join(parts)})" if parts else kind


def shift_pixels(layer) -> float:
    """How far a ``RandomTranslation`` moves a 28-pixel digit at most, in pixels."""
    factors = [layer.height_factor, layer.width_factor]
    values = [abs(v) for f in factors for v in (f if isinstance(f, (tuple, list)) else [f])]
    return round(28 * max(values), 6)


def describe(model) -> dict:
    """A Sequential ``model``'s layers by name; the hidden ones (not the output or the plumbing),
    by width when all Dense; their activation, the output's, the training shift, the weights;
    and ``xla``, ``model.jit_compile``: whether Keras runs its steps through the XLA compiler."""
    import keras

    layers = list(model.layers)
    output = layers[-1]
    hidden = [layer for layer in layers[:-1] if not isinstance(layer, _plumbing())]
    all_dense = all(isinstance(layer, keras.layers.Dense) for layer in hidden)
    activations = {_activation(layer) for layer in hidden} - {None, "linear"}
    shifts = [
        shift_pixels(layer) for layer in layers if isinstance(layer, keras.layers.RandomTranslation)
    ]
    return {
        "layers": [layer_name(layer) for layer in layers],
        "hidden_layers": [layer.units if all_dense else layer_name(layer) for layer in hidden],
        "hidden_activation": "/".join(sorted(activations)) or None,
        "output_activation": _activation(output),
        "shift_pixels": max(shifts, default=0),
        "parameters": model.count_params(),
        "xla": bool(model.jit_compile),
    }


def _shown(activation: str | None) -> str:
    """An activation's name as the lesson writes it: ReLU, sigmoid."""
    return {"relu": "ReLU"}.get(activation, str(activation))


def changed_groups(above: dict, rung: dict) -> list[str]:
    """The setting groups in which ``rung`` differs from the rung ``above`` it. Hidden layers
    come with an activation: adding them is one change, not two; XLA goes with a change."""
    groups = [group for group, keys in SETTING_GROUPS.items()
              if any(above.get(key) != rung.get(key) for key in keys)]  # fmt: skip
    if "hidden layers" in groups and not above.get("hidden_layers"):
        groups = [group for group in groups if group != "hidden activation"]
    # Keras chooses XLA per model, and a layer may opt out (RandomTranslation does): XLA is
    # the change only when nothing else changed.
    return [group for group in groups if group != "xla"] or groups


def change_label(above: dict, rung: dict) -> str:
    """What ``rung`` changes from the rung ``above``, in words; a rung that changes several
    things at once (a student's own model, say) is named by its layers."""
    groups = changed_groups(above, rung)
    if len(groups) != 1:
        return "a model of its own: " + ", ".join(rung["layers"])
    group = groups[0]
    if group == "output":
        loss = rung["loss"].replace("_crossentropy", " cross-entropy")
        return f"{rung['output_activation']} output, {loss}"
    if group == "hidden layers":
        widths = rung["hidden_layers"]
        if all(isinstance(width, int) for width in widths) and len(set(widths)) == 1:
            activation = _shown(rung["hidden_activation"])
            return f"{len(widths)} hidden layers of {widths[0]} {activation} units"
        return "hidden layers: " + ", ".join(map(str, widths))
    if group == "hidden activation":
        return (
            f"{_shown(rung['hidden_activation'])} instead of {_shown(above['hidden_activation'])}"
        )
    if group == "recipe":
        return f"{rung['epochs']} epochs, learning rate {rung['learning_rate']}"
    if group == "xla":
        return "XLA " + ("on" if rung["xla"] else "off")
    return f"digits shifted by up to {rung['shift_pixels']:g} pixel in training"


def weights_fingerprint(model) -> str:
    """A short fingerprint of all of ``model``'s weights: equal fingerprints, equal weights."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights, dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]
