"""Property-based tests: random and mutated files either load or raise the project's own error.

Never another exception, never a hang (each example has a deadline), never a huge allocation
(tracemalloc sees NumPy's buffers and Python's bytes).
"""

from __future__ import annotations

import gzip
import io
import tracemalloc

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from test_data import small_arrays

from conftest import write_idx_folder
from handwriting import ImageError, prepare_image, to_mnist
from mnist_lesson.data import IDX_FILE_NAMES, DataError, load_mnist

ALLOCATION_LIMIT = 64 * 1024 * 1024


def loads_or_raises(load, path, error_type):
    tracemalloc.start()
    try:
        result = load(path)
    except error_type as error:
        message = str(error)
        assert message and "\n" not in message
        result = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < ALLOCATION_LIMIT, f"{peak} bytes allocated"
    return result


def valid_npz_bytes(compressed: bool) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **small_arrays(8, 4))
    return buffer.getvalue()


VALID_NPZ = {False: valid_npz_bytes(False), True: valid_npz_bytes(True)}


def mutate(data: bytes, draw) -> bytes:
    """Truncate, flip bytes, or overwrite a run of bytes with extreme values."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "overwrite"]))
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        if kind == "truncate":
            del data[position:]
        elif kind == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        else:
            data[position : position + 4] = draw(
                st.sampled_from([b"\xff" * 4, b"\x7f\xff\xff\xff", b"\x00" * 4])
            )
    return bytes(data)


@given(data=st.binary(max_size=2048))
def test_random_bytes_as_npz(tmp_path, data):
    path = tmp_path / "random.npz"
    path.write_bytes(data)
    assert loads_or_raises(load_mnist, path, DataError) is None


@given(compressed=st.booleans(), data=st.data())
def test_mutated_npz(tmp_path, compressed, data):
    path = tmp_path / "mutated.npz"
    path.write_bytes(mutate(VALID_NPZ[compressed], data.draw))
    mnist = loads_or_raises(load_mnist, path, DataError)
    if mnist is not None:
        assert mnist.x_train.shape[1:] == (28, 28) and mnist.y_train.max() <= 9


@given(
    name=st.sampled_from(sorted(IDX_FILE_NAMES)),
    gzipped=st.booleans(),
    data=st.data(),
)
def test_mutated_idx_files(tmp_path_factory, name, gzipped, data):
    folder = write_idx_folder(tmp_path_factory.mktemp("idx"), small_arrays(8, 4))
    target = folder / IDX_FILE_NAMES[name]
    mutated = mutate(target.read_bytes(), data.draw)
    if gzipped:
        target.unlink()
        target = target.with_name(target.name + ".gz")
        mutated = gzip.compress(mutated)
        if data.draw(st.booleans()):
            mutated = mutate(mutated, data.draw)
    target.write_bytes(mutated)
    mnist = loads_or_raises(load_mnist, folder, DataError)
    if mnist is not None:
        assert len(mnist.x_train) == len(mnist.y_train) and mnist.y_test.max() <= 9


@given(
    count=st.integers(0, 2**32 - 1),
    rows=st.integers(0, 2**32 - 1),
    cols=st.integers(0, 2**32 - 1),
)
def test_absurd_declared_idx_sizes(tmp_path_factory, count, rows, cols):
    folder = write_idx_folder(tmp_path_factory.mktemp("idx"), small_arrays(8, 4))
    header = bytes([0, 0, 8, 3]) + count.to_bytes(4, "big") + rows.to_bytes(4, "big")
    header += cols.to_bytes(4, "big")
    (folder / IDX_FILE_NAMES["x_train"]).write_bytes(header + bytes(8 * 28 * 28))
    loads_or_raises(load_mnist, folder, DataError)


@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".png", ".jpg", ".gif", ".bmp"]))
def test_random_bytes_as_an_image(tmp_path, data, suffix):
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    image = loads_or_raises(prepare_image, path, ImageError)
    assert image is None or (image.shape == (28, 28) and 0 <= image.min() <= image.max() <= 1)


def valid_png_bytes() -> bytes:
    image = np.full((60, 40), 230, np.uint8)
    image[10:50, 18:24] = 20
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


VALID_PNG = valid_png_bytes()


def test_a_png_whose_chunk_claims_4_gb_is_read_without_allocating_it(tmp_path):
    """Found by test_mutated_png: the chunk after the header given the length 0xffffffff."""
    damaged = bytearray(VALID_PNG)
    damaged[33:37] = b"\xff" * 4
    path = tmp_path / "damaged.png"
    path.write_bytes(bytes(damaged))
    image = loads_or_raises(prepare_image, path, ImageError)
    assert image is None or image.shape == (28, 28)


@given(data=st.data())
def test_mutated_png(tmp_path, data):
    path = tmp_path / "mutated.png"
    path.write_bytes(mutate(VALID_PNG, data.draw))
    image = loads_or_raises(prepare_image, path, ImageError)
    assert image is None or image.shape == (28, 28)


@given(
    pixels=st.integers(1, 60).flatmap(
        lambda height: st.integers(1, 60).flatmap(
            lambda width: st.lists(
                st.floats(0, 1, width=32), min_size=height * width, max_size=height * width
            ).map(lambda values: np.array(values, np.float32).reshape(height, width))
        )
    )
)
def test_preprocessing_random_arrays(pixels):
    image = loads_or_raises(to_mnist, pixels, ImageError)
    if image is not None:
        assert image.shape == (28, 28) and image.dtype == np.float32
        assert np.all(np.isfinite(image)) and image.min() >= 0 and image.max() <= 1
        assert image.max() == 1.0
