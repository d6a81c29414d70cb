"""What a model is made of, read off the model itself: for tables that must not drift from it."""

from __future__ import annotations


def describe(model) -> dict:
    """The hidden Dense layers (their widths and activation), the output activation, the
    random shift applied in training, and the number of weights of a Sequential ``model``."""
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    hidden, output = dense[:-1], dense[-1]
    hidden_activations = {layer.activation.__name__ for layer in hidden}
    shifts = [layer.pixels for layer in model.layers if type(layer).__name__ == "RandomShift"]
    return {
        "hidden_layers": [layer.units for layer in hidden],
        "hidden_activation": "/".join(sorted(hidden_activations)) or None,
        "output_activation": output.activation.__name__,
        "shift_pixels": max(shifts, default=0),
        "parameters": model.count_params(),
    }
