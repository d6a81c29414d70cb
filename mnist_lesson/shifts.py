"""Digits moved by a few pixels, for the experiments chapter and the exercises."""

from __future__ import annotations

import numpy as np


def shifted(images: np.ndarray, pixels: int) -> np.ndarray:
    """Images (N x 28 x 28, or N x 28 x 28 x 1) each moved by ``pixels``: image i goes down,
    up, right or left, by i mod 4. What leaves the picture is lost; what it uncovers is blank."""
    images = np.asarray(images)
    pad = [(0, 0), (pixels, pixels), (pixels, pixels)] + [(0, 0)] * (images.ndim - 3)
    padded = np.pad(images, pad)
    moved = np.empty_like(images)
    for direction, (down, right) in enumerate([(1, 0), (-1, 0), (0, 1), (0, -1)]):
        top, left = pixels - down * pixels, pixels - right * pixels
        moved[direction::4] = padded[direction::4, top : top + 28, left : left + 28]
    return moved
