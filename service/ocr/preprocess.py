"""Image preparation before OCR: each step switchable, and what was done recorded.

Steps run in a fixed order: rotation (Tesseract OSD), grayscale, deskew, rescaling to
~300 DPI, border removal, binarisation (Sauvola), noise removal. Which steps run is chosen
per script from measurements (`palimpsest eval-ocr`); see `DEFAULT_STEPS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from service.ocr.engines.base import Orientation

TARGET_DPI = 300
# Pages between these resolutions are left as they are; others are rescaled to TARGET_DPI.
DPI_RANGE = (220, 450)
# Body text line height at 300 DPI is about 40–60 px; outside this a DPI tag is not trusted.
LINE_HEIGHT_AT_300 = 48
MAX_SKEW_DEGREES = 3.0
# Printed pages score 11–32 on OSD's orientation confidence, handwriting below 7.
MIN_OSD_CONFIDENCE = 9.0

Array = NDArray[np.float64]
Gray = NDArray[np.uint8]


class PrepStep(StrEnum):
    """One switchable step of reading a page: image preparation, or (`long_s`) mending the
    text after recognition (service/ocr/long_s.py)."""

    ROTATE = "rotate"
    DESKEW = "deskew"
    RESCALE = "rescale"
    GRAYSCALE = "grayscale"
    BORDER = "border"
    BINARIZE = "binarize"
    DENOISE = "denoise"
    LONG_S = "long_s"


# The image steps, in the order they run; long_s runs on the text, after recognition.
# Grayscale comes before deskew and rescaling: turning and resizing one channel instead of
# three halves their time on a colour scan, for the same pixels to within rounding.
ORDER = [
    PrepStep.ROTATE,
    PrepStep.GRAYSCALE,
    PrepStep.DESKEW,
    PrepStep.RESCALE,
    PrepStep.BORDER,
    PrepStep.BINARIZE,
    PrepStep.DENOISE,
]

# What measurably helps (bench/results/ocr-eval.md): see README "OCR" for the figures.
# Sauvola binarisation and border removal made the tuning pages worse and are off.
DEFAULT_STEPS: dict[str, frozenset[PrepStep]] = {
    "Latf": frozenset(
        {PrepStep.ROTATE, PrepStep.DESKEW, PrepStep.RESCALE, PrepStep.GRAYSCALE, PrepStep.DENOISE}
    ),
    "Latn": frozenset({PrepStep.ROTATE, PrepStep.RESCALE, PrepStep.GRAYSCALE, PrepStep.LONG_S}),
}


# Per-script resolution; measured: bringing Fraktur to 400 or 450 DPI did not help.
TARGET_DPI_BY_SCRIPT: dict[str, int] = {}


def target_dpi(script: str | None) -> int:
    """The resolution pages of a script are brought to before OCR."""
    return TARGET_DPI_BY_SCRIPT.get(script or "", TARGET_DPI)


def default_steps(script: str) -> frozenset[PrepStep]:
    """The steps measured to help for a script (`Latf` Fraktur, `Latn` Antiqua)."""
    return DEFAULT_STEPS.get(script, DEFAULT_STEPS["Latn"])


@dataclass
class Prepared:
    """The image the OCR engine reads, its resolution, and what was done to it."""

    image: Image.Image
    dpi: int
    record: dict[str, Any] = field(default_factory=dict)
    script: str | None = None
    target_dpi: int = TARGET_DPI
    # True once a step changed more than the colours: turned, rescaled, filtered.
    altered: bool = False

    def replace(self, image: Image.Image) -> None:
        """Put the result of a step that changed the pixels (not only their colour)."""
        self.image = image
        self.altered = True

    @property
    def rotation(self) -> int:
        """Degrees the page was turned clockwise to be upright."""
        return int(self.record.get(PrepStep.ROTATE, {}).get("degrees", 0))


OsdFunction = Callable[[Image.Image, int], Orientation | None]


def prepare(
    image: Image.Image,
    dpi: int | None,
    steps: frozenset[PrepStep],
    osd: OsdFunction | None = None,
    target: int = TARGET_DPI,
) -> Prepared:
    """Run the chosen steps in order; the original image is left untouched."""
    prepared = Prepared(image=image, dpi=dpi or TARGET_DPI, target_dpi=target)
    prepared.record["input"] = {"size": list(image.size), "mode": image.mode, "dpi": dpi}
    for step in ORDER:
        if step in steps:
            _STEPS[step](prepared, osd)
    return prepared


def _rotate(p: Prepared, _osd: OsdFunction | None) -> None:
    # OSD costs half a page's OCR time, so it is asked only about pages that read badly
    # (see reading.read_image): an upright page, the usual case, pays nothing for it.
    p.record[PrepStep.ROTATE] = {"degrees": 0, "osd": False}


def apply_orientation(p: Prepared, osd: OsdFunction) -> bool:
    """Ask OSD about the page and turn it upright if OSD is sure; True when it turned."""
    found = osd(osd_sample(p.image), p.dpi)
    p.script = found.script if found else None
    turn = found.rotate % 360 if found and found.confidence >= MIN_OSD_CONFIDENCE else 0
    if turn:
        # OSD's "Rotate" is clockwise; PIL rotates counter-clockwise.
        p.replace(p.image.rotate(-turn, expand=True, fillcolor=_white(p.image)))
    p.record[PrepStep.ROTATE] = {
        "degrees": turn,
        "osd": True,
        "script": found.script if found else None,
        "confidence": round(found.confidence, 2) if found else None,
    }
    return bool(turn)


def osd_sample(image: Image.Image) -> Image.Image:
    """The page's central part at full resolution: as reliable as the whole page, and quicker."""
    w, h = image.size
    return image.crop((w // 4, h * 3 // 10, w * 3 // 4, h * 7 // 10))


def _rescale(p: Prepared, _osd: OsdFunction | None) -> None:
    equivalent = _equivalent_dpi(p.image, p.record["input"]["dpi"])
    low, high = DPI_RANGE
    if p.target_dpi == TARGET_DPI and low <= equivalent <= high:
        p.record[PrepStep.RESCALE] = {"factor": 1.0, "equivalent_dpi": equivalent}
        return
    factor = min(3.0, max(0.33, p.target_dpi / equivalent))
    size = (round(p.image.width * factor), round(p.image.height * factor))
    p.replace(p.image.convert(_work_mode(p.image)).resize(size, Image.Resampling.LANCZOS))
    p.dpi = p.target_dpi
    p.record[PrepStep.RESCALE] = {"factor": round(factor, 3), "equivalent_dpi": equivalent}


def _equivalent_dpi(image: Image.Image, dpi: int | None) -> int:
    """The DPI tag when there is one, else a resolution judged from the text's line height."""
    if dpi:
        return dpi
    height = line_height(_gray_array(image))
    return TARGET_DPI if height is None else round(TARGET_DPI * height / LINE_HEIGHT_AT_300)


def line_height(gray: Gray) -> float | None:
    """Median height in pixels of the text lines found in the horizontal ink profile."""
    ink = (gray < _otsu(gray)).mean(axis=1)
    rows = ink > max(0.02, float(np.percentile(ink, 60)) * 0.5)
    runs = _runs(rows)
    heights = [end - start for start, end in runs if end - start >= 4]
    if len(heights) < 5:
        return None
    return float(np.median(heights))


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _deskew(p: Prepared, _osd: OsdFunction | None) -> None:
    angle = skew_angle(p.image)
    p.record[PrepStep.DESKEW] = {"degrees": angle}
    if abs(angle) >= 0.1:
        p.replace(
            p.image.rotate(
                angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=_white(p.image)
            )
        )


def _ink(image: Image.Image) -> Array:
    gray = _gray_array(image)
    result: Array = (gray < _otsu(gray)).astype(np.float64)
    return result


def skew_angle(image: Image.Image) -> float:
    """Angle (degrees, counter-clockwise) that makes text lines horizontal.

    Whole degrees first, then quarter degrees around the best: 13 trial rotations instead
    of 25, for the same answer where the sharpness of the line profile peaks once nearby.
    """
    ink = Image.fromarray((_ink(_thumbnail(image, 1000)) * 255).astype(np.uint8))
    coarse = _sharpest(ink, np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.01, 1.0))
    fine = np.arange(coarse - 0.75, coarse + 0.76, 0.25)
    inside = fine[np.abs(fine) <= MAX_SKEW_DEGREES + 0.01]
    return round(_sharpest(ink, inside), 2)


def _sharpest(ink: Image.Image, angles: Array) -> float:
    """The angle whose rotation gives the sharpest horizontal ink profile."""
    best, best_score = 0.0, -1.0
    for angle in angles:
        profile = np.asarray(ink.rotate(float(angle)), dtype=np.float64).sum(axis=1)
        score = float(np.square(np.diff(profile)).sum())
        if score > best_score:
            best, best_score = float(angle), score
    return best


def _grayscale(p: Prepared, _osd: OsdFunction | None) -> None:
    p.image = p.image.convert("L")
    p.record[PrepStep.GRAYSCALE] = {}


def _border(p: Prepared, _osd: OsdFunction | None) -> None:
    """Whiten dark scanner borders and edge strips that are not text."""
    gray = _gray_array(p.image)
    dark = gray < _otsu(gray)
    top, bottom = _edge_extent(dark.mean(axis=1))
    left, right = _edge_extent(dark.mean(axis=0))
    p.record[PrepStep.BORDER] = {"top": top, "bottom": bottom, "left": left, "right": right}
    if not any((top, bottom, left, right)):
        return
    out = np.asarray(p.image.convert("L")).copy()
    out[:top, :] = 255
    out[out.shape[0] - bottom :, :] = 255
    out[:, :left] = 255
    out[:, out.shape[1] - right :] = 255
    p.replace(Image.fromarray(out))


def _edge_extent(profile: Array, dark: float = 0.5, limit: float = 0.15) -> tuple[int, int]:
    """How far a band of mostly dark rows (or columns) reaches in from each edge."""
    n = len(profile)
    cap = int(n * limit)

    def reach(values: Array) -> int:
        dark_at = np.flatnonzero(values[:cap] > dark)
        return int(dark_at.max()) + 1 if dark_at.size else 0

    return reach(profile), reach(profile[::-1])


def _binarize(p: Prepared, _osd: OsdFunction | None) -> None:
    gray = _gray_array(p.image).astype(np.float64)
    window = max(15, (p.dpi // 10) | 1)
    binary = sauvola(gray, window)
    p.replace(Image.fromarray(np.where(binary, 255, 0).astype(np.uint8)))
    p.record[PrepStep.BINARIZE] = {"method": "sauvola", "window": window, "k": 0.2}


def sauvola(gray: Array, window: int, k: float = 0.2, r: float = 128.0) -> NDArray[np.bool_]:
    """Sauvola's adaptive threshold: True where the pixel is background (paper)."""
    mean, std = _local_stats(gray, window)
    threshold = mean * (1 + k * (std / r - 1))
    result: NDArray[np.bool_] = gray > threshold
    return result


def _local_stats(gray: Array, window: int) -> tuple[Array, Array]:
    half = window // 2
    padded = np.pad(gray, half + 1, mode="edge")
    s1 = padded.cumsum(0).cumsum(1)
    s2 = np.square(padded).cumsum(0).cumsum(1)
    h, w = gray.shape

    def box(s: Array) -> Array:
        a = s[window : window + h, window : window + w]
        b = s[0:h, window : window + w]
        c = s[window : window + h, 0:w]
        d = s[0:h, 0:w]
        result: Array = (a - b - c + d) / (window * window)
        return result

    mean = box(s1)
    variance = np.maximum(box(s2) - np.square(mean), 0)
    return mean, np.sqrt(variance)


def _denoise(p: Prepared, _osd: OsdFunction | None) -> None:
    if p.image.mode == "L":
        p.replace(Image.fromarray(median3(np.asarray(p.image))))
    else:
        p.replace(p.image.convert(_work_mode(p.image)).filter(ImageFilter.MedianFilter(3)))
    p.record[PrepStep.DENOISE] = {"median": 3}


# Devillard's 19 compare-exchanges that leave the median of 9 values in the middle one.
_MEDIAN9 = (
    (1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3),
    (5, 8), (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2),
)  # fmt: skip


def median3(gray: Gray) -> Gray:
    """The 3×3 median of a grayscale page, edges repeated: Pillow's MedianFilter(3), vectorised."""
    height, width = gray.shape
    padded = np.pad(gray, 1, mode="edge")
    p = [padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)]
    for i, j in _MEDIAN9:
        p[i], p[j] = np.minimum(p[i], p[j]), np.maximum(p[i], p[j])
    return p[4]


def otsu(gray: Gray) -> float:
    """Otsu's global threshold of a grayscale page (0–255)."""
    return _otsu(gray)


def _otsu(gray: Gray) -> float:
    # Pillow's histogram counts the bytes as they are; np.bincount first widened every pixel
    # to 64 bits (eight times the page's memory, mapped fresh each time).
    weights = np.asarray(Image.fromarray(gray).histogram(), dtype=np.float64)
    levels = np.arange(256, dtype=np.float64)
    total = weights.sum()
    cumulative = weights.cumsum()
    means = (weights * levels).cumsum()
    between = np.square(means[-1] * cumulative - means * total) / np.maximum(
        cumulative * (total - cumulative), 1
    )
    return float(levels[int(np.argmax(between))])


def _gray_array(image: Image.Image) -> Gray:
    # 8 bits a pixel: a histogram of bytes is far cheaper than one of floats.
    return np.asarray(image.convert("L"))


def _thumbnail(image: Image.Image, max_side: int) -> Image.Image:
    if max(image.size) <= max_side or max_side <= 1:
        return image
    copy = image.convert(_work_mode(image))
    copy.thumbnail((max_side, max_side))
    return copy


def _work_mode(image: Image.Image) -> str:
    return "RGB" if image.mode == "RGB" else "L"


def _white(image: Image.Image) -> int | tuple[int, int, int]:
    return (255, 255, 255) if image.mode == "RGB" else 255


_STEPS: dict[PrepStep, Callable[[Prepared, OsdFunction | None], None]] = {
    PrepStep.ROTATE: _rotate,
    PrepStep.RESCALE: _rescale,
    PrepStep.DESKEW: _deskew,
    PrepStep.GRAYSCALE: _grayscale,
    PrepStep.BORDER: _border,
    PrepStep.BINARIZE: _binarize,
    PrepStep.DENOISE: _denoise,
}
