"""Classifying a user's own digit images: MNIST-style preprocessing and predict_digits.py."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, assert_clean_failure, load_lesson_model, run_script
from handwriting import (
    FIELD,
    MAX_PIXELS,
    centre_by_mass,
    fit_in_box,
    ink_intensity,
    load_grayscale,
    prepare_image,
    render_as_photo,
    to_mnist,
)
from handwriting.drawing_pad import DrawingPad
from mnist_lesson.data import load_mnist

PREDICT = ROOT / "predict_digits.py"
# TensorFlow's own start-up notes, which it writes to stderr before its logging starts (on a
# machine without CUDA): TF_CPP_MIN_LOG_LEVEL does not silence them, and no trick may.
TENSORFLOW_NOTE = re.compile(r"^(WARNING: All log messages before absl|[IWE]\d{4} )")


def assert_one_error_line(result, *fragments: str) -> None:
    """A user error after Keras was imported: non-zero exit, no traceback, and one line of the
    tool's own on stderr, naming the problem (TensorFlow's start-up notes aside)."""
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines()
             if line.strip() and not TENSORFLOW_NOTE.match(line)]  # fmt: skip
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), lines[0]


def naive_resize(path) -> np.ndarray:
    """What a first attempt does: grayscale, invert, squash the whole image to 28x28. The
    round-trip test shows by how much the MNIST-style steps beat it."""
    image = Image.fromarray((load_grayscale(path) * 255).astype(np.uint8))
    return 1.0 - np.asarray(image.resize((FIELD, FIELD)), dtype=np.float32) / 255.0


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
    with pytest.raises(ValueError, match="no ink"):
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
    _, (x_test, y_test) = load_mnist(mnist_path)
    rng = np.random.default_rng(2024)
    chosen = rng.choice(len(x_test), size=200, replace=False)
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for index in chosen:
        path = folder / f"digit_{index:05d}.png"
        render_as_photo(x_test[index], rng).save(path)
        paths.append(path)
    return paths, y_test[chosen]


@pytest.mark.slow
def test_round_trip_classifies_photos_and_beats_a_naive_resize(full_run, photo_set):
    model = load_lesson_model(full_run[1] / "outputs" / "models" / "deep.keras")
    paths, labels = photo_set

    def accuracy(prepare):
        batch = np.stack([prepare(path) for path in paths])
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
    quick_run, bad_and_good_images, tmp_path
):
    output_dir = quick_run[1] / "outputs"
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


@pytest.mark.slow
def test_the_tool_reads_the_labelled_photos_right(full_run, photo_set):
    output_dir = full_run[1] / "outputs"
    paths, labels = photo_set
    result = run_script(
        PREDICT, paths[0].parent, "--json", "--model", output_dir / "models" / "deep.keras"
    )
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert [entry["path"] for entry in entries] == [str(path) for path in sorted(paths)]
    label_of = dict(zip(map(str, paths), labels))
    right = [entry["digit"] == label_of[entry["path"]] for entry in entries]
    assert np.mean(right) >= 0.95


def model_answers(model_path, paths):
    """What the model says about each image, computed here, without the tool."""
    model = load_lesson_model(model_path)
    batch = np.stack([prepare_image(path) for path in paths])
    return model.predict(batch, verbose=0)


@pytest.mark.slow  # runs the tool, which imports Keras
def test_each_result_stays_with_its_file_in_a_table_row(quick_run, photo_set, tmp_path):
    output_dir = quick_run[1] / "outputs"
    model_path = output_dir / "models" / "deep.keras"
    paths = list(photo_set[0][:12])
    order = np.random.default_rng(3).permutation(len(paths))
    shuffled = [paths[i] for i in order]
    expected = model_answers(model_path, shuffled)
    result = run_script(
        PREDICT, *shuffled, "--model", model_path, "--save-preprocessed", tmp_path / "seen"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"image +digit  confidence  top 3", lines[0])
    assert len(lines) == 1 + len(shuffled)
    for path, line, probabilities in zip(shuffled, lines[1:], expected):
        top3 = np.argsort(probabilities)[::-1][:3]
        # The path comes first, whatever it holds (spaces included), then the columns.
        assert line.startswith(str(path)), line
        assert re.fullmatch(TABLE_ROW, line[len(str(path)) :]), line
        assert line[len(str(path)) :].split()[0] == str(top3[0])
        assert line.endswith(", ".join(f"{d} {probabilities[d]:.1%}" for d in top3))
    # What the model saw, written to --save-preprocessed: the same pixels as prepare_image.
    for index, path in enumerate(shuffled):
        with Image.open(tmp_path / "seen" / f"{index:03d}_{path.stem}.png") as image:
            saved = np.asarray(image)
        assert saved.dtype == np.uint8
        np.testing.assert_array_equal(saved, np.round(prepare_image(path) * 255).astype(np.uint8))


# A row of the table after its path: digit, confidence, top 3, as the README describes it.
TABLE_ROW = r" +\d +\d+\.\d%  \d \d+\.\d%, \d \d+\.\d%, \d \d+\.\d%"


@pytest.mark.slow  # runs the tool, which imports Keras, more than once
def test_the_default_model_is_the_lessons(quick_run, photo_set, tmp_path):
    """Run from a folder where the lesson ran: outputs/models/deep.keras is used."""
    output_dir = quick_run[1] / "outputs"
    (tmp_path / "outputs" / "models").mkdir(parents=True)
    shutil.copy(output_dir / "models" / "deep.keras", tmp_path / "outputs" / "models")
    path = photo_set[0][0]
    result = run_script(PREDICT, path, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = model_answers(output_dir / "models" / "deep.keras", [path])[0]
    assert json.loads(result.stdout)[0]["digit"] == int(np.argmax(expected))
    result = run_script(PREDICT, path, cwd=tmp_path / "outputs")
    assert result.returncode == 1 and "outputs/models/deep.keras not found" in result.stderr


@pytest.mark.slow  # runs the tool, which imports Keras
def test_folders_give_their_images_and_nothing_else(quick_run, photo_set, tmp_path):
    output_dir = quick_run[1] / "outputs"
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(photo_set[0][0], folder / "b_digit.PNG")
    shutil.copy(photo_set[0][1], folder / "a_digit.jpg.png")
    (folder / "notes.txt").write_text("not an image")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    (folder / "inner").mkdir()
    result = run_script(PREDICT, folder, "--json", "--model", output_dir / "models" / "deep.keras")
    assert result.returncode == 0, result.stderr
    names = [Path(entry["path"]).name for entry in json.loads(result.stdout)]
    assert names == ["a_digit.jpg.png", "b_digit.PNG"]


def test_no_image_files_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "readme.txt").write_text("no pictures here")
    result = run_script(PREDICT, tmp_path / "empty", tmp_path / "text")
    assert result.returncode == 1
    assert_clean_failure(result, "no image files found", str(tmp_path / "empty"))


def test_missing_model_says_to_run_the_lesson_first(tmp_path):
    result = run_script(PREDICT, tmp_path / "x.png", "--model", tmp_path / "none.keras")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "mnist_classification.py" in lines[0]


@pytest.mark.slow  # loads TensorFlow and Keras to find the file broken
def test_corrupt_model_is_one_line(tmp_path):
    model = tmp_path / "deep.keras"
    model.write_bytes(b"PK\x03\x04 this is not a keras model")
    result = run_script(PREDICT, tmp_path / "x.png", "--model", model)
    assert result.returncode == 1
    assert_one_error_line(result, str(model), "cannot be loaded")


# --- what phones and drawing programs save --------------------------------------------------------


def upright_digit() -> np.ndarray:
    """A seven-like digit, dark on white, much taller than wide: rotating it changes everything."""
    image = np.full((160, 90), 240, np.uint8)
    image[20:36, 10:80] = 15  # the top bar
    image[20:150, 62:78] = 15  # the long stroke
    return image


def test_exif_rotation_is_applied_before_preprocessing(tmp_path):
    """Phones store photos sideways with an EXIF tag that says how to turn them upright."""
    upright = tmp_path / "upright.jpg"
    Image.fromarray(upright_digit()).save(upright, quality=95)
    sideways = tmp_path / "sideways.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to view
    Image.fromarray(upright_digit()).rotate(90, expand=True).save(sideways, quality=95, exif=exif)
    expected = prepare_image(upright)
    np.testing.assert_allclose(prepare_image(sideways), expected, atol=0.08)
    assert np.abs(prepare_image(sideways) - expected).mean() < 0.01


def test_strokes_on_a_transparent_canvas_are_read_as_ink_on_paper(tmp_path):
    """Drawing apps save black strokes on transparent pixels, which are black too (0, 0, 0, 0)."""
    ink = upright_digit() < 128
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    rgba[..., 3] = np.where(ink, 255, 0)  # black everywhere; only alpha tells ink from canvas
    transparent = tmp_path / "drawn.png"
    Image.fromarray(rgba, "RGBA").save(transparent)
    on_paper = tmp_path / "on_paper.png"
    Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).save(on_paper)
    np.testing.assert_allclose(prepare_image(transparent), prepare_image(on_paper), atol=1e-6)


# --- the drawing pad page from any saved model ---------------------------------------------------


@pytest.mark.slow  # runs the tool, which imports Keras, more than once
def test_drawing_pad_page_from_a_saved_model(quick_run, photo_set, tmp_path):
    models = quick_run[1] / "outputs" / "models"
    page = tmp_path / "pads" / "draw.html"
    result = run_script(
        PREDICT, photo_set[0][0], "--drawing-pad", page, "--model", models / "deep.keras",
        "--compare", models / "simple.keras",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("image")  # the images are classified too
    assert f"drawing pad written to {page}" in result.stderr
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and 'id="pad"' not in text  # built by its script
    assert len(page.read_bytes()) <= 2_500_000
    assert '"name":"deep"' in text and '"name":"simple"' in text  # both models, by their names
    # The same page as the chapter writes for the same two models.
    deep, simple = (load_lesson_model(models / name) for name in ("deep.keras", "simple.keras"))
    assert text == DrawingPad(deep, simple).page()
    assert not [path.name for path in page.parent.iterdir() if path.name != page.name]
    # Without --compare: the deep model alone.
    alone = tmp_path / "alone.html"
    result = run_script(PREDICT, "--drawing-pad", alone, "--model", models / "deep.keras")
    assert result.returncode == 0, result.stderr
    assert '"name":"deep"' in alone.read_text() and '"name":"simple"' not in alone.read_text()


def test_compare_goes_with_the_drawing_pad(tmp_path):
    result = run_script(PREDICT, "digit.png", "--compare", tmp_path / "simple.keras")
    assert result.returncode == 2
    assert_clean_failure(result, "--compare", "--drawing-pad")


@pytest.mark.slow  # runs the tool, which imports Keras, more than once
def test_drawing_pad_of_an_unsupported_model_is_one_line(tmp_path):
    import keras

    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, name="conv"), keras.layers.Flatten(),
         keras.layers.Dense(10, activation="softmax")]
    )  # fmt: skip
    model.save(tmp_path / "conv.keras")
    (tmp_path / "draw.html").write_text("the user's own page")
    result = run_script(
        PREDICT, "--drawing-pad", tmp_path / "draw.html", "--model", tmp_path / "conv.keras"
    )
    assert result.returncode == 1
    assert_one_error_line(result, "conv.keras", "layer 'conv' is a Conv2D")
    assert (tmp_path / "draw.html").read_text() == "the user's own page"  # left as it was
    # The same as the model to compare, named by its own path.
    dense = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, "softmax")])
    dense.save(tmp_path / "dense.keras")
    result = run_script(
        PREDICT, "--drawing-pad", tmp_path / "draw.html", "--model", tmp_path / "dense.keras",
        "--compare", tmp_path / "conv.keras",
    )  # fmt: skip
    assert result.returncode == 1
    assert_one_error_line(result, "conv.keras", "layer 'conv' is a Conv2D")
    assert (tmp_path / "draw.html").read_text() == "the user's own page"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "conv.keras",
        "dense.keras",
        "draw.html",
    ]  # no half-written file left beside it
