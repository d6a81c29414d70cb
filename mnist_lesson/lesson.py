"""The start of a lesson run: settings, output folder, quiet TensorFlow, seeds."""

from __future__ import annotations

from mnist_lesson.jupyter import in_notebook
from mnist_lesson.output_folder import OutputFolder
from mnist_lesson.script_handlers import install_script_handlers
from mnist_lesson.settings import Settings, settings_from_command_line, settings_from_parameters
from mnist_lesson.tensorflow_setup import import_tensorflow_quietly, make_reproducible


def start_lesson(**parameters) -> tuple[Settings, OutputFolder]:
    """Settings for this run and the folder its results go to.

    ``parameters`` are the lesson's parameter cell; run as a script, command-line options
    override them (read before anything heavy is imported, so ``--help`` answers at once).
    Before returning, the output folder is checked (so a bad one fails before any training),
    TensorFlow is imported quietly, and every random generator is seeded with TensorFlow's ops
    made deterministic: the same seed gives the same numbers on the same machine and library
    versions. In a script, Ctrl-C and the user's errors become one line each.
    """
    script = not in_notebook()
    if script:
        settings = settings_from_command_line(parameters)
    else:
        settings = settings_from_parameters(parameters)
    outputs = OutputFolder(settings.output_dir, show=settings.show, one_run=True)
    if script:
        install_script_handlers(outputs)
        if not settings.show:
            import matplotlib

            matplotlib.use("Agg")
    outputs.check_writable()
    tf = import_tensorflow_quietly()
    make_reproducible(settings.seed)
    import keras

    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, seed {settings.seed}")
    return settings, outputs
