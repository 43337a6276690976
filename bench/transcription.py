"""Transcribing by hand: what a transcriber does besides typing, per line, against
FromThePage's one-box-per-page editor; and the line finder against Tesseract's lines.

    .venv/bin/python -m bench.transcription      (this section alone, into
                                                  bench/results/transcription.md)

1. A real handwritten page (Candide, ms. p. 3, ../shared/data) is typed line by line in
   the editor in headless Chromium against `palimpsest serve`, from its ground truth, with
   the keyboard alone, as a transcriber would: each line's text, then Enter. A listener in
   the page counts every key and pointer action; after a reload every line must be there.
   Figures: keys that are not text, and pointer actions, per line; the time from Enter to
   the next line's field having the focus (measured in the page); and a Keystroke-Level
   Model estimate (Card, Moran and Newell 1980: a key 0.28 s, pointing 1.1 s, a button
   0.1 s, a hand between mouse and keyboard 0.4 s) of the time spent on those actions.
2. FromThePage, as its documentation describes it (one text box per page beside the
   image; "click the Save Changes button often as you work"; Done when the page is
   finished; the image pane is zoomed and panned by hand and does not follow the text):
   modelled on the same page at the same legibility, NOT measured (it does not run here):
   one Enter per line, a Save per region (paragraph), a Done per page, and a pan of the
   image each time the lines being typed leave its pane. It is a lower bound: panning
   sideways along long lines and finding one's place again are not counted.
3. Lines found on the seven handwritten pages: this project's projection-profile finder
   against Tesseract's own line boxes (psm 3), matched to the ground truth (IoU ≥ 0.5),
   with their time.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Figure, percentile, write_results

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "pages"
PAGE = SHARED / "fra-hand-c1758-candide-ms-p3"
KEY, POINT, BUTTON, HOME = 0.28, 1.1, 0.1, 0.4  # KLM operators, seconds
# FromThePage's layout: image and text side by side; on a 1440 × 900 screen the image
# pane is about half the width and the height under the toolbars.
FTP_PANE = (720, 640)

COUNTER = """
window.__actions = {text: 0, other: 0, pointer: 0, enterToFocus: []};
document.addEventListener('keydown', (e) => {
  const a = window.__actions;
  if (e.key.length === 1 && !e.ctrlKey && !e.altKey && !e.metaKey) a.text += 1; else a.other += 1;
  if (e.key === 'Enter') a.enterAt = performance.now();
}, true);
document.addEventListener('focusin', () => {
  const a = window.__actions;
  if (a.enterAt === undefined) return;
  a.enterToFocus.push(performance.now() - a.enterAt);
  a.enterAt = undefined;
}, true);
document.addEventListener('pointerdown', () => { window.__actions.pointer += 1; }, true);
"""


@dataclass(frozen=True)
class Typed:
    """What typing one page took in the editor."""

    lines: int
    regions: int
    text_keys: int
    other_keys: int
    pointer: int
    enter_to_focus_ms: list[float]
    kept: bool
    scale: float  # screen pixels per page pixel of the line images
    save_ms: float


def ground_truth(folder: Path) -> list[str]:
    """The page's lines, in reading order."""
    return [line for line in (folder / "gt.txt").read_text().splitlines() if line.strip()]


def seed_page() -> tuple[int, int]:
    """The handwritten page as the OCR stage leaves it: flagged, its lines found."""
    from service.db import unit_of_work
    from tests.support.helpers import handwritten_page

    with unit_of_work() as session:
        page = handwritten_page(session, PAGE)
        return page.document_id, page.id


