"""``RandomShift``: every training digit moved by a few whole pixels, a different way each time.

The lesson applies it in front of a model while it trains, never inside the model it saves:
shifting digits is part of training, and a saved model made of Keras' own layers loads with
plain ``keras.saving.load_model``. Keras' ``RandomTranslation`` moves images too, by fractions
of a pixel through an image transform (which TensorFlow cannot compile with XLA) on 2-D images;
this layer moves flattened digits by whole pixels with padding, slicing and selection, plain
``keras.ops`` that every backend compiles.
"""

from __future__ import annotations

import keras
from keras import ops

SIDE = 28  # MNIST digits are 28x28 pixels, handed to the models as 784 numbers


class RandomShift(keras.layers.Layer):
    """Moves each flattened 28x28 digit by up to ``pixels`` pixels up or down and left or right,
    drawn at random per digit and axis; the uncovered border is background (0). By whole pixels,
    or with ``fractional=True`` by any amount in between, each pixel then mixing its two
    nearest neighbours (bilinear, as ``RandomTranslation`` does). Only in training: at
    inference the digits pass unchanged."""

    def __init__(
        self, pixels: int = 1, fractional: bool = False, seed: int | None = None, **kwargs
    ):
        super().__init__(**kwargs)
        self.pixels = pixels
        self.fractional = fractional
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or not self.pixels:
            return inputs
        images = ops.reshape(inputs, (-1, SIDE, SIDE))
        shape = (ops.shape(images)[0], 2, 1, 1)
        p = self.pixels
        if self.fractional:
            amounts = keras.random.uniform(shape, -p, p, seed=self.seed_generator)
        else:
            amounts = ops.cast(
                keras.random.randint(shape, -p, p + 1, seed=self.seed_generator), "float32"
            )
        images = self._move(images, amounts[:, 0], axis=1)
        images = self._move(images, amounts[:, 1], axis=2)
        return ops.reshape(images, (-1, SIDE * SIDE))

    def _move(self, images, amounts, axis: int):
        """Each image moved by its own amount along ``axis`` (rows or columns): the mix of its
        moves by the whole pixels below and above that amount."""
        p = self.pixels
        padding = [(0, 0), (0, 0), (0, 0)]
        padding[axis] = (p + 1, p + 1)
        padded = ops.pad(images, padding)

        def moved_by(whole_pixels):
            """Each image moved by its own whole number of pixels, -p to p + 1."""
            moved = ops.zeros_like(images)
            for move in range(-p, p + 2):
                start = p + 1 - move  # moving by +1 (down or right) reads one pixel earlier
                window = (
                    padded[:, start : start + SIDE, :]
                    if axis == 1
                    else padded[:, :, start : start + SIDE]
                )
                moved = ops.where(whole_pixels == move, window, moved)
            return moved

        below = ops.floor(amounts)
        low = moved_by(below)
        if not self.fractional:
            return low
        above_share = amounts - below
        return low + above_share * (moved_by(below + 1) - low)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = {"pixels": self.pixels, "fractional": self.fractional, "seed": self.seed}
        return {**super().get_config(), **config}
