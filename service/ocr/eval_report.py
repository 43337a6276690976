"""The evaluation's Markdown table: CER per page and layer, means per set, times."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from service.ocr.cer import Layer
from service.ocr.evaluation import PageResult

TUNING, HELD_OUT, HANDWRITTEN = "tuning", "held-out", "handwritten"


def page_set(result: PageResult, tuning: set[str]) -> str:
    """Which set a page belongs to."""
    if result.page.handwritten:
        return HANDWRITTEN
    return TUNING if result.page.id in tuning else HELD_OUT


def render(results: Sequence[PageResult], tuning: set[str], header: str) -> str:
    """The whole report."""
    lines = [header, "", _TABLE_HEAD, _TABLE_RULE]
    lines += [_row(r, page_set(r, tuning)) for r in results]
    lines += [
        "",
        "| set | pages | CER dipl. ours | base | CER norm. ours | base | "
        "reduction (norm.) | time ours s | base s | time ratio |",
        "|" + "---|" * 10,
    ]
    for name in (TUNING, HELD_OUT, "all printed"):
        chosen = [r for r in results if _in(r, name, tuning)]
        if chosen:
            lines.append(_summary(name, chosen))
    flagged = [r for r in results if r.page.handwritten]
    if flagged:
        hits = sum(r.flagged for r in flagged)
        lines += [
            "",
            f"Handwritten pages flagged 'needs manual transcription': {hits} of "
            f"{len(flagged)}. Printed pages flagged: "
            f"{sum(r.flagged for r in results if not r.page.handwritten)}.",
        ]
    return "\n".join(lines) + "\n"


_TABLE_HEAD = (
    "| page | set | tag | CER dipl. ours | base | CER norm. ours | base | "
    "unordered norm. ours | base | s ours | s base | flagged |"
)
_TABLE_RULE = "|" + "---|" * 12


def _in(result: PageResult, name: str, tuning: set[str]) -> bool:
    kind = page_set(result, tuning)
    return kind == name or (name == "all printed" and kind != HANDWRITTEN)


def _row(r: PageResult, kind: str) -> str:
    mark = "*" if r.page.ambiguous_order else ""
    cells = [
        f"`{r.page.id}`{mark}",
        kind,
        f"`{r.page.tag}`",
        _pct(r.score("ours", Layer.DIPLOMATIC)),
        _pct(r.score("base", Layer.DIPLOMATIC)) if r.baseline else "–",
        _pct(r.score("ours", Layer.NORMALISED)),
        _pct(r.score("base", Layer.NORMALISED)) if r.baseline else "–",
        _pct(r.ours["normalised-unordered"]),
        _pct(r.baseline["normalised-unordered"]) if r.baseline else "–",
        f"{r.ours_s:.2f}",
        f"{r.baseline_s:.2f}" if r.baseline else "–",
        "yes" if r.flagged else "no",
    ]
    return "| " + " | ".join(cells) + " |"


def _summary(name: str, chosen: Sequence[PageResult]) -> str:
    def mean(reader: str, layer: Layer) -> float:
        return statistics.fmean(r.score(reader, layer) for r in chosen)

    ours_n = mean("ours", Layer.NORMALISED)
    has_base = all(r.baseline for r in chosen)
    base_n = mean("base", Layer.NORMALISED) if has_base else float("nan")
    ours_t = statistics.fmean(r.ours_s for r in chosen)
    base_t = statistics.fmean(r.baseline_s for r in chosen) if has_base else float("nan")
    cells = [
        name,
        str(len(chosen)),
        _pct(mean("ours", Layer.DIPLOMATIC)),
        _pct(mean("base", Layer.DIPLOMATIC)) if has_base else "–",
        _pct(ours_n),
        _pct(base_n) if has_base else "–",
        f"{(1 - ours_n / base_n):.0%}" if has_base and base_n else "–",
        f"{ours_t:.2f}",
        f"{base_t:.2f}" if has_base else "–",
        f"{ours_t / base_t:.2f}×" if has_base and base_t else "–",
    ]
    return "| " + " | ".join(cells) + " |"


def _pct(value: float) -> str:
    return f"{value:.2%}"
