"""Shared helpers for tests that drive a real Chromium (Playwright) or a real JupyterLab.

The browser is the system's Chromium ($CHROMIUM_PATH, else ``chromium`` or ``chromium-browser``
on the PATH): ``playwright install`` needs the internet. Without one the tests skip, unless $CI
is set or BROWSER_REQUIRED=1, where they fail.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from handwriting.drawings import DIGIT_STROKES

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def missing(message: str):
    """Skip, or fail where a browser is required (CI)."""
    if os.environ.get("CI") or os.environ.get("BROWSER_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    path = path or shutil.which("chromium-browser")
    if not path or not Path(path).exists():
        missing("no Chromium found: install it (apt-get install chromium) or set CHROMIUM_PATH")
    return path


# Chromium puts a Unix socket (its SingletonSocket) in a folder under TMPDIR, and a socket's
# path may be at most 107 bytes: under a long TMPDIR it dies at launch. It then gets a short
# temporary folder of its own, so that the tests run under any TMPDIR.
SHORT_ENOUGH_FOR_A_SOCKET = 60


@contextlib.contextmanager
def chromium_environment() -> Iterator[dict]:
    """The environment to start Chromium with: this one, with a short TMPDIR if need be."""
    if len(tempfile.gettempdir()) <= SHORT_ENOUGH_FOR_A_SOCKET:
        yield dict(os.environ)
        return
    short = tempfile.mkdtemp(prefix="chromium-", dir="/tmp" if os.path.isdir("/tmp") else None)
    try:
        yield {**os.environ, "TMPDIR": short}
    finally:
        shutil.rmtree(short, ignore_errors=True)


@contextlib.contextmanager
def launch_chromium() -> Iterator:
    """A headless Chromium (Playwright Browser), closed at the end."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed: pip install -r requirements-dev.txt")
    path = chromium_path()
    with sync_playwright() as playwright, chromium_environment() as env:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, env=env)
        try:
            yield browser
        finally:
            browser.close()


def offline(page, allowed: str) -> list[str]:
    """Let ``page`` load only the URL ``allowed`` (and data: URLs); record and abort anything
    else. Returns the list of refused URLs, for the test to assert it stays empty."""
    refused: list[str] = []

    def handle(route):
        url = route.request.url
        if url == allowed or url.startswith("data:"):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    page.route("**/*", handle)
    return refused


def uint8_base64(images: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(images, dtype=np.uint8).tobytes()).decode()


def predict_in_page(page, digits) -> np.ndarray:
    """``digitPad.predict`` on each row of ``digits`` (n x 784 uint8), in one round trip: the
    bytes travel as base64, which keeps ``page.evaluate`` fast for thousands of digits."""
    return np.array(
        page.evaluate(
            """(data) => {
                const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
                const out = [];
                for (let i = 0; i < bytes.length; i += 784)
                    out.push(digitPad.predict(bytes.subarray(i, i + 784)));
                return out;
            }""",
            uint8_base64(digits),
        )
    )


def console_errors(page, uncaught_only: bool = False) -> list[str]:
    """JavaScript errors on ``page`` (uncaught exceptions, and console errors unless
    ``uncaught_only``), collected as they happen, for the test to assert."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error}\n{error.stack}"))
    if not uncaught_only:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def start_jupyterlab(root_dir: Path, timeout: float = 120) -> Iterator[str]:
    """A headless JupyterLab serving ``root_dir``; yields its base URL with the token
    (``http://127.0.0.1:PORT/lab?token=...`` without the ``/lab``). Killed at the end even when
    the test fails. The repository is on PYTHONPATH so that kernels import mnist_lesson."""
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(root_dir / f".{name.lower()}")  # not the user's settings and layouts
    # No "Would you like to get notified about Jupyter news?" toast over the notebook.
    notification = root_dir / ".jupyterlab_settings_dir/@jupyterlab/apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}'
    )
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    log = (root_dir / "jupyterlab.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root_dir}",
         "--ServerApp.open_browser=False", *as_root],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root_dir,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        "JupyterLab did not start: "
                        + (root_dir / "jupyterlab.log").read_text()[-2000:]
                    ) from None
                time.sleep(0.5)
        yield f"{base}?token={token}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def lab_url(server: str, path: str) -> str:
    """The JupyterLab URL that opens the notebook at ``path`` (relative to the server root)."""
    base, _, query = server.partition("?")
    return f"{base}/lab/tree/{path}?{query}"


def open_notebook(page, server: str, path: str, timeout: float = 90_000) -> None:
    """Open the notebook at ``path`` in JupyterLab and wait until its cells and kernel are ready."""
    page.goto(lab_url(server, path), timeout=timeout)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout)
    wait_for_idle_kernel(page, timeout)


def wait_for_idle_kernel(page, timeout: float = 90_000) -> None:
    """Wait until the notebook's kernel reports idle (the toolbar's kernel status)."""
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const status = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
            return status && status.getAttribute('data-status') === 'idle';
        }""",
        timeout=timeout,
    )


