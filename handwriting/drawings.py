"""Digits drawn as on the drawing pad, to measure how well a model reads drawings: pen strokes
in a few shapes per digit, at a random size, place and slant, each point moved a little, drawn
on the pad's 280x280 white canvas with its round black pen."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

SIZE, PEN = 280, 18  # as in drawing_pad.js


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> list:
    turn = np.linspace(0, 2 * np.pi, 25)
    return list(zip(cx + rx * np.sin(turn), cy - ry * np.cos(turn)))


# Pen strokes for each digit, one or more shapes each, in a unit square (x right, y down).
DIGIT_STROKES = {
    0: [[_ellipse(0.5, 0.5, 0.27, 0.4)], [_ellipse(0.5, 0.5, 0.2, 0.42)]],
    1: [[[(0.4, 0.2), (0.52, 0.1), (0.52, 0.9)]], [[(0.5, 0.1), (0.48, 0.9)]]],
    2: [[[(0.25, 0.3), (0.35, 0.15), (0.55, 0.1), (0.72, 0.2), (0.72, 0.38), (0.25, 0.88),
          (0.78, 0.88)]]],
    3: [[[(0.25, 0.15), (0.55, 0.1), (0.72, 0.25), (0.6, 0.45), (0.42, 0.48), (0.62, 0.52),
          (0.75, 0.7), (0.6, 0.88), (0.25, 0.85)]]],
    4: [[[(0.45, 0.1), (0.22, 0.6), (0.8, 0.6)], [(0.62, 0.35), (0.62, 0.9)]],
        [[(0.3, 0.1), (0.28, 0.55), (0.75, 0.55)], [(0.7, 0.1), (0.7, 0.9)]]],
    5: [[[(0.72, 0.12), (0.32, 0.12), (0.28, 0.45), (0.55, 0.4), (0.72, 0.55), (0.7, 0.78),
          (0.5, 0.9), (0.25, 0.82)]]],
    6: [[[(0.65, 0.1), (0.4, 0.35), (0.28, 0.65), (0.38, 0.88), (0.6, 0.88), (0.7, 0.68),
          (0.55, 0.52), (0.3, 0.6)]]],
    7: [[[(0.22, 0.12), (0.78, 0.12), (0.45, 0.9)]],
        [[(0.22, 0.12), (0.78, 0.12), (0.45, 0.9)], [(0.38, 0.5), (0.72, 0.5)]]],
    8: [[[(0.7, 0.2), (0.5, 0.1), (0.3, 0.2), (0.35, 0.38), (0.65, 0.58), (0.7, 0.78),
          (0.5, 0.9), (0.3, 0.78), (0.35, 0.58), (0.65, 0.38), (0.7, 0.2)]]],
    9: [[[(0.7, 0.3), (0.5, 0.45), (0.3, 0.35), (0.35, 0.15), (0.55, 0.1), (0.7, 0.2),
          (0.7, 0.5), (0.65, 0.9)]],
        [_ellipse(0.5, 0.28, 0.2, 0.18), [(0.7, 0.28), (0.7, 0.9)]]],
}  # fmt: skip


def digit_strokes(digit: int, rng: np.random.Generator, jitter: float = 0.035) -> list:
    """One of ``digit``'s shapes, placed at random: strokes of (x, y) in a unit square."""
    shapes = DIGIT_STROKES[digit]
    shape = shapes[int(rng.integers(len(shapes)))]
    size = rng.uniform(0.3, 0.95)
    left, top = rng.uniform(0.02, 0.98 - size, 2)
    slant = rng.uniform(-0.4, 0.4)  # x moves by this much per unit of height above the middle
    return [
        [
            (
                left + size * (x + slant * (0.5 - y) + rng.normal(0, jitter)),
                top + size * (y + rng.normal(0, jitter)),
            )
            for x, y in points
        ]
        for points in shape
    ]


def draw(strokes: list) -> np.ndarray:
    """``strokes`` drawn as the pad draws them: brightness in [0, 1], 280x280, 0 for ink."""
    canvas = Image.new("L", (SIZE, SIZE), 255)
    pen = ImageDraw.Draw(canvas)
    for points in strokes:
        xy = [(x * SIZE, y * SIZE) for x, y in points]
        pen.line(xy, fill=0, width=PEN, joint="curve")
        for x, y in (xy[0], xy[-1]):  # round ends
            pen.ellipse((x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2), fill=0)
    return np.asarray(canvas, dtype=np.float32) / 255


def drawn_digits(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` drawings (brightness, count x 280 x 280) and their digits, 0 to 9 in turn."""
    rng = np.random.default_rng(seed)
    digits = np.arange(count) % 10
    return np.stack([draw(digit_strokes(int(d), rng)) for d in digits]), digits
