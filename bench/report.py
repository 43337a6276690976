"""bench/results/latest.md and the PNG plots, from the figures of one `make bench` run."""

from __future__ import annotations

import json
import math
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import RESULTS, Figure

TITLES = {
    "ocr": "1–2. OCR throughput and scaling",
    "translation": "3. Translation",
    "quality": "3b. Translation quality (bundled model, dev sets)",
    "web": "4. Web",
    "exports": "5. Exports (300-page document)",
    "footprint": "6. Footprint (resident memory)",
    "live": "7. Review desk: rows as pages are read",
    "transcription": "8. Transcribing by hand (bench/results/transcription.md)",
    "pagewise": "9. Translation page by page (bench/results/pagewise.md)",
}
NOISE = (
    "This machine is shared with other jobs (see the load averages above): single timings "
    "swing by tens of percent from one minute to the next. Each figure is the median of "
    "several rounds, and each ratio compares it with a reference measured in the same run, "
    "the sides alternating round by round, so both see the same load; trust the ratios "
    "more than the absolute times."
)


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def _met(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "**no**")


def table(figures: list[Figure]) -> list[str]:
    """One Markdown table of a section's figures."""
    lines = [
        "| figure | measured | reference (same run) | ratio | goal | met | notes |",
        "|---|---:|---|---:|---|---|---|",
    ]
    for f in figures:
        reference = f"{f.reference}: {_number(f.reference_value, f.unit)}" if f.reference else ""
        ratio = f"{f.ratio:.2f} ({f.ratio_label})" if f.ratio is not None else ""
        lines.append(
            f"| {f.name} | {_number(f.value, f.unit)} | {reference} | {ratio} | {f.goal} | "
            f"{_met(f.met)} | {f.spread} |"
        )
    return lines


def markdown(meta: dict[str, Any], figures: list[Figure]) -> str:
    """The whole latest.md."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    seconds = ", ".join(f"{k} {v:.0f} s" for k, v in meta.get("seconds", {}).items())
    out = [
        "# Benchmarks (`make bench`)",
        "",
        f"Run {when} at commit {meta.get('commit', '?')}, {meta.get('total_s', 0) / 60:.1f} "
        f"minutes ({seconds}).",
        "",
        f"Machine at the start: {meta.get('machine_start', '?')}.  ",
        f"At the end: load {meta.get('machine_end', '?').rsplit('load ', 1)[-1]}.",
        "",
        NOISE,
    ]
    for section, title in TITLES.items():
        chosen = [f for f in figures if f.section == section]
        if not chosen:
            continue
        out += ["", f"## {title}", "", *table(chosen)]
        note = meta.get("notes", {}).get(section)
        if note:
            out += ["", note]
        out += ["", f"![{section}]({section}.png)"]
    return "\n".join(out) + "\n"


def plot(section: str, figures: list[Figure], path: Path) -> None:
    """Small multiples: each figure beside its reference, with the rounds as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, len(figures))
    rows = math.ceil(len(figures) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, f in zip(axes.flat, figures, strict=False):
        labels, values = ["measured"], [f.value]
        if f.reference_value is not None:
            labels.append("\n".join(textwrap.wrap(f.reference, 22)))
            values.append(f.reference_value)
        colours = ["#1f77b4" if f.met is not False else "#d62728", "#999999"]
        ax.bar(range(len(values)), values, color=colours[: len(values)])
        if f.runs:
            ax.plot([0] * len(f.runs), f.runs, "k.", alpha=0.6)
        ax.set_xticks(range(len(values)), labels, fontsize=7)
        ax.set_title("\n".join(textwrap.wrap(f.name, 40)), fontsize=8)
        ax.set_ylabel(f.unit, fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        if f.goal:
            ax.text(
                0.98,
                0.95,
                f"goal {f.goal}",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=7,
            )
    for ax in list(axes.flat)[len(figures) :]:
        ax.axis("off")
    fig.suptitle(TITLES[section], fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(meta: dict[str, Any], figures: list[Figure]) -> Path:
    """latest.md and one PNG per section."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    for section in TITLES:
        chosen = [f for f in figures if f.section == section]
        if chosen:
            plot(section, chosen, RESULTS / f"{section}.png")
    path = RESULTS / "latest.md"
    path.write_text(markdown(meta, figures))
    return path


if __name__ == "__main__":
    # Re-render from latest.json (e.g. after changing the layout) without measuring again.
    saved = json.loads((RESULTS / "latest.json").read_text())
    print(write(saved["meta"], [Figure(**f) for f in saved["figures"]]), file=sys.stderr)
