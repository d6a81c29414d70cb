"""Whether the lesson runs in a Jupyter kernel (its parameter cell holds the settings, figures
show inline) or as a script (the command line holds them, figures are saved only)."""

from __future__ import annotations

import sys


def in_notebook() -> bool:
    """True inside a Jupyter kernel; False in a script or a terminal IPython."""
    ipython = sys.modules.get("IPython")  # never imported here: only a kernel would have it
    shell = ipython.get_ipython() if ipython else None
    return shell is not None and hasattr(shell, "kernel")  # a terminal IPython has no kernel
