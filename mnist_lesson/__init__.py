"""The helpers behind the MNIST lesson, kept out of it so that its cells are about the models.

One concern per module, each importing only the ones below it (``errors`` at the bottom):

- ``errors``: the one base class for bad input said in one line, and how paths and errors print;
- ``jupyter``: whether the lesson runs in a notebook or a script;
- ``settings``: the parameter cell and the command line, read before anything heavy;
- ``output_folder``: every result written whole, one run's files at a time;
- ``script_handlers``: Ctrl-C and the user's errors as one line in a script;
- ``keras_setup``: Keras and its backend imported quietly, seeds, what a result depends on;
- ``lesson``: the start of a run, putting the above together;
- ``training_log``: a line per model and epoch while models train;
- ``augmentation``: ``RandomShift``, the whole-pixel shifts of the deep model's training digits;
- ``architecture``: what a model is made of and what changed between two, for the ladder;
- ``backprop``: the forward signal and the gradients of a Dense stack, in NumPy;
- ``benchmark_results``: what the benchmarks measured over seeds, read for the lesson;
- ``data``: MNIST from a download, a keras-layout ``mnist.npz`` or IDX files, checked;
- ``handwriting``: a photo of a digit prepared the way MNIST digits were made;
- ``plots`` and ``reports``: the lesson's figures, tables and read-outs;
- ``drawing_pad``: the live drawing pad (``drawing_pad.js``) built from trained models.

Importing any of them changes nothing (no environment variables, no umask) and imports no
Keras or TensorFlow, except ``augmentation``, which defines a Keras layer.
"""
