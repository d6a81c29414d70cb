"""The start of a lesson run: its settings and the folder its results go to."""

from __future__ import annotations

from mnist_lesson.jupyter import in_notebook
from mnist_lesson.output_folder import OutputFolder
from mnist_lesson.script_handlers import install_script_handlers
from mnist_lesson.settings import Settings, settings_from_command_line, settings_from_parameters


def start_lesson(**parameters) -> tuple[Settings, OutputFolder]:
    """Settings for this run and the folder its results go to.

    ``parameters`` are the lesson's parameter cell; run as a script, command-line options
    override them. Nothing slow happens here: ``--help``, an option error or an unusable output
    folder answers at once, before the data is read and before Keras is imported. In a script,
    Ctrl-C and the user's errors become one line each.
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
    return settings, outputs
