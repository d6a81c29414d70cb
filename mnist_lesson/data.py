"""MNIST from a Keras download, a keras-layout ``mnist.npz`` or a folder of IDX files, validated
and identified by content (the SHA-256 of each array's raw bytes), whatever the container. Every
problem a user can cause is a ``DataError`` whose one line names the file and the problem."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import struct
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_lesson.errors import UserError, describe_error, display_path

ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")

# SHA-256 of np.ascontiguousarray(array).tobytes() for the standard MNIST arrays.
STANDARD_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}

IDX_FILE_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
# No real digit set comes near this; it bounds what a forged header can make us read.
MAX_EXAMPLES = 2_000_000
_IDX_UBYTE = 0x08

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
DOWNLOAD_TIMEOUT_SECONDS = 60
# Where a copy helps: the README's Offline section lists every way to give the lesson MNIST.
OFFLINE_HINT = "see the README's Offline section for a local copy (--data PATH or MNIST_PATH)"


class DataError(UserError):
    """A dataset that is missing, unreadable or not MNIST-shaped; the message is one line."""


class NotStandardMnistWarning(UserWarning):
    """Valid data whose content is not the standard MNIST."""


@dataclass(frozen=True)
class Mnist:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    standard: bool


def load_mnist(path: str | os.PathLike | None = None) -> Mnist:
    """Load MNIST from ``path`` (.npz file or IDX folder), else from $MNIST_PATH, else from
    Keras' copy in ``~/.keras/datasets/`` (downloading it there once when there is none)."""
    if path is None or str(path) == "":
        path = os.environ.get("MNIST_PATH") or cached_or_downloaded()
    path = Path(path).expanduser()
    source = display_path(path)
    arrays = validate(read_arrays(path), source)
    standard = is_standard_mnist(arrays)
    if not standard:
        warnings.warn(
            f"{source}: valid digits, but not the standard MNIST (its content differs from the "
            "published files), so results will differ from the README's",
            NotStandardMnistWarning,
            stacklevel=2,
        )
    return Mnist(**arrays, source=source, standard=standard)


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The four raw arrays from an .npz file or an IDX folder, without validation of content."""
    if not path.exists():
        raise DataError(f"{display_path(path)}: no such file or folder")
    return read_idx_folder(path) if path.is_dir() else read_npz(path)


def keras_cache_files() -> list[Path]:
    """Where Keras keeps its MNIST download: $KERAS_HOME/datasets, else ~/.keras/datasets."""
    homes = [os.environ.get("KERAS_HOME"), Path.home() / ".keras"]
    return list(dict.fromkeys(Path(home) / "datasets" / "mnist.npz" for home in homes if home))


def cached_or_downloaded() -> Path:
    """The standard MNIST in Keras' cache, downloaded there first when no copy exists. A copy is
    checked by content, not bytes (Keras' hash check would fail on a re-saved MNIST and delete
    it); one that is not the standard MNIST is reported and left alone, never replaced."""
    for cached in keras_cache_files():
        if cached.exists():
            check_cached_copy(cached)
            return cached
    return download(keras_cache_files()[0])


def check_cached_copy(cached: Path) -> None:
    try:
        standard = is_standard_mnist(validate(read_arrays(cached), display_path(cached)))
    except DataError as error:
        raise DataError(f"{error} (left as it is; move it away to download MNIST again)") from None
    if not standard:
        raise DataError(
            f"{display_path(cached)}: not the standard MNIST (left as it is; move it away to "
            "download MNIST again, or pass it with --data to use it)"
        )


def _not_standard_mnist_reason(path: Path) -> str | None:
    """Why the file at ``path`` is not the standard MNIST, or None when it is."""
    try:
        if is_standard_mnist(validate(read_npz(path), display_path(path))):
            return None
    except DataError:
        return "what arrived is not an MNIST archive: an error page?"
    return "what arrived is not the standard MNIST"


def download(target: Path) -> Path:
    """Download the standard MNIST to ``target`` without ever touching an existing file there:
    into a temporary file beside it, moved into place only when complete and checked."""
    import urllib.request

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".mnist.", suffix=".part")
    except OSError as error:
        reason = error.strerror or describe_error(error)
        folder = display_path(target.parent)
        raise DataError(f"cannot download MNIST into {folder}: {reason}") from None
    print(f"downloading MNIST (11 MB) to {display_path(target)}", flush=True)
    try:
        with (
            os.fdopen(handle, "wb") as file,
            urllib.request.urlopen(MNIST_URL, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response,
        ):
            shutil.copyfileobj(response, file)
        reason = _not_standard_mnist_reason(Path(temporary))
        if reason is None and target.exists():  # appeared meanwhile: the user's file wins
            reason = f"{display_path(target)} appeared meanwhile and was left as it is"
        if reason is None:
            os.replace(temporary, target)
    except Exception as error:  # urllib, ssl, socket and file errors all arrive here
        reason = describe_error(error)[:80]
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    if reason is not None:
        raise DataError(f"could not download MNIST ({reason}); {OFFLINE_HINT}")
    return target


# --- .npz -------------------------------------------------------------------------------------


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The four arrays of a keras-layout .npz, every header checked before its data is read
    (``np.load`` would allocate any shape declared) and only plain numeric arrays accepted."""
    shown = display_path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {Path(info.filename).stem: info for info in archive.infolist()}
            missing = [name for name in ARRAY_NAMES if name not in members]
            if missing:
                raise DataError(
                    f"{shown}: not a keras-layout MNIST .npz (missing {', '.join(missing)}; "
                    f"expected arrays {', '.join(ARRAY_NAMES)})"
                )
            return {
                name: _read_npy_member(archive, members[name], path, name) for name in ARRAY_NAMES
            }
    except DataError:
        raise
    except zipfile.BadZipFile:
        raise DataError(_not_an_archive_message(path)) from None
    # A damaged archive: a name that is not UTF-8 despite its flag (ValueError), a bad header
    # field (struct.error), unsupported compression or encryption (NotImplemented/RuntimeError).
    except (OSError, EOFError, zlib.error, ValueError, struct.error, NotImplementedError,
            RuntimeError) as error:  # fmt: skip
        raise DataError(f"{shown}: unreadable .npz archive ({describe_error(error)})") from None


