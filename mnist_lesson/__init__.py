"""Helpers for the chapters after the lesson (the lesson itself imports none of them).

One concern per module, each importing only the ones below it: ``data`` (MNIST from a local
``mnist.npz`` or Keras' download), then the experiments chapter's own helpers. Importing any of
them changes nothing and imports no Keras or TensorFlow.
"""
