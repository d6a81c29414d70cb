"""Classifying a user's own digit images: MNIST-style preprocessing and predict_digits.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, run_script
from digit_preprocessing import (
    MAX_PIXELS,
    ImageError,
    centre_by_mass,
    fit_in_box,
    ink_intensity,
    naive_resize,
    prepare_image,
    render_as_photo,
    to_mnist,
)
from mnist_data import load_mnist

PREDICT = ROOT / "predict_digits.py"


def centre_of_mass(image):
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


# --- preprocessing ----------------------------------------------------------------------------


def test_digit_is_centred_by_its_centre_of_mass():
    paper = np.ones((300, 400), np.float32)
    paper[20:120, 300:330] = 0.0  # a bar of ink near the top right corner
    paper[100:120, 330:380] = 0.0  # and a foot, so the mass is off the box's centre
    image = to_mnist(paper)
    assert image.shape == (28, 28) and image.dtype == np.float32
    row, col = centre_of_mass(image)
    assert abs(row - 14) <= 0.75 and abs(col - 14) <= 0.75


def test_aspect_ratio_is_kept_and_longer_side_fits_20_pixels():
    paper = np.zeros((500, 500), np.float32)
    paper[50:450, 200:280] = 1.0  # light ink, 400 tall by 80 wide: 5 to 1
    image = to_mnist(paper)
    rows = np.flatnonzero(image.max(axis=1) > 0.5)
    cols = np.flatnonzero(image.max(axis=0) > 0.5)
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    assert height == 20
    assert 3 <= width <= 5


def test_polarity_is_detected_both_ways():
    rng = np.random.default_rng(0)
    digit = load_digit_like(rng)
    dark_on_light = 1.0 - digit
    np.testing.assert_allclose(to_mnist(digit), to_mnist(dark_on_light), atol=1e-5)
    assert ink_intensity(dark_on_light).mean() < 0.5  # ink is the minority, so it was inverted


def load_digit_like(rng):
    image = np.zeros((120, 90), np.float32)
    image[20:100, 40:52] = 1.0
    image[20:32, 20:60] = 0.9
    return np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1).astype(np.float32)


@pytest.mark.parametrize("level", [0.0, 0.5, 0.93, 1.0])
def test_blank_image_is_an_error(level):
    with pytest.raises(ImageError, match="no ink"):
        to_mnist(np.full((60, 80), level, np.float32))


def test_faint_noise_and_a_stray_speck_do_not_stretch_the_box():
    rng = np.random.default_rng(1)
    paper = np.clip(0.92 + rng.normal(0, 0.03, (400, 400)), 0, 1).astype(np.float32)
    paper[100:300, 180:200] = 0.05  # the digit: a tall stroke
    paper[390, 5] = 0.0  # one dark speck of dust far away
    image = to_mnist(paper)
    rows = np.flatnonzero(image.max(axis=1) > 0.5)
    assert np.ptp(rows) + 1 == 20  # the stroke, not the stroke plus the speck, fills the box


def test_fit_in_box_and_centre_by_mass_shapes():
    assert fit_in_box(np.ones((10, 40), np.float32), 20).shape == (5, 20)
    placed = centre_by_mass(np.ones((20, 6), np.float32), 28)
    assert placed.shape == (28, 28) and placed.sum() == pytest.approx(120)


# --- round trip on MNIST digits made to look like photos -----------------------------------------


@pytest.fixture(scope="module")
def photo_set(mnist_path, tmp_path_factory):
    """200 test digits saved the way a user's photos look: dark on white, large, off-centre."""
    mnist = load_mnist(mnist_path)
    rng = np.random.default_rng(2024)
    chosen = rng.choice(len(mnist.x_test), size=200, replace=False)
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for index in chosen:
        path = folder / f"digit_{index:05d}.png"
        render_as_photo(mnist.x_test[index], rng).save(path)
        paths.append(path)
    return paths, mnist.y_test[chosen]


