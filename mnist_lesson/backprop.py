"""What a stack of Dense layers computes, forwards and backwards, in plain NumPy.

The lesson measures two things inside its sigmoid and ReLU stacks: how much each hidden
layer's activations still differ from digit to digit (the forward signal), and how large the
gradient of the loss is for each layer's weights (the backward signal). Both follow directly
from the weights, so they are computed here from ``layer.get_weights()``, the same on every
Keras backend; the tests compare them with the backends' own automatic differentiation.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "linear": lambda z: z,
}


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def dense_layers(model) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(kernel, bias, activation) of each Dense layer of ``model``, input side first, in
    float64 so that the numbers below do not depend on rounding."""
    layers = []
    for layer in model.layers:
        if type(layer).__name__ != "Dense":
            raise ValueError(f"only Dense layers are supported, not {type(layer).__name__}")
        kernel, bias = layer.get_weights()
        activation = layer.activation.__name__
        layers.append((kernel.astype(np.float64), bias.astype(np.float64), activation))
    return layers


def forward(layers, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The activations of each hidden layer and the output layer's scores (its logits, before
    softmax) for the inputs ``x``."""
    activations, a = [], np.asarray(x, dtype=np.float64)
    for kernel, bias, activation in layers[:-1]:
        a = ACTIVATIONS[activation](a @ kernel + bias)
        activations.append(a)
    kernel, bias, _ = layers[-1]
    return activations, a @ kernel + bias


def activation_spread(model, x: np.ndarray) -> list[float]:
    """For each hidden layer, how much its units' activations differ from digit to digit: the
    standard deviation of each unit's activation over the digits in ``x``, averaged over the
    layer's units. Near 0, every digit reaches the layer as the same activations."""
    activations, _ = forward(dense_layers(model), x)
    return [float(a.std(axis=0).mean()) for a in activations]


def kernel_gradients(model, x: np.ndarray, targets: np.ndarray) -> list[np.ndarray]:
    """The gradient of the mean categorical cross-entropy over ``x`` with respect to each Dense
    layer's kernel, input side first, for a stack whose last layer is a softmax.

    Backpropagation: the output's error (softmax minus the one-hot target) travels back
    through each layer, multiplied by the layer's weights and by its activation's slope."""
    layers = dense_layers(model)
    if layers[-1][2] != "softmax":
        raise ValueError("the last layer must be a softmax")
    activations, logits = forward(layers, x)
    inputs = [np.asarray(x, dtype=np.float64), *activations]
    error = (_softmax(logits) - targets) / len(x)  # d loss / d logits
    gradients = []
    for index in range(len(layers) - 1, -1, -1):
        kernel, _, _ = layers[index]
        gradients.append(inputs[index].T @ error)
        if index:
            a, activation = activations[index - 1], layers[index - 1][2]
            slope = a * (1 - a) if activation == "sigmoid" else (a > 0).astype(np.float64)
            error = (error @ kernel.T) * slope
    return gradients[::-1]
