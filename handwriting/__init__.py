"""A photo or scan of a handwritten digit turned into the 28x28 input the MNIST models read.

MNIST digits are light ink on a dark background, scaled to fit 20x20 pixels keeping their shape,
and placed in 28x28 with their centre of mass at the centre: a user's image must go through the
same steps. A problem with an image raises ValueError, with a one-line message.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

MAX_PIXELS = 50_000_000  # larger than any phone photo; a bigger claim is a decompression bomb
MAX_FILE_BYTES = 200_000_000  # a photo of 50 million pixels, stored without compression
FIELD, BOX = 28, 20  # MNIST: a 28x28 field, digits scaled to fit a 20x20 box
INK_LEVEL = 0.25  # after contrast stretching, darker than this is paper, grain or shadow
MIN_CONTRAST = 0.15  # ink must differ this much from the paper, or the image is blank
NO_INK = "no ink found (a blank page?)"


def load_grayscale(path: str | os.PathLike) -> np.ndarray:
    """The image at ``path`` as 2-D float32 brightness in [0, 1] (0 black, 1 white)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError("a folder, not an image" if path.is_dir() else "no such file")
    size = path.stat().st_size
    if size == 0:
        raise ValueError("empty file")
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{size:,} bytes is more than the {MAX_FILE_BYTES:,} allowed")
    too_large = f"more than the {MAX_PIXELS:,} pixels allowed"
    try:
        # Pillow gets the bytes, not the file: a damaged chunk length makes it ask for up to
        # 4 GB in one read, which a file would allocate before finding it is not there.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(path.read_bytes())) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise Image.DecompressionBombError(too_large)
                image = ImageOps.exif_transpose(image)  # phone photos are often stored sideways
                if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                    # Strokes drawn on a transparent canvas: put them on white paper.
                    paper = Image.new("RGBA", image.size, "white")
                    image = Image.alpha_composite(paper, image.convert("RGBA"))
                pixels = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(too_large) from None
    except Image.UnidentifiedImageError:
        raise ValueError("not an image Pillow can read") from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ValueError(f"unreadable image ({str(error).splitlines()[0][:100]})") from None
    if pixels.ndim != 2 or min(pixels.shape) < 1:
        raise ValueError(f"unusable image shape {pixels.shape}")
    return pixels


def to_mnist(grayscale: np.ndarray) -> np.ndarray:
    """MNIST-style 28x28 float32 image (ink 1, background 0) from a 2-D brightness array; the
    steps of ``docs/drawing_pad.md``, which ``drawing_pad.js`` repeats."""
    ink = ink_intensity(grayscale)
    rows, cols = ink_bounding_box(ink)
    digit = ink[rows, cols]
    digit = np.where(digit >= INK_LEVEL, digit, 0.0)  # drop paper grain inside the box
    return centre_by_mass(fit_in_box(digit, BOX), FIELD)


def ink_intensity(grayscale: np.ndarray) -> np.ndarray:
    """Ink as bright-on-dark in [0, 1], whatever the polarity and contrast of the original: the
    paper is what fills the image's border; dark ink on light paper is inverted."""
    image = np.asarray(grayscale, dtype=np.float32)
    if image.ndim != 2 or image.size == 0 or not np.all(np.isfinite(image)):
        raise ValueError(f"expected a 2-D image of finite values, got shape {image.shape}")
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    paper = float(np.median(border))
    ink = (1.0 - image) if paper > 0.5 else image
    paper_ink = 1.0 - paper if paper > 0.5 else paper
    strongest = float(np.percentile(ink, 99.9)) if ink.size > 1000 else float(ink.max())
    if strongest - paper_ink < MIN_CONTRAST:
        raise ValueError(NO_INK)
    return np.clip((ink - paper_ink) / (strongest - paper_ink), 0.0, 1.0)


def ink_bounding_box(ink: np.ndarray, trim: float = 0.002) -> tuple[slice, slice]:
    """Rows and columns holding the ink, ignoring faint noise and stray specks: ``trim`` of the
    ink may lie outside the box at each side."""
    mask = ink >= INK_LEVEL
    if not mask.any():
        raise ValueError(NO_INK)

    def span(counts: np.ndarray) -> slice:
        cumulative = np.cumsum(counts) / counts.sum()
        start = int(np.searchsorted(cumulative, trim, side="right"))
        stop = int(np.searchsorted(cumulative, 1.0 - trim, side="left")) + 1
        return slice(start, max(stop, start + 1))

    return span(mask.sum(axis=1)), span(mask.sum(axis=0))


def fit_in_box(digit: np.ndarray, box: int) -> np.ndarray:
    """Scale so that the longer side is ``box`` pixels, keeping the aspect ratio; Lanczos
    resampling gives the soft grey edges MNIST digits have."""
    height, width = digit.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(digit.astype(np.float32), mode="F").resize(size, Image.LANCZOS)
    scaled = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    peak = scaled.max()
    if peak <= 0:
        raise ValueError(NO_INK)
    return scaled / peak  # thin pen strokes get as bright as MNIST's thick ones


def centre_by_mass(digit: np.ndarray, field: int) -> np.ndarray:
    """Place ``digit`` in a ``field``x``field`` image with its centre of mass at the centre."""
    (height, width), (rows, cols), mass = digit.shape, np.indices(digit.shape), digit.sum()
    centre_row, centre_col = (rows * digit).sum() / mass, (cols * digit).sum() / mass
    top = int(np.clip(round(field / 2 - centre_row), 0, field - height))
    left = int(np.clip(round(field / 2 - centre_col), 0, field - width))
    placed = np.zeros((field, field), dtype=np.float32)
    placed[top : top + height, left : left + width] = digit
    return placed


def prepare_image(path: str | os.PathLike) -> np.ndarray:
    """Load an image file and preprocess it like MNIST: a 28x28 float32 array in [0, 1]."""
    return to_mnist(load_grayscale(path))


def render_as_photo(digit: np.ndarray, rng: np.random.Generator, scale: int = 6) -> Image.Image:
    """An MNIST digit made to look like a photo of one: dark ink on white paper, larger,
    off-centre, with light noise."""
    ink = Image.fromarray(np.uint8(digit)).resize((FIELD * scale,) * 2, Image.BICUBIC)
    canvas_width, canvas_height = FIELD * scale * 2, int(FIELD * scale * 1.6)
    paper = np.full((canvas_height, canvas_width), 235.0)
    left = int(rng.integers(0, canvas_width - ink.width))
    top = int(rng.integers(0, canvas_height - ink.height))
    paper[top : top + ink.height, left : left + ink.width] -= np.asarray(ink) * (215 / 255)
    paper += rng.normal(0, 6, paper.shape)
    return Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))
