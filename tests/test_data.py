"""Loading MNIST from an .npz or an IDX folder, and every way a file can be wrong."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import struct
import zipfile

import numpy as np
import pytest

from conftest import assert_clean_failure, idx_bytes, run_lesson, write_idx_folder
from mnist_lesson import data
from mnist_lesson.data import (
    IDX_FILE_NAMES,
    DataError,
    Mnist,
    NotStandardMnistWarning,
    is_standard_mnist,
    load_mnist,
    read_idx,
)


def small_arrays(n_train=24, n_test=12, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }


def write_npz(path, arrays, compressed=True):
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


# --- the real data ----------------------------------------------------------------------------


def test_real_npz_is_recognised_as_standard_mnist(mnist_path):
    mnist = load_mnist(mnist_path)
    assert mnist.standard
    assert mnist.x_train.shape == (60_000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.x_test.shape == (10_000, 28, 28)
    assert np.bincount(mnist.y_train).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949
    ]  # fmt: skip


def test_idx_folder_and_npz_give_identical_arrays(mnist_path, mnist_idx_dir, tmp_path):
    from_npz = load_mnist(mnist_path)
    from_idx = load_mnist(mnist_idx_dir)
    assert from_idx.standard
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(from_npz, name), getattr(from_idx, name))
    # The same files uncompressed load to the same arrays too.
    plain = tmp_path / "plain"
    plain.mkdir()
    for gz in mnist_idx_dir.glob("*.gz"):
        with gzip.open(gz) as source, open(plain / gz.stem, "wb") as target:
            shutil.copyfileobj(source, target)
    np.testing.assert_array_equal(load_mnist(plain).x_test, from_npz.x_test)


def test_mnist_path_environment_variable_is_used(mnist_path, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(mnist_path))
    assert load_mnist().source == str(mnist_path)


def test_standard_content_is_identified_whatever_the_container(mnist_path, tmp_path):
    mnist = load_mnist(mnist_path)
    arrays = {name: getattr(mnist, name) for name in ("x_train", "y_train", "x_test", "y_test")}
    # Other container bytes (uncompressed, int64 labels) but the same content.
    relabelled = dict(arrays, y_test=arrays["y_test"].astype(np.int64))
    assert load_mnist(write_npz(tmp_path / "other.npz", relabelled, compressed=False)).standard
    changed = dict(arrays, x_test=arrays["x_test"].copy())
    changed["x_test"][0, 0, 0] ^= 1
    assert not is_standard_mnist(changed)


def test_other_valid_data_is_accepted_but_not_called_standard(tmp_path):
    with pytest.warns(NotStandardMnistWarning, match="not the standard MNIST"):
        mnist = load_mnist(write_npz(tmp_path / "small.npz", small_arrays()))
    assert isinstance(mnist, Mnist) and not mnist.standard
    assert mnist.x_train.shape == (24, 28, 28) and mnist.y_test.dtype == np.uint8


@pytest.mark.slow
def test_lesson_runs_on_other_valid_data_with_a_warning(mnist_path, tmp_path):
    mnist = load_mnist(mnist_path)
    subset = {"x_train": mnist.x_train[:1200], "y_train": mnist.y_train[:1200]}
    subset |= {"x_test": mnist.x_test[:300], "y_test": mnist.y_test[:300]}
    path = write_npz(tmp_path / "my_digits.npz", subset)
    result = run_lesson("--quick", "--data", path, "--output-dir", tmp_path / "out", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "not the standard MNIST" in result.stderr
    assert "(not the standard MNIST)" in result.stdout
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["dataset"]["standard_mnist"] is False
    assert metrics["dataset"]["n_test"] == 300


def test_small_idx_folder_round_trips(tmp_path):
    arrays = small_arrays()
    for gzipped in (False, True):
        mnist = load_mnist(write_idx_folder(tmp_path / f"idx{gzipped}", arrays, gzipped))
        np.testing.assert_array_equal(mnist.x_train, arrays["x_train"])
        np.testing.assert_array_equal(mnist.y_test, arrays["y_test"])


# --- bad data ---------------------------------------------------------------------------------


def html_page(path):
    path.write_text("<!DOCTYPE html><html><body>Error 403 (Forbidden)</body></html>")
    return path


def truncated_npz(path):
    write_npz(path, small_arrays(), compressed=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def pickled_npz(path):
    arrays = small_arrays()
    arrays["y_train"] = np.array([{"label": 1}] * 24, dtype=object)
    np.savez(path, **arrays)
    return path


def npz_with(path, **changes):
    return write_npz(path, small_arrays() | changes)


def idx_folder_with(folder, name, data: bytes):
    write_idx_folder(folder, small_arrays())
    (folder / IDX_FILE_NAMES[name]).write_bytes(data)
    return folder


def gzipped_idx_folder_with(folder, name, data: bytes):
    write_idx_folder(folder, small_arrays(), gzipped=True)
    (folder / f"{IDX_FILE_NAMES[name]}.gz").write_bytes(gzip.compress(data))
    return folder


def forged_header(folder):
    """An image file whose header declares a million digits but holds a few bytes."""
    header = struct.pack(">BBBBIII", 0, 0, 8, 3, 1_000_000, 28, 28)
    return idx_folder_with(folder, "x_train", header + b"\x00" * 100)


def truncated_gzip_idx(folder):
    write_idx_folder(folder, small_arrays(), gzipped=True)
    path = folder / (IDX_FILE_NAMES["x_test"] + ".gz")
    path.write_bytes(path.read_bytes()[:-40])
    return folder


BAD_DATA = {
    "empty file": (lambda tmp: (tmp / "mnist.npz").touch() or tmp / "mnist.npz", "empty"),
    "html error page": (lambda tmp: html_page(tmp / "mnist.npz"), "html"),
    "truncated npz": (lambda tmp: truncated_npz(tmp / "mnist.npz"), "truncated .npz"),
    "pickled objects": (lambda tmp: pickled_npz(tmp / "mnist.npz"), "object"),
    "missing array": (
        lambda tmp: write_npz(tmp / "mnist.npz", {"x_train": small_arrays()["x_train"]}),
        "missing y_train",
    ),
    "wrong image shape": (
        lambda tmp: npz_with(tmp / "mnist.npz", x_train=np.zeros((24, 32, 32), np.uint8)),
        "expected (N, 28, 28)",
    ),
    "wrong image dtype": (
        lambda tmp: npz_with(tmp / "mnist.npz", x_test=np.zeros((12, 28, 28), np.float32)),
        "uint8",
    ),
    "label out of range": (
        lambda tmp: npz_with(tmp / "mnist.npz", y_test=np.full(12, 11, np.uint8)),
        "expected digits 0-9",
    ),
    "count mismatch": (
        lambda tmp: npz_with(tmp / "mnist.npz", y_train=np.zeros(23, np.uint8)),
        "24 train images but 23 train labels",
    ),
    "idx missing file": (
        lambda tmp: (tmp / "idx").mkdir() or tmp / "idx",
        "missing train-images-idx3-ubyte",
    ),
    "idx bad magic": (
        lambda tmp: idx_folder_with(tmp / "idx", "y_train", b"GIF89a" + b"\x00" * 40),
        "bad magic number",
    ),
    "idx forged size": (lambda tmp: forged_header(tmp / "idx"), "declares"),
    "idx truncated gzip": (lambda tmp: truncated_gzip_idx(tmp / "idx"), "t10k-images"),
    "idx not bytes": (
        lambda tmp: idx_folder_with(
            tmp / "idx", "y_test", bytes([0, 0, 0x0D, 1]) + (12).to_bytes(4, "big") + bytes(48)
        ),
        "IDX data type 0x0d",
    ),
    "idx trailing data": (  # gzipped, so the stored size says nothing about the content's
        lambda tmp: gzipped_idx_folder_with(
            tmp / "idx", "y_test", idx_bytes(np.zeros(12, np.uint8)) + b"!"
        ),
        "unexpected data after",
    ),
    "no test images": (
        lambda tmp: npz_with(
            tmp / "mnist.npz", x_test=np.zeros((0, 28, 28), np.uint8), y_test=np.zeros(0, np.uint8)
        ),
        "x_test holds no images",
    ),
    "idx label out of range": (
        lambda tmp: idx_folder_with(tmp / "idx", "y_test", idx_bytes(np.full(12, 200, np.uint8))),
        "expected digits 0-9",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data_raises_a_one_line_data_error(case, tmp_path):
    make, fragment = BAD_DATA[case]
    path = make(tmp_path)
    with pytest.raises(DataError) as caught:
        load_mnist(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert fragment.lower() in message.lower()


@pytest.mark.parametrize("case", ["html error page", "pickled objects", "idx forged size"])
def test_bad_data_on_the_command_line_is_one_clean_line(case, tmp_path):
    make, fragment = BAD_DATA[case]
    path = make(tmp_path)
    result = run_lesson("--quick", "--data", path, "--output-dir", tmp_path / "out", timeout=300)
    assert result.returncode == 1
    assert_clean_failure(result, "error:", fragment, str(path))
    # Short enough to read at a glance; the user's own path, however long, is not the message's.
    assert len(result.stderr.strip().replace(str(path), "PATH")) <= 200, result.stderr
    assert not (tmp_path / "out").exists(), "a run that saved nothing leaves no output folder"


def test_html_page_passed_as_data_says_how_to_get_a_good_file(tmp_path):
    """The user passed --data: telling them to pass --data would not help."""
    path = html_page(tmp_path / "mnist.npz")
    with pytest.raises(DataError) as caught:
        load_mnist(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: an HTML page")
    assert len(message.replace(str(path), "PATH")) <= 200
    assert "download" in message and "--data" not in message


def test_failed_run_keeps_an_existing_output_folder_untouched(tmp_path):
    output_dir = tmp_path / "mine"
    output_dir.mkdir()
    (output_dir / "notes.txt").write_text("keep me")
    path = html_page(tmp_path / "mnist.npz")
    result = run_lesson("--quick", "--data", path, "--output-dir", output_dir, timeout=300)
    assert result.returncode == 1
    assert sorted(p.name for p in output_dir.iterdir()) == ["notes.txt"]


def test_member_name_flagged_utf8_but_not_utf8_is_a_data_error(tmp_path):
    """Found by hypothesis: two flipped bits in the central directory of a valid .npz (the
    UTF-8 flag of a member's name, and a name byte) made zipfile raise UnicodeDecodeError."""
    path = write_npz(tmp_path / "mnist.npz", small_arrays(), compressed=False)
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")  # the first member's central directory entry
    data[entry + 9] |= 0x08  # general purpose flags, bit 11: the name is UTF-8
    data[entry + 46] |= 0x80  # the name's first byte, now not valid UTF-8
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="unreadable .npz archive"):
        load_mnist(path)


