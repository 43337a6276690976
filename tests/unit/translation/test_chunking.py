from service.translation.chunking import (
    SegmentText,
    budget_for,
    estimate_tokens,
    plan_batches,
    split_text,
)


def test_batches_keep_order_and_stay_under_budget() -> None:
    segments = [SegmentText(i, "x" * 350) for i in range(1, 11)]  # ~100 tokens each
    batches = plan_batches(segments, budget=300)
    assert [i for batch in batches for i in batch] == list(range(1, 11))
    assert all(sum(estimate_tokens("x" * 350) for _ in b) <= 300 for b in batches)
    assert len(batches) == 4


def test_a_segment_larger_than_the_budget_is_never_split_across_batches() -> None:
    segments = [SegmentText(1, "short"), SegmentText(2, "y" * 5000), SegmentText(3, "short")]
    assert plan_batches(segments, budget=100) == [[1], [2], [3]]


def test_no_segments_no_batches() -> None:
    assert plan_batches([], budget=100) == []


def test_the_budget_leaves_room_for_the_answer_and_for_reasoning() -> None:
    assert budget_for(8192, configured=1200) == 1200  # a large context: the setting rules
    small = budget_for(2048, configured=1200)
    assert small * 2.6 + 700 <= 2048  # source, answer and prompt fit the context
    assert budget_for(4096, 1200, reasoning=True) < budget_for(4096, 1200)


def test_a_long_segment_is_cut_at_sentence_ends_and_joins_back() -> None:
    sentences = [
        f"Der {n}. Artikel befiehlt den Bürgern, die Gassen rein zu halten." for n in range(12)
    ]
    text = " ".join(sentences)
    pieces = split_text(text, budget=60)
    assert len(pieces) > 1
    assert " ".join(pieces) == text
    assert all(estimate_tokens(p) <= 60 for p in pieces)
    assert all(p.endswith(".") for p in pieces)  # never in the middle of a sentence


def test_a_sentence_longer_than_the_budget_is_cut_at_clauses_then_words() -> None:
    clauses = ", ".join(f"und der {n}. Zeuge sagte aus" for n in range(30))
    pieces = split_text(clauses, budget=40)
    assert " ".join(pieces) == clauses
    assert all(estimate_tokens(p) <= 40 for p in pieces)
    words = " ".join(["Wort"] * 200)
    assert " ".join(split_text(words, budget=20)) == words


def test_a_short_text_is_one_piece() -> None:
    assert split_text("Kurz.", budget=10) == ["Kurz."]