def test_round_trip_classifies_photos_and_beats_a_naive_resize(full_run, photo_set):
    import keras

    _, output_dir = full_run
    model = keras.saving.load_model(output_dir / "models" / "deep.keras", safe_mode=True)
    paths, labels = photo_set

    def accuracy(prepare):
        batch = np.stack([prepare(path) for path in paths]).reshape(len(paths), 784)
        return float((model.predict(batch, verbose=0).argmax(axis=1) == labels).mean())

    prepared, naive = accuracy(prepare_image), accuracy(naive_resize)
    assert prepared >= 0.95
    assert naive < prepared - 0.3, (naive, prepared)


# --- the command-line tool --------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_and_good_images(photo_set, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed")
    paths, _ = photo_set
    good = [paths[0], paths[1]]
    empty = folder / "empty.png"
    empty.touch()
    text = folder / "notes.jpg"
    text.write_text("not a picture")
    truncated = folder / "truncated.png"
    truncated.write_bytes(paths[2].read_bytes()[:200])
    blank = folder / "blank_page.png"
    Image.new("L", (300, 200), 245).save(blank)
    bomb = folder / "huge.png"
    Image.new("1", (8000, 8000), 1).save(bomb)  # 64 megapixels, a few kilobytes on disk
    missing = folder / "missing.png"
    ordered = [good[0], empty, text, truncated, blank, bomb, missing, good[1]]
    errors = {
        empty: "empty",
        text: "not an image",
        truncated: "unreadable",
        blank: "no ink",
        bomb: f"{MAX_PIXELS:,}",
        missing: "no such file",
    }
    return ordered, errors


def test_bad_inputs_get_entry_errors_and_the_rest_are_classified(
    full_run, bad_and_good_images, tmp_path
):
    _, output_dir = full_run
    ordered, errors = bad_and_good_images
    result = run_script(
        PREDICT,
        *ordered,
        "--json",
        "--model",
        output_dir / "models" / "deep.keras",
        "--save-preprocessed",
        tmp_path / "seen",
        timeout=300,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    entries = json.loads(result.stdout)
    assert [entry["path"] for entry in entries] == [str(path) for path in ordered]
    for path, entry in zip(ordered, entries):
        assert set(entry) == {"path", "digit", "confidence", "top3", "error"}
        if path in errors:
            assert entry["digit"] is None and entry["confidence"] is None
            assert errors[path].lower() in entry["error"].lower(), entry["error"]
        else:
            assert entry["error"] is None
            assert entry["digit"] in range(10)
            assert 0 < entry["confidence"] <= 1
            assert len(entry["top3"]) == 3 and entry["top3"][0] == [
                entry["digit"],
                entry["confidence"],
            ]
    saved = sorted(p.name for p in (tmp_path / "seen").iterdir())
    assert saved == ["000_" + ordered[0].stem + ".png", "007_" + ordered[7].stem + ".png"]
    with Image.open(tmp_path / "seen" / saved[0]) as image:
        assert image.size == (28, 28)


def test_all_good_inputs_exit_zero_with_a_table(full_run, photo_set):
    _, output_dir = full_run
    paths, _ = photo_set
    folder = paths[0].parent
    result = run_script(PREDICT, folder, "--model", output_dir / "models" / "deep.keras")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["image", "digit", "confidence"]
    assert len(lines) == 1 + len(paths)


def test_missing_model_says_to_run_the_lesson_first(tmp_path):
    result = run_script(PREDICT, tmp_path / "x.png", "--model", tmp_path / "none.keras")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "mnist_classification.py" in lines[0]


def test_corrupt_model_is_one_line(tmp_path):
    model = tmp_path / "deep.keras"
    model.write_bytes(b"PK\x03\x04 this is not a keras model")
    result = run_script(PREDICT, tmp_path / "x.png", "--model", model)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot be loaded" in lines[0]
