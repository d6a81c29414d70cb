"""The start of a lesson run, its settings and the folder its results go to, and its headings
in a terminal."""

from __future__ import annotations

from mnist_lesson.jupyter import in_notebook
from mnist_lesson.keras_setup import check_backend, tune_malloc
from mnist_lesson.output_folder import OutputFolder
from mnist_lesson.script_handlers import install_script_handlers
from mnist_lesson.settings import Settings, settings_from_command_line, settings_from_parameters


def start_lesson(**parameters) -> tuple[Settings, OutputFolder]:
    """This run's settings (the parameter cell's, under command-line options in a script) and
    its output folder. ``--help``, an option error, a missing backend or an unusable folder
    answers at once, before the data or Keras; in a script, Ctrl-C and errors are one line."""
    script = not in_notebook()
    settings = (settings_from_command_line if script else settings_from_parameters)(parameters)
    outputs = OutputFolder(settings.output_dir, show=settings.show, one_run=True)
    if script:
        install_script_handlers(outputs)
        if not settings.show:
            import matplotlib

            matplotlib.use("Agg")
    check_backend()
    outputs.check_writable()
    # glibc's malloc settings (keras_setup) act on what is allocated after them: set them before
    # the data loads, not only when Keras does.
    tune_malloc()
    return settings, outputs


def terminal_heading(*headings: str) -> None:
    """In a terminal, each heading printed before its section's output, so that a long log can
    be searched; in a notebook the markdown cell above is the heading: nothing is printed."""
    if in_notebook():
        return
    for heading in headings:
        rule = "=" if heading.startswith("Part ") else "-"
        print(f"\n{heading}\n{rule * len(heading)}", flush=True)
