"""The experiments chapter's backpropagation (section 2), taken from its own cell: its gradients
agree with finite differences of its own loss, for ReLU and sigmoid stacks. The chapter checks
them against Keras' SGD step on every run (tests/test_experiments.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

CHAPTER = Path(__file__).resolve().parent.parent / "experiments.py"
NAMES = {"sigmoid", "ACTIVATION", "SLOPE", "forward", "backward"}


@pytest.fixture(scope="module")
def chapter():
    """The chapter's functions and tables for backpropagation, run from its source."""
    tree = ast.parse(CHAPTER.read_text(encoding="utf-8"))
    wanted = []
    for node in tree.body:
        names = {node.name} if isinstance(node, ast.FunctionDef) else {
            target.id for target in getattr(node, "targets", []) if isinstance(target, ast.Name)
        }  # fmt: skip
        if names & NAMES:
            wanted.append(node)
    namespace = {"np": np}
    exec(compile(ast.Module(wanted, []), str(CHAPTER), "exec"), namespace)
    assert namespace.keys() >= NAMES
    return namespace


def stack(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(0, 0.5, (a, b)), rng.normal(0, 0.1, b)) for a, b in zip(sizes, sizes[1:])]


def loss(chapter, weights, activation, x, targets):
    scores = chapter["forward"](weights, activation, x)[-1]
    return -np.mean(np.log((scores * targets).sum(axis=1)))


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_gradients_match_finite_differences(chapter, activation):
    rng = np.random.default_rng(1)
    x = rng.random((8, 2, 3))  # flattened to 6 inputs, as the chapter flattens 28x28 digits
    targets = np.eye(4)[rng.integers(0, 4, 8)]
    weights = stack([6, 5, 5, 4])
    outputs = chapter["forward"](weights, activation, x)
    assert len(outputs) == len(weights) + 1
    assert np.allclose(outputs[-1].sum(axis=1), 1)
    gradients = chapter["backward"](weights, activation, outputs, targets)
    step = 1e-6
    for layer, (kernel, bias) in enumerate(weights):
        for array, gradient in ((kernel, gradients[layer][0]), (bias, gradients[layer][1])):
            assert gradient.shape == array.shape
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + step
                up = loss(chapter, weights, activation, x, targets)
                array[index] = saved - step
                down = loss(chapter, weights, activation, x, targets)
                array[index] = saved
                assert gradient[index] == pytest.approx((up - down) / (2 * step), abs=1e-6)


def test_a_wrong_slope_would_be_caught(chapter):
    """The comparison above can fail: a gradient that ignores the activation's slope differs."""
    rng = np.random.default_rng(2)
    x, targets = rng.random((8, 6)), np.eye(4)[rng.integers(0, 4, 8)]
    weights = stack([6, 5, 4], seed=3)
    outputs = chapter["forward"](weights, "sigmoid", x)
    right = chapter["backward"](weights, "sigmoid", outputs, targets)
    saved = chapter["SLOPE"]["sigmoid"]
    chapter["SLOPE"]["sigmoid"] = np.ones_like
    try:
        wrong = chapter["backward"](weights, "sigmoid", outputs, targets)
    finally:
        chapter["SLOPE"]["sigmoid"] = saved
    assert not np.allclose(right[0][0], wrong[0][0])
    assert np.allclose(right[1][0], wrong[1][0])  # the last layer needs no slope
