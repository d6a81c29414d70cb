"""Digits moved by a few pixels (mnist_lesson.shifts.shifted), as the experiments chapter and
the exercises move them."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_lesson.shifts import shifted


def dots(count=8):
    """Images with one inked pixel each, in the middle."""
    images = np.zeros((count, 28, 28), dtype=np.float32)
    images[:, 14, 14] = 1
    return images


@pytest.mark.parametrize("pixels", [1, 2, 4])
def test_each_image_moves_down_up_right_left_in_turn(pixels):
    moved = shifted(dots(), pixels)
    expected = [(14 + pixels, 14), (14 - pixels, 14), (14, 14 + pixels), (14, 14 - pixels)]
    for index, image in enumerate(moved):
        assert image.sum() == 1
        assert tuple(np.argwhere(image)[0]) == expected[index % 4]


def test_no_move_changes_nothing_and_channel_axes_are_kept():
    images = np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32)
    assert np.array_equal(shifted(images, 0), images)
    moved = shifted(images, 3)
    assert moved.shape == images.shape and moved.dtype == images.dtype
    assert np.array_equal(moved[0, 3:, :, 0], images[0, :-3, :, 0])


def test_what_leaves_the_picture_is_lost_and_the_border_is_blank():
    images = np.ones((4, 28, 28), dtype=np.float32)
    moved = shifted(images, 2)
    assert moved[0, :2].sum() == 0 and moved[1, -2:].sum() == 0
    assert moved[2, :, :2].sum() == 0 and moved[3, :, -2:].sum() == 0
    assert all(image.sum() == 28 * 26 for image in moved)
