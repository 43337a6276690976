"""The review row's quick path for low-confidence words gives the same runs as the general one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.review.render import Run, low_confidence_runs, runs, spans_marks

pytestmark = pytest.mark.unit

TEXT = "Le roy vint à Paris le 3. May, & y demeura."


def test_words_below_the_threshold_become_marked_runs_with_their_confidence() -> None:
    spans = [[0, 2, 95.0], [3, 6, 31.0], [7, 11, 88.0], [14, 19, 12.0]]
    assert low_confidence_runs(TEXT, spans, 60.0) == [
        Run("Le "),
        Run("roy", "low-conf", "OCR confidence 31 %"),
        Run(" vint à "),
        Run("Paris", "low-conf", "OCR confidence 12 %"),
        Run(TEXT[19:]),
    ]


def test_spans_that_no_longer_fit_the_text_are_left_to_the_general_path() -> None:
    assert low_confidence_runs("Le roy", [[3, 9, 10.0]], 60.0) is None
    assert low_confidence_runs(TEXT, [[3, 6, 10.0], [4, 8, 10.0]], 60.0) is None


# Word spans as OCR writes them: in order, not overlapping, each a non-empty range.
cuts = st.lists(st.integers(0, len(TEXT)), unique=True, max_size=16).map(sorted)
confidences = st.lists(st.floats(0, 100, allow_nan=False), min_size=8, max_size=8)


@given(cuts, confidences, st.floats(0, 100, allow_nan=False))
def test_the_quick_path_agrees_with_the_general_one(
    points: list[int], confs: list[float], threshold: float
) -> None:
    spans = [
        [a, b, confs[i % len(confs)]]
        for i, (a, b) in enumerate(zip(points[::2], points[1::2], strict=False))
    ]
    quick = low_confidence_runs(TEXT, spans, threshold)
    assert quick is not None
    assert quick == runs(TEXT, spans_marks(spans, threshold))
    assert "".join(r.text for r in quick) == TEXT
