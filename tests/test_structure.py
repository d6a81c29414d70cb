"""The house rules a fork relies on: small helpers that import only downward, no process-level
tricks anywhere, public APIs only, CI apart from the user's venv, installed as the README says."""

from __future__ import annotations

import ast
import re

import pytest

from conftest import ROOT

HELPER_PACKAGES = ("mnist_lesson", "handwriting", "mnist_exercises")
HELPERS = sorted(path for package in HELPER_PACKAGES for path in (ROOT / package).glob("*.py"))
PROJECT_CODE = sorted(
    [
        *ROOT.glob("*.py"),
        *HELPERS,
        *(ROOT / "benchmarks").glob("*.py"),
        *(ROOT / "tests").glob("*.py"),
    ]
)
README = ROOT / "README.md"


def module_name(path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def helper_imports(path) -> set[str]:
    """The helper modules ``path`` imports, at the top or inside functions."""
    known = {module_name(helper) for helper in HELPERS}
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found - {module_name(path)}


def import_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports in ``graph``, or None."""
    done: set[str] = set()

    def visit(module, path):
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph.get(module, ())):
            circle = visit(imported, [*path, module])
            if circle:
                return circle
        done.add(module)
        return None

    for module in sorted(graph):
        circle = visit(module, [])
        if circle:
            return circle
    return None


def test_the_helpers_import_only_downward():
    graph = {module_name(path): helper_imports(path) for path in HELPERS}
    assert import_circle(graph) is None, " -> ".join(import_circle(graph))


def test_the_circle_check_finds_a_circle():
    assert import_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert import_circle({"a": {"b"}, "b": set()}) is None


def test_the_helpers_are_small():
    """At most 1,500 lines of Python in the helper packages together (issue #41)."""
    lines = sum(len(path.read_text().splitlines()) for path in HELPERS)
    assert lines <= 1500, lines


# Process-level tuning and tricks (issue #41): none anywhere in the project's code.
TRICKS = {
    "mallopt": r"\bmallopt\b",
    "ctypes": r"\bimport ctypes\b|\bfrom ctypes\b",
    "allocator variables": r"TF_ONEDNN_USE_SYSTEM_ALLOCATOR|MALLOC_ARENA|MALLOC_MMAP",
    "import interception": r"sys\.modules\[[^\]]+\]\s*=",
    "file-descriptor redirection": r"os\.dup2?\(",
    "warning formatting": r"warnings\.formatwarning\s*=",
    "hard exit": r"\bos\._exit\b",
    "traceback rendering": r"_render_traceback_",
}


@pytest.mark.parametrize("path", PROJECT_CODE, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_process_level_tricks(path):
    if path.name == "test_structure.py":
        return  # this file names them, to look for them
    text = path.read_text()
    found = [name for name, pattern in TRICKS.items() if re.search(pattern, text)]
    assert not found, found


def test_the_trick_patterns_match_the_tricks():
    samples = ["libc.mallopt(-8, 1)", "import ctypes", 'os.environ["MALLOC_ARENA_MAX"] = "2"',
               'sys.modules["jax"] = None', "os.dup2(fd, 2)", "warnings.formatwarning = short",
               "os._exit(1)", "def _render_traceback_(self):"]  # fmt: skip
    for sample, pattern in zip(samples, TRICKS.values()):
        assert re.search(pattern, sample), sample


def private_uses(path) -> list[str]:
    """Imports of TensorFlow's or Keras' internals, and private attributes read or set on an
    object other than the code's own (``self``, ``cls``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            modules = []
        found += [f"import {m}" for m in modules
                  if m.startswith(("tensorflow.python", "keras.src", "keras._"))]  # fmt: skip
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


@pytest.mark.parametrize("path", PROJECT_CODE, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_only_public_apis(path):
    if path.parent.name == "tests":
        return  # tests may look inside what they test
    assert private_uses(path) == []


def test_the_private_api_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from tensorflow.python.framework import config\nimport keras.src.trainers\n"
        "model._jit_compile = True\nprint(self._fine)\n"
    )
    assert private_uses(sample) == [
        "import tensorflow.python.framework", "import keras.src.trainers", "line 3: ._jit_compile",
    ]  # fmt: skip


def test_ci_builds_its_own_environment_from_the_readme():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = README.read_text()
    commands = [line for line in ci.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in commands if ".venv" in line], "never the user's virtual env"
    assert re.search(r'venv="\$\(mktemp -d', ci)
    install = re.search(r"pip install (-r requirements-dev\.txt)", readme).group(1)
    test_command = re.search(r"\.venv/bin/(python -m pytest)\b", readme).group(1)
    assert f'"$venv/bin/pip" install --quiet {install}' in ci
    assert f'"$venv/bin/{test_command.split()[0]}" {" ".join(test_command.split()[1:])}' in ci