def _read_npy_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, name: str
) -> np.ndarray:
    where = f"{display_path(path)} [{info.filename}]"
    with archive.open(info) as member:
        try:
            major, _minor = np.lib.format.read_magic(member)
            if major == 1:
                shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
            elif major == 2:
                shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise ValueError(f"unsupported .npy format version {major}")
        except Exception as error:  # numpy parses the header with ast/tokenize: any failure
            raise DataError(f"{where}: not a valid .npy array ({describe_error(error)})") from None
        images = name.startswith("x")
        if images and dtype != np.uint8:
            raise DataError(f"{where}: holds {dtype} values, expected uint8 pixels")
        if dtype.hasobject or dtype.kind not in "iu":
            raise DataError(f"{where}: holds {dtype} values, expected integer labels")
        if images and (len(shape) != 3 or tuple(shape[1:]) != IMAGE_SHAPE):
            raise DataError(f"{where}: has shape {shape}, expected (N, 28, 28)")
        if not images and len(shape) != 1:
            raise DataError(f"{where}: has shape {shape}, expected (N,)")
        if shape[0] > MAX_EXAMPLES:
            raise DataError(f"{where}: implausible array shape {shape}")
        count = int(np.prod(shape, dtype=np.int64))
        nbytes = count * dtype.itemsize
        header_size = member.tell()
        if header_size + nbytes != info.file_size:
            raise DataError(
                f"{where}: header declares {nbytes} bytes of data but the member holds "
                f"{info.file_size - header_size}"
            )
        data = _read_exactly(member, nbytes, where)
    order = "F" if fortran_order else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order)


def _not_an_archive_message(path: Path) -> str:
    shown = display_path(path)
    with open(path, "rb") as file:
        start = file.read(512)
    if not start:
        return f"{shown}: empty file, expected a keras-layout mnist.npz"
    if b"<html" in start.lower() or b"<!doctype" in start.lower():
        return (
            f"{shown}: an HTML page, not MNIST (a failed download?): download mnist.npz again, "
            "or use the four IDX files"
        )
    if start[:4] == b"PK\x03\x04":
        return f"{shown}: a damaged or truncated .npz archive (download or copy it again)"
    if start[:4] in (b"\x00\x00\x08\x01", b"\x00\x00\x08\x03") or start[:2] == b"\x1f\x8b":
        return f"{shown}: an IDX or gzip file; pass the folder holding all four IDX files"
    return f"{shown}: not an .npz archive (expected a keras-layout mnist.npz or an IDX folder)"


# --- IDX --------------------------------------------------------------------------------------


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    """Read the four standard IDX files (each gzipped or not) from ``folder``."""
    shown = display_path(folder)
    arrays = {}
    for name, file_name in IDX_FILE_NAMES.items():
        found = [p for p in (folder / file_name, folder / f"{file_name}.gz") if p.is_file()]
        if not found:
            raise DataError(f"{shown}: missing {file_name} (or {file_name}.gz)")
        arrays[name] = read_idx(found[0], expected_ndim=3 if name.startswith("x") else 1)
    return arrays