def test_forged_header_is_rejected_before_allocating(tmp_path):
    folder = forged_header(tmp_path / "idx")
    with pytest.raises(DataError, match="declares 784000000 bytes of data but the file holds 100"):
        read_idx(folder / IDX_FILE_NAMES["x_train"], expected_ndim=3)
    header = struct.pack(">BBBBI", 0, 0, 8, 1, 4_000_000_000)
    (folder / "labels").write_bytes(header + b"\x01" * 10)
    with pytest.raises(DataError, match="declares 4000000000 examples"):
        read_idx(folder / "labels", expected_ndim=1)


def test_npz_member_sizes_are_checked_against_the_header(tmp_path):
    path = write_npz(tmp_path / "lying.npz", small_arrays(), compressed=False)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data[:-28] if name == "x_test.npy" else data)
    with pytest.raises(DataError, match="x_test.npy.*header declares"):
        load_mnist(path)


def test_failed_download_explains_how_to_work_offline(tmp_path):
    """No network here, no cached copy: the run must stop with advice, not a traceback."""
    home = tmp_path / "home"
    home.mkdir()
    result = run_lesson(
        "--quick",
        "--output-dir",
        tmp_path / "out",
        # A closed local proxy makes the download fail the same way with or without a network.
        env={
            "HOME": str(home),
            "https_proxy": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
        },
        timeout=300,
    )
    assert result.returncode == 1
    assert_clean_failure(result, "could not download MNIST", "--data", "MNIST_PATH")
    assert len(result.stderr.strip()) <= 200
    assert list((home / ".keras" / "datasets").iterdir()) == [], "no partial download left"
    assert not (tmp_path / "out").exists()