def type_page(base: str, token: str, document_id: int) -> Typed:
    """Type the page from its ground truth in the editor, keyboard only; count actions."""
    from playwright.sync_api import expect, sync_playwright

    from service.accounts.middleware import SESSION_COOKIE

    truth = ground_truth(PAGE)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise RuntimeError("chromium is not installed: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base}])
        context.add_init_script(COUNTER)
        page = context.new_page()
        page.goto(f"{base}/documents/{document_id}/pages/1/transcribe")
        fields = page.locator("input.tx-text")
        expect(fields.first).to_be_focused(timeout=30_000)
        count = min(fields.count(), len(truth))
        for text in truth[:count]:
            page.keyboard.type(text)
            page.keyboard.press("Enter")
        started = time.perf_counter()
        expect(page.locator("#tx-saved")).to_have_text("All changes saved", timeout=60_000)
        save_ms = (time.perf_counter() - started) * 1000
        actions: dict[str, Any] = page.evaluate("window.__actions")
        scale = float(page.evaluate(_SCALE))
        regions = page.locator("section.tx-group").count()
        page.reload()
        page.wait_for_selector("input.tx-text")
        kept = [fields.nth(i).input_value() for i in range(count)] == truth[:count]
        browser.close()
    return Typed(
        count,
        regions,
        actions["text"],
        actions["other"],
        actions["pointer"],
        actions["enterToFocus"],
        kept,
        scale,
        save_ms,
    )


# Screen pixels per page pixel of the line images: the widest crop's width over its box's.
_SCALE = """(() => {
  const state = JSON.parse(document.getElementById('tx-state').textContent);
  const crops = Array.from(document.querySelectorAll('.tx-crop'));
  const widest = Math.max(...crops.map((c) => c.getBoundingClientRect().width));
  const boxes = state.regions.flatMap((r) => r.lines.map((l) => (l.bbox || r.bbox)));
  const pageWidest = Math.max(...boxes.map((b) => b[2] - b[0]));
  return widest / (pageWidest * 1.0);
})()"""


def line_spacing() -> float:
    """The page's line spacing in its pixels, as the line finder measures it."""
    from PIL import Image

    from service.ocr.lines import find_lines

    with Image.open(next(PAGE.glob("*.jpg"))) as image:
        return find_lines(image).spacing


def from_the_page(lines: int, regions: int, scale: float, spacing: float) -> dict[str, float]:
    """Non-typing actions per line in FromThePage's editor, from its documentation."""
    per_pane = max(1.0, FTP_PANE[1] / (spacing * scale))  # lines the image pane shows
    pans = lines / per_pane
    saves = regions + 1  # Save Changes once a paragraph, Done once a page
    keys = lines  # Enter at each line's end, as its conventions ask
    pointer = pans * 2 + saves  # a pan is a press and a release; a save one click
    seconds = (
        keys * KEY
        + pans * (2 * HOME + 2 * POINT + 2 * BUTTON)
        + saves * (2 * HOME + POINT + BUTTON)
    )
    return {"keys": keys / lines, "pointer": pointer / lines, "seconds": seconds / lines}


def ours(typed: Typed) -> dict[str, float]:
    """The same for this editor, from what was counted."""
    seconds = typed.other_keys * KEY + typed.pointer * (2 * HOME + POINT + BUTTON)
    return {
        "keys": typed.other_keys / typed.lines,
        "pointer": typed.pointer / typed.lines,
        "seconds": seconds / typed.lines,
    }


def line_finders() -> list[tuple[str, int, int, int, float, int, int, float]]:
    """Per page: true lines; this finder's lines, matches, seconds; Tesseract's the same."""
    import pytesseract
    from PIL import Image

    from service.ocr.lines import find_lines

    rows = []
    for folder in sorted(SHARED.glob("fra-hand-*")):
        truth = true_lines(folder)
        path = next(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
        with Image.open(path) as image:
            gray = image.convert("L")
        started = time.perf_counter()
        found = find_lines(gray).lines
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        data = pytesseract.image_to_data(
            gray, lang="fra", config="--psm 3", output_type=pytesseract.Output.DICT
        )
        tess_s = time.perf_counter() - started
        tess = [
            (
                data["left"][i],
                data["top"][i],
                data["left"][i] + data["width"][i],
                data["top"][i] + data["height"][i],
            )
            for i, level in enumerate(data["level"])
            if level == 4
        ]
        rows.append(
            (
                folder.name,
                len(truth),
                len(found),
                matches(found, truth),
                ours_s,
                len(tess),
                matches(tess, truth),
                tess_s,
            )
        )
    return rows


Box = tuple[int, int, int, int]


def true_lines(folder: Path) -> list[Box]:
    """The text lines of a page's ALTO ground truth."""
    from lxml import etree

    alto = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
    boxes = []
    for line in etree.parse(str(next(folder.glob("*.xml")))).iterfind(".//a:TextLine", alto):
        x, y, w, h = (int(float(line.get(k, "0"))) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
        boxes.append((x, y, x + w, y + h))
    return boxes


def matches(found: list[Box], truth: list[Box]) -> int:
    """One-to-one matches with IoU ≥ 0.5, best pairs first (as tests/unit/ocr/test_lines)."""

    def iou(a: Box, b: Box) -> float:
        w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
        return w * h / union if union else 0.0

    pairs = sorted(
        ((iou(f, t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)),
        reverse=True,
    )
    used: tuple[set[int], set[int]] = (set(), set())
    for score, i, j in pairs:
        if score >= 0.5 and i not in used[0] and j not in used[1]:
            used[0].add(i)
            used[1].add(j)
    return len(used[1])


def figures(base: str, token: str) -> list[Figure]:
    """Type the page, model FromThePage, compare the line finders."""
    document_id, _ = seed_page()
    typed = type_page(base, token, document_id)
    if not typed.kept:
        raise RuntimeError("typed lines were lost on reload")
    spacing = line_spacing()
    mine, theirs = ours(typed), from_the_page(typed.lines, typed.regions, typed.scale, spacing)
    focus = statistics.median(typed.enter_to_focus_ms)
    figs = [
        Figure(
            "transcription",
            "non-typing keys per line",
            mine["keys"],
            "keys",
            "FromThePage (modelled)",
            theirs["keys"],
            goal="only Enter (1.0)",
            met=mine["keys"] <= 1.0,
            spread=f"{typed.lines} lines, {typed.other_keys} keys",
        ),
        Figure(
            "transcription",
            "pointer actions per line",
            mine["pointer"],
            "actions",
            "FromThePage (modelled)",
            theirs["pointer"],
            goal="none",
            met=mine["pointer"] == 0,
        ),
        Figure(
            "transcription",
            "non-typing time per line (KLM)",
            mine["seconds"],
            "s",
            "FromThePage (modelled)",
            theirs["seconds"],
            ratio=theirs["seconds"] / mine["seconds"] if mine["seconds"] else None,
            ratio_label="FromThePage / this editor",
        ),
        Figure(
            "transcription",
            "Enter to the next line's field",
            focus,
            "ms",
            spread=f"p95 {percentile(typed.enter_to_focus_ms, 95):.1f} ms",
        ),
    ]
    rows = line_finders()
    truth = sum(r[1] for r in rows)
    figs.append(
        Figure(
            "transcription",
            "true lines found by the line finder",
            sum(r[3] for r in rows) / truth * 100,
            "%",
            "Tesseract psm 3",
            sum(r[6] for r in rows) / truth * 100,
        )
    )
    _write(typed, mine, theirs, rows)
    return figs


def _row(label: str, f: dict[str, float]) -> str:
    return f"| {label} | {f['keys']:.2f} | {f['pointer']:.2f} | {f['seconds']:.2f} s |"


def _write(typed: Typed, mine: dict[str, float], theirs: dict[str, float], rows: list[Any]) -> None:
    table = [
        "| | non-typing keys / line | pointer actions / line | non-typing time / line (KLM) |",
        "|---|---:|---:|---:|",
        _row("this editor (measured)", mine),
        _row("FromThePage (modelled, lower bound)", theirs),
    ]
    finder = [
        "| page | true lines | found | matched | s | Tesseract lines | matched | s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| `{r[0]}` | {r[1]} | {r[2]} | {r[3]} | {r[4]:.2f} | {r[5]} | {r[6]} | {r[7]:.1f} |"
            for r in rows
        ),
    ]
    t = [sum(r[i] for r in rows) for i in range(1, 8)]
    finder.append(f"| all | {t[0]} | {t[1]} | {t[2]} | {t[3]:.2f} | {t[4]} | {t[5]} | {t[6]:.1f} |")
    body = f"""Page typed: `{PAGE.name}`, {typed.lines} lines in {typed.regions} region(s) as
the line finder grouped them, from its ground truth, keyboard only, in headless Chromium
against `palimpsest serve` (every line was there after a reload). Keys counted in the
page: {typed.text_keys} text keys, {typed.other_keys} others, {typed.pointer} pointer
actions. Enter → next line's field: median {statistics.median(typed.enter_to_focus_ms):.1f}
ms. Saving is automatic: the last change was saved {typed.save_ms:.0f} ms after the last
key (autosave waits 0.7 s after typing stops).

{chr(10).join(table)}

FromThePage is not measured (it does not run here): its figures follow its documentation
(one text box per page beside the image, Enter at each line's end, "click the Save Changes
button often", Done per page, the image panned by hand), with one Save per region and one
pan each time the typed lines leave an image pane of {FTP_PANE[0]} × {FTP_PANE[1]} pixels at
the legibility of this editor's line images ({typed.scale:.3f} screen pixels per page pixel).
Keystroke-Level Model: key {KEY} s, point {POINT} s, button {BUTTON} s, hand {HOME} s.

Lines found on the seven handwritten pages (IoU ≥ 0.5 with the ground truth's lines):

{chr(10).join(finder)}
"""
    write_results("transcription", "Transcribing by hand", body)


def main() -> int:
    """This section alone, against a scratch database, written to transcription.md."""
    from bench import procs
    from bench.setup import bench_database, login_token

    with bench_database():
        procs.use_bench_redis()
        token = login_token()
        with procs.web_server() as (base, _pid):
            for figure in figures(base, token):
                print(
                    f"{figure.name}: {figure.value:.2f} {figure.unit}"
                    f" (reference {figure.reference_value})"
                )
    print((Path(__file__).parent / "results" / "transcription.md").read_text())
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PALIMPSEST_LOG_LEVEL", "warning")
    sys.exit(main())
