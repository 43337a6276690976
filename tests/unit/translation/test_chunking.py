from service.translation.chunking import SegmentText, estimate_tokens, plan_batches


def test_batches_keep_order_and_stay_under_budget() -> None:
    segments = [SegmentText(i, "x" * 350) for i in range(1, 11)]  # ~100 tokens each
    batches = plan_batches(segments, budget=300)
    assert [i for batch in batches for i in batch] == list(range(1, 11))
    assert all(sum(estimate_tokens("x" * 350) for _ in b) <= 300 for b in batches)
    assert len(batches) == 4


def test_a_segment_larger_than_the_budget_is_never_split() -> None:
    segments = [SegmentText(1, "short"), SegmentText(2, "y" * 5000), SegmentText(3, "short")]
    assert plan_batches(segments, budget=100) == [[1], [2], [3]]


def test_no_segments_no_batches() -> None:
    assert plan_batches([], budget=100) == []