# --- Keras' cache folder and the download -------------------------------------------------------


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A new, empty home folder, so that ~/.keras/datasets is the test's own."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv("MNIST_PATH", raising=False)
    return home


@pytest.fixture
def mnist_server(monkeypatch):
    """A local web server standing in for the download site; ``files[path] = bytes``."""
    import http.server
    import threading

    files, requests = {}, []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"<html>not found</html>")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(data, "MNIST_URL", f"http://127.0.0.1:{server.server_port}/mnist.npz")
    yield files, requests
    server.shutdown()


def resaved_standard_mnist(mnist_path, path) -> str:
    """The standard MNIST written anew: same arrays, other bytes than any published file."""
    mnist = load_mnist(mnist_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{name: getattr(mnist, name) for name in data.ARRAY_NAMES})
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_resaved_standard_mnist_in_the_keras_folder_is_used_as_it_is(
    mnist_path, home, mnist_server
):
    cached = home / ".keras" / "datasets" / "mnist.npz"
    digest = resaved_standard_mnist(mnist_path, cached)
    mnist = load_mnist()
    assert mnist.standard and mnist.source == "~/.keras/datasets/mnist.npz"
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == digest
    _, requests = mnist_server
    assert requests == [], "nothing is downloaded when a good copy is there"


def test_keras_home_is_looked_at_too(mnist_path, home, tmp_path, monkeypatch):
    keras_home = tmp_path / "keras_home"
    resaved_standard_mnist(mnist_path, keras_home / "datasets" / "mnist.npz")
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    assert load_mnist().source == str(keras_home / "datasets" / "mnist.npz")