def read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes; gzip is recognised by its magic number."""
    shown = display_path(path)
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            if gzipped:
                with gzip.GzipFile(fileobj=raw) as stream:
                    return _read_idx_stream(stream, path, expected_ndim, stored_size=None)
            return _read_idx_stream(raw, path, expected_ndim, os.fstat(raw.fileno()).st_size)
    except DataError:
        raise
    except (OSError, EOFError, zlib.error, ValueError) as error:
        raise DataError(f"{shown}: unreadable IDX file ({describe_error(error)})") from None


def _read_idx_stream(stream, path: Path, expected_ndim: int, stored_size: int | None) -> np.ndarray:
    shown = display_path(path)
    header = stream.read(4)
    if len(header) == 0:
        raise DataError(f"{shown}: empty file, expected an IDX file")
    if len(header) < 4 or header[:2] != b"\x00\x00":
        raise DataError(f"{shown}: not an IDX file (bad magic number)")
    if header[2] != _IDX_UBYTE:
        raise DataError(f"{shown}: IDX data type 0x{header[2]:02x}, expected unsigned bytes (0x08)")
    ndim = header[3]
    if ndim != expected_ndim:
        raise DataError(f"{shown}: IDX file has {ndim} dimensions, expected {expected_ndim}")
    dims_bytes = stream.read(4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise DataError(f"{shown}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", dims_bytes)
    if ndim == 3 and tuple(shape[1:]) != IMAGE_SHAPE:
        raise DataError(f"{shown}: IDX header declares shape {shape}, expected (N, 28, 28)")
    if shape[0] > MAX_EXAMPLES:
        raise DataError(f"{shown}: IDX header declares {shape[0]} examples, an implausible count")
    nbytes = int(np.prod(shape, dtype=np.int64))
    header_size = 4 + 4 * ndim
    if stored_size is not None and stored_size != header_size + nbytes:
        raise DataError(
            f"{shown}: IDX header declares {nbytes} bytes of data but the file holds "
            f"{stored_size - header_size}"
        )
    data = _read_exactly(stream, nbytes, shown)
    if stream.read(1):
        raise DataError(f"{shown}: unexpected data after the {shape} array the header declares")
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _read_exactly(stream, nbytes: int, where: str) -> bytes:
    """Read ``nbytes`` in chunks, so memory grows only with data that is really there."""
    chunks, remaining = [], nbytes
    while remaining:
        chunk = stream.read(min(remaining, 1 << 24))
        if not chunk:
            raise DataError(f"{where}: truncated (expected {nbytes} bytes of data)")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


# --- validation -------------------------------------------------------------------------------


def validate(arrays: dict[str, np.ndarray], source: str) -> dict[str, np.ndarray]:
    """Check shapes, dtypes and labels; return C-contiguous uint8 arrays."""
    checked = {}  # every message names the array and what it holds
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.dtype != np.uint8:
            raise DataError(f"{source}: x_{split} has dtype {images.dtype}, expected uint8 pixels")
        if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
            raise DataError(f"{source}: x_{split} has shape {images.shape}, expected (N, 28, 28)")
        if len(images) == 0:
            raise DataError(f"{source}: x_{split} holds no images")
        if labels.dtype.kind not in "iu" or labels.ndim != 1:
            raise DataError(
                f"{source}: y_{split} has dtype {labels.dtype} and shape {labels.shape}, "
                "expected integer labels of shape (N,)"
            )
        if len(labels) != len(images):
            raise DataError(
                f"{source}: {len(images)} {split} images but {len(labels)} {split} labels"
            )
        if labels.min() < 0 or labels.max() >= NUM_CLASSES:
            raise DataError(
                f"{source}: y_{split} holds labels from {labels.min()} to {labels.max()}, "
                "expected digits 0-9"
            )
        checked[f"x_{split}"] = np.ascontiguousarray(images)
        checked[f"y_{split}"] = np.ascontiguousarray(labels, dtype=np.uint8)
    return checked


def is_standard_mnist(arrays: dict[str, np.ndarray]) -> bool:
    """True when every array's raw bytes match the standard MNIST, whatever the container."""
    return all(
        hashlib.sha256(np.ascontiguousarray(arrays[name]).tobytes()).hexdigest() == digest
        for name, digest in STANDARD_SHA256.items()
    )
