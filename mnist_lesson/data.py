"""MNIST for the chapters, the exercises and the tools: the lesson's loading cell as a function.

A local ``mnist.npz`` in the layout of Keras' own copy, or Keras' download when no path is given.
"""

from __future__ import annotations

import numpy as np

ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")


def load_mnist(path=None):
    """``(x_train, y_train), (x_test, y_test)``, as ``keras.datasets.mnist.load_data()`` gives
    them: uint8 images of 28×28 pixels and their digits. ``path``: a local ``mnist.npz``; None
    lets Keras download MNIST (or reuse its copy). A file that is not MNIST raises ValueError."""
    if path is None:
        import keras

        return keras.datasets.mnist.load_data()
    try:
        with np.load(path) as mnist:
            x_train, y_train, x_test, y_test = (mnist[name] for name in ARRAY_NAMES)
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path} is not a readable mnist.npz: {error}") from None
    for images, digits in ((x_train, y_train), (x_test, y_test)):
        if (
            images.shape[1:] != (28, 28)
            or len(images) != len(digits)
            or not np.isin(digits, range(10)).all()
        ):
            raise ValueError(f"{path} does not hold MNIST: 28×28 images of the digits 0-9")
    return (x_train, y_train), (x_test, y_test)
