"""Preprocessing gives exactly what the OCR quality figures (eval-ocr) were measured with."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from service.ocr.preprocess import PrepStep, prepare, skew_angle
from tests.conftest import SAMPLES

pytestmark = pytest.mark.unit


def _denoised(image: Image.Image) -> Image.Image:
    return prepare(image, 300, frozenset({PrepStep.DENOISE})).image


def test_denoising_a_fraktur_page_changes_no_pixel_from_pillows_median() -> None:
    gray = Image.open(SAMPLES / "deu-fraktur-1771-anekdoten-p0084.tif").convert("L")
    denoised = _denoised(gray)
    assert denoised.mode == "L" and denoised.size == gray.size
    expected = gray.filter(ImageFilter.MedianFilter(3))
    assert np.array_equal(np.asarray(denoised), np.asarray(expected))


def test_denoising_removes_specks_and_keeps_strokes_up_to_the_edges() -> None:
    page = np.full((20, 30), 255, dtype=np.uint8)
    page[5, 5] = page[0, 29] = 0  # specks, one in a corner
    page[10:13, :] = 0  # a stroke three pixels thick, across the whole page
    denoised = np.asarray(_denoised(Image.fromarray(page)))
    assert denoised[5, 5] == 255 and denoised[0, 29] == 255
    assert (denoised[10:13, :] == 0).all()
    noisy = np.random.default_rng(7).integers(0, 256, (23, 31), dtype=np.uint8)
    expected = Image.fromarray(noisy).filter(ImageFilter.MedianFilter(3))
    assert np.array_equal(np.asarray(_denoised(Image.fromarray(noisy))), np.asarray(expected))


def test_a_tilted_page_is_turned_straight_before_reading() -> None:
    # A real Fraktur page, tilted by a known angle as a careless scan would be.
    straight = Image.open(SAMPLES / "deu-fraktur-1771-anekdoten-p0084.tif").convert("L")
    base = skew_angle(straight)
    for tilt in (-2.25, -0.75, 1.5):
        tilted = straight.rotate(tilt, resample=Image.Resampling.BICUBIC, fillcolor=255)
        prepared = prepare(tilted, 300, frozenset({PrepStep.DESKEW}))
        turned = prepared.record[PrepStep.DESKEW]["degrees"]
        assert abs(turned - (base - tilt)) <= 0.5, (tilt, turned)
        assert abs(skew_angle(prepared.image) - base) <= 0.5  # as straight as the scan was