def run_all(page, timeout: float = 120_000) -> None:
    """Run every cell through the Run menu (Run All Cells) and wait until all have run: the
    prompts show [*] while cells run or wait (a saved notebook's prompts already show numbers,
    so those prove nothing), then the kernel is idle."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").first.click()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells").first.click()
    running = """() => [...document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputArea-prompt')]
        .some(prompt => prompt.textContent.includes('*'))"""
    with contextlib.suppress(PlaywrightTimeoutError):  # a very quick notebook may be done already
        page.wait_for_function(running, timeout=10_000)
    page.wait_for_function(f"() => !({running})()", timeout=timeout)
    wait_for_idle_kernel(page, timeout)


def stroke(mouse, points, steps: int = 4) -> None:
    """A pen stroke through ``points`` (page coordinates): down, many small moves, up."""
    mouse.move(*points[0])
    mouse.down()
    for point in points[1:]:
        mouse.move(*point, steps=steps)
    mouse.up()


def digit_strokes(digit: int, box: dict, rng, jitter: float = 0.02) -> list[list[tuple]]:
    """``digit``'s first shape in ``DIGIT_STROKES`` placed in a random part of ``box`` (a
    Playwright bounding box), each point moved a little: page coordinates for ``stroke``."""
    size = rng.uniform(0.55, 0.9)
    left, top = rng.uniform(0.02, 0.98 - size, 2)
    return [
        [
            (
                box["x"] + box["width"] * (left + size * (x + rng.normal(0, jitter))),
                box["y"] + box["height"] * (top + size * (y + rng.normal(0, jitter))),
            )
            for x, y in points
        ]
        for points in DIGIT_STROKES[digit][0]
    ]


@functools.cache
def trained_model(
    mnist_path: str, hidden: tuple[int, ...] = (64,), examples: int = 10_000, name: str = "deep"
):
    """A Dense model (784-hidden-10, relu, softmax) trained for one epoch on the first
    ``examples`` training digits: seconds, and good enough to read drawn digits."""
    import keras

    from mnist_lesson.data import load_mnist

    (x_train, y_train), _ = load_mnist(mnist_path)
    keras.utils.set_random_seed(0)
    layers = [keras.Input((784,))]
    for units in hidden:
        layers += [keras.layers.Dense(units, "relu"), keras.layers.Dropout(0.2)]
    model = keras.Sequential([*layers, keras.layers.Dense(10, "softmax")], name=name)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = x_train[:examples].reshape(-1, 784).astype("float32") / 255
    model.fit(x, y_train[:examples], batch_size=128, epochs=1, verbose=0)
    return model


@functools.cache
def trained_simple_model(mnist_path: str, examples: int = 10_000):
    """The lesson's simple model (784-10, ten sigmoid yes/no outputs, named "simple"), trained
    for one epoch on the first ``examples`` training digits."""
    import keras

    from mnist_lesson.data import load_mnist

    (x_train, y_train), _ = load_mnist(mnist_path)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(10, "sigmoid")], name="simple"
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    x = x_train[:examples].reshape(-1, 784).astype("float32") / 255
    targets = np.eye(10, dtype="float32")[y_train[:examples]]
    model.fit(x, targets, batch_size=128, epochs=1, verbose=0)
    return model


def inspect_in_page(page, digits, chunk: int = 250) -> dict:
    """``digitPad.inspect`` on each row of ``digits`` (n x 784 uint8), as numpy arrays:
    ``{models: {name: {outputs: n x 10}}, hidden: [n x units], saliency: n x 784, digit: n}``
    (as ``DrawingPad.inspect`` gives them). The numbers
    travel back as base64 float32 (exact enough for tolerances of 1e-6 relative), in chunks."""
    parts = []
    for start in range(0, len(digits), chunk):
        parts.append(
            page.evaluate(
                """(data) => {
                    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
                    const results = [];
                    for (let i = 0; i < bytes.length; i += 784)
                        results.push(digitPad.inspect(bytes.subarray(i, i + 784)));
                    const names = Object.keys(results[0].models);
                    const values = [];
                    for (const r of results) {
                        for (const name of names) values.push(...r.models[name].outputs);
                        for (const layer of r.hidden) values.push(...layer);
                        values.push(...r.saliency, r.digit);
                    }
                    const packed = new Uint8Array(Float32Array.from(values).buffer);
                    let text = "";
                    for (let i = 0; i < packed.length; i += 0x8000)
                        text += String.fromCharCode(...packed.subarray(i, i + 0x8000));
                    return {names, units: results[0].hidden.map(h => h.length),
                            values: btoa(text)};
                }""",
                uint8_base64(digits[start : start + chunk]),
            )
        )
    names, units = parts[0]["names"], parts[0]["units"]
    widths = [10] * len(names) + units + [784, 1]
    rows = np.concatenate(
        [
            np.frombuffer(base64.b64decode(part["values"]), "<f4").reshape(-1, sum(widths))
            for part in parts
        ]
    ).astype(np.float64)
    columns = np.split(rows, np.cumsum(widths)[:-1], axis=1)
    return {
        "models": {name: {"outputs": values} for name, values in zip(names, columns)},
        "hidden": columns[len(names) : len(names) + len(units)],
        "saliency": columns[-2],
        "digit": columns[-1][:, 0].astype(int),
    }


def keras_reference(model, x: np.ndarray, digits: np.ndarray) -> dict:
    """What Keras computes for ``model`` on ``x`` (n x 784 in [0, 1]): its outputs, each hidden
    Dense layer's output (after the activation), and with ``tf.GradientTape`` the gradient of
    the logit (the last Dense layer before its activation) of ``digits`` with respect to x."""
    import keras
    import tensorflow as tf

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    inputs = tf.constant(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        hidden, h = [], inputs
        for layer in dense[:-1]:
            h = layer(h)
            hidden.append(h)
        logits = keras.ops.matmul(h, dense[-1].kernel) + dense[-1].bias
        chosen = tf.gather(logits, tf.constant(digits), axis=1, batch_dims=1)
    gradient = tape.gradient(chosen, inputs)
    return {
        "outputs": np.asarray(
            model(tf.reshape(inputs, (-1, *model.input_shape[1:])), training=False)
        ),
        "hidden": [np.asarray(values) for values in hidden],
        "saliency": np.asarray(gradient),
    }


def agreement(page_values: dict, keras_values: dict) -> dict:
    """How close the page is to Keras for one model: the largest output difference, the largest
    hidden-layer difference (absolute, and relative to the layer's largest value for that
    digit), whether every hidden value is within 1e-4 absolute or 1e-5 relative, and the
    smallest cosine similarity between the two saliency maps, with how many are below 0.999."""
    hidden_abs, hidden_rel, hidden_ok = 0.0, 0.0, True
    for ours, theirs in zip(page_values["hidden"], keras_values["hidden"]):
        difference = np.abs(ours - theirs)
        largest = np.abs(theirs).max(axis=1, keepdims=True)
        relative = difference / np.maximum(largest, 1e-30)
        hidden_abs = max(hidden_abs, float(difference.max()))
        hidden_rel = max(hidden_rel, float(relative.max()))
        hidden_ok &= bool(np.all((difference <= 1e-4) | (relative <= 1e-5)))
    a, b = page_values["saliency"], keras_values["saliency"]
    cosine = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {
        "outputs": float(np.abs(page_values["outputs"] - keras_values["outputs"]).max()),
        "same_answer": float(
            np.mean(page_values["outputs"].argmax(1) == keras_values["outputs"].argmax(1))
        ),
        "hidden_absolute": hidden_abs,
        "hidden_relative": hidden_rel,
        "hidden_within_targets": hidden_ok,
        "saliency_cosine_min": float(cosine.min()),
        "saliency_cosine_below_0_999": int((cosine < 0.999).sum()),
    }
