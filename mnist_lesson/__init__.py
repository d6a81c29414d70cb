"""Helpers for the chapters after the lesson (the lesson itself imports none of them).

One concern per module, each importing only the ones below it: ``data`` (MNIST from a local
``mnist.npz`` or Keras' download), ``reports`` (digits moved by a few pixels), ``plots`` (the
experiments chapter's larger figures). Importing them changes nothing and imports no Keras.
"""
