"""The helpers behind the MNIST lesson, kept out of it so that its cells are about the models.

``data`` loads MNIST (a download, a keras-layout ``mnist.npz`` or a folder of IDX files), checks
it and identifies the standard dataset by content. ``runtime`` turns the lesson's parameter cell
and command line into settings, seeds every random generator, and writes each result atomically
into the output folder. ``plots`` draws the lesson's figures. ``handwriting`` prepares a photo of
a handwritten digit the way MNIST digits were made, for ``predict_digits.py`` and the drawing pad.
``drawing_pad`` builds the live drawing pad (one dependency-free HTML page with its script,
``drawing_pad.js``) from a trained model. None of them imports the lesson or the tools.
"""
