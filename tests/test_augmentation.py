"""RandomShift: each training digit moved by whole pixels, the same moves for the same seed, on
every backend (XLA compiles it)."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
to_numpy = keras.ops.convert_to_numpy

from mnist_lesson.augmentation import RandomShift  # noqa: E402


def blobs(count: int, seed: int = 0) -> np.ndarray:
    """Random ink well inside the field, so that a shift of a pixel loses nothing."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, 28, 28), np.float32)
    images[:, 6:22, 8:20] = rng.random((count, 16, 12), dtype=np.float32)
    return images


def moves_found(images: np.ndarray, shifted: np.ndarray, pixels: int) -> list[tuple[int, int]]:
    """For each image, the one (down, right) move that turns it into its shifted copy."""
    found = []
    span = range(-pixels, pixels + 1)
    for image, moved in zip(images, shifted):
        hits = [(dy, dx) for dy in span for dx in span
                if np.array_equal(np.roll(image, (dy, dx), axis=(0, 1)), moved)]  # fmt: skip
        assert len(hits) == 1, hits
        found.append(hits[0])
    return found


@pytest.mark.parametrize("pixels", [1, 2])
def test_each_digit_moves_by_whole_pixels_in_every_direction_alike(pixels):
    keras.utils.set_random_seed(0)
    images = blobs(3000)
    shifted = to_numpy(RandomShift(pixels)(images.reshape(-1, 784), training=True))
    moves = moves_found(images, shifted.reshape(-1, 28, 28), pixels)
    counts = np.zeros((2 * pixels + 1, 2 * pixels + 1))
    for dy, dx in moves:
        counts[dy + pixels, dx + pixels] += 1
    expected = len(images) / counts.size
    assert counts.min() > 0.75 * expected and counts.max() < 1.25 * expected, counts


def test_the_uncovered_border_is_background():
    images = np.ones((200, 28, 28), np.float32)  # ink everywhere: the moved-in edge shows
    shifted = to_numpy(RandomShift(1)(images.reshape(-1, 784), training=True)).reshape(-1, 28, 28)
    for moved in shifted:
        zero_rows = [row for row in (0, 27) if not moved[row].any()]
        zero_cols = [col for col in (0, 27) if not moved[:, col].any()]
        assert moved.sum() == (28 - len(zero_rows)) * (28 - len(zero_cols))


def test_digits_pass_unchanged_outside_training():
    images = blobs(10).reshape(-1, 784)
    assert np.array_equal(to_numpy(RandomShift(1)(images, training=False)), images)
    assert np.array_equal(to_numpy(RandomShift(1)(images)), images)


def test_xla_compiles_it_and_moves_the_same_way():
    import tensorflow as tf

    images = blobs(500, seed=3)
    layer = RandomShift(1, seed=7)
    compiled = tf.function(lambda x: layer(x, training=True), jit_compile=True)
    shifted = compiled(images.reshape(-1, 784)).numpy().reshape(-1, 28, 28)
    moves_found(images, shifted, 1)  # each one a whole-pixel move of its digit


def test_same_seed_same_moves():
    images = blobs(300, seed=4).reshape(-1, 784)
    first = to_numpy(RandomShift(1, seed=11)(images, training=True))
    second = to_numpy(RandomShift(1, seed=11)(images, training=True))
    other = to_numpy(RandomShift(1, seed=12)(images, training=True))
    assert np.array_equal(first, second) and not np.array_equal(first, other)


def test_a_fractional_shift_mixes_the_two_nearest_whole_pixel_moves():
    """fractional=True moves by any amount up to ``pixels``, as RandomTranslation's bilinear
    shift does: a lone pixel spreads over its neighbours, its ink kept and its centre moved by
    less than a pixel on each axis, by different amounts for different digits."""
    keras.utils.set_random_seed(1)
    images = np.zeros((400, 28, 28), np.float32)
    images[:, 13, 14] = 1.0
    shifted = to_numpy(RandomShift(1, fractional=True)(images.reshape(-1, 784), training=True))
    shifted = shifted.reshape(-1, 28, 28)
    assert np.allclose(shifted.sum(axis=(1, 2)), 1.0, atol=1e-5)
    rows, cols = np.indices((28, 28))
    moved_rows = (shifted * rows).sum(axis=(1, 2)) - 13
    moved_cols = (shifted * cols).sum(axis=(1, 2)) - 14
    for moved in (moved_rows, moved_cols):
        assert np.all(np.abs(moved) <= 1 + 1e-5)
        assert moved.min() < -0.8 and moved.max() > 0.8 and np.std(moved) > 0.4
        assert np.mean(np.abs(moved - np.round(moved)) > 0.05) > 0.5  # mostly between pixels
