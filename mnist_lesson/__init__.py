"""The helpers behind the MNIST lesson, kept out of it so that its cells are about the models.

One concern per module, each importing only the ones below it: ``errors`` (one-line errors, how
paths print), ``jupyter`` (notebook or script), ``settings`` (parameter cell, command line),
``output_folder`` (whole files, one run at a time), ``script_handlers`` (Ctrl-C and errors in a
script), ``keras_setup`` (Keras without start-up chatter, seeds, what a result depends on),
``lesson`` (a run's start, terminal headings), ``data`` (MNIST, checked), ``architecture``
(what a model is made of, for the ladder), ``backprop`` (a Dense stack's signal and gradients
in NumPy), ``plots`` and ``reports`` (figures, tables, read-outs).

Importing any of them changes nothing (no environment variables, no umask) and imports no
Keras or TensorFlow. Beside the package: ``handwriting`` (Part 3: photos of digits prepared the
way MNIST digits were made, and the live drawing pad), ``mnist_exercises`` (the checks of
``exercises.ipynb``) and ``benchmarks/seed_results.py`` (the benchmarks' result files).
"""