@pytest.mark.parametrize("content", ["other digits", "not an archive"])
def test_a_file_in_the_keras_folder_that_is_not_mnist_is_reported_and_left_alone(
    content, home, mnist_server
):
    cached = home / ".keras" / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    if content == "other digits":
        write_npz(cached, small_arrays())
    else:
        cached.write_text("my own notes, saved under an unlucky name")
    before = cached.read_bytes()
    with pytest.raises(DataError) as caught:
        load_mnist()
    message = str(caught.value)
    assert message.startswith("~/.keras/datasets/mnist.npz: ") and "left as it is" in message
    assert len(message) <= 200
    assert cached.read_bytes() == before
    _, requests = mnist_server
    assert requests == []


def test_download_lands_whole_in_the_keras_folder(mnist_path, home, mnist_server, tmp_path):
    files, requests = mnist_server
    resaved_standard_mnist(mnist_path, tmp_path / "served.npz")
    files["/mnist.npz"] = (tmp_path / "served.npz").read_bytes()
    mnist = load_mnist()
    cached = home / ".keras" / "datasets" / "mnist.npz"
    assert mnist.standard and mnist.source == "~/.keras/datasets/mnist.npz"
    assert cached.read_bytes() == files["/mnist.npz"]
    assert sorted(p.name for p in cached.parent.iterdir()) == ["mnist.npz"]
    load_mnist()
    assert requests == ["/mnist.npz"], "downloaded once, then read from the folder"


@pytest.mark.parametrize("served", ["an error page", "other digits", "nothing"])
def test_a_failed_download_leaves_nothing_behind(served, home, mnist_server, tmp_path):
    files, _ = mnist_server
    if served == "an error page":
        files["/mnist.npz"] = b"<!DOCTYPE html><html>quota exceeded</html>"
    elif served == "other digits":
        files["/mnist.npz"] = write_npz(tmp_path / "other.npz", small_arrays()).read_bytes()
    with pytest.raises(DataError, match="could not download MNIST") as caught:
        load_mnist()
    assert len(str(caught.value)) <= 200 and "Offline" in str(caught.value)
    folder = home / ".keras" / "datasets"
    assert not folder.exists() or list(folder.iterdir()) == []


@pytest.mark.slow
def test_lesson_uses_a_resaved_mnist_in_the_keras_folder(mnist_path, tmp_path):
    """The user's file is used, and is byte for byte the same after the run."""
    home = tmp_path / "home"
    cached = home / ".keras" / "datasets" / "mnist.npz"
    digest = resaved_standard_mnist(mnist_path, cached)
    result = run_lesson(
        "--quick",
        "--output-dir",
        tmp_path / "out",
        env={"HOME": str(home), "https_proxy": "http://127.0.0.1:9"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "source: ~/.keras/datasets/mnist.npz (standard MNIST)" in result.stdout
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == digest
