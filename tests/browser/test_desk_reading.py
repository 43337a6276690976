"""Reading on the review desk (issue 18, items 5, 6, 8, 9): annotations cover exactly the
words selected, the scan pans from anywhere, the normalised view keeps its low-confidence
marks, and history shows what changed word by word."""

from __future__ import annotations

import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from service.storage import get_storage
from tests.browser.conftest import screenshot
from tests.support.helpers import encode, make_document, segment_ids

pytestmark = pytest.mark.e2e

SELECT = """([id, start, end]) => {
    const el = document.querySelector(`#seg-${id} .text[data-layer='source']`);
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let offset = 0, range = document.createRange(), started = false;
    while (walker.nextNode()) {
      const node = walker.currentNode, len = node.textContent.length;
      if (!started && start < offset + len) {
        range.setStart(node, start - offset); started = true;
      }
      if (started && end <= offset + len) { range.setEnd(node, end - offset); break; }
      offset += len;
    }
    const selection = window.getSelection();
    selection.removeAllRanges(); selection.addRange(range);
    el.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
}"""


def test_a_tag_covers_the_selected_words_without_the_punctuation_around_them(
    page: Page, live_server: str, session: Session
) -> None:
    text = "Llegó al Real Sitio, donde «el rey» esperaba."
    document = make_document(session, [text], ["He came to the Royal Site."], source_lang="es")
    (seg,) = segment_ids(session, document.id)
    page.goto(f"{live_server}/documents/{document.id}")
    # A selection that ran on over the comma and the space after it.
    start = text.index("Real")
    page.evaluate(SELECT, [seg, start, start + len("Real Sitio, ")])
    page.click("#annotate-menu button[data-annotation-type='place']")
    expect(page.locator(f"#seg-{seg} .notes")).to_contain_text("“Real Sitio”")
    # One that took the guillemets along.
    start = text.index("«")
    page.evaluate(SELECT, [seg, start, start + len("«el rey»")])
    page.click("#annotate-menu button[data-annotation-type='person']")
    expect(page.locator(f"#seg-{seg} .notes li")).to_have_count(2)
    listed = page.request.get(f"{live_server}/api/documents/{document.id}/annotations").json()
    assert [(a["type"], a["text"]) for a in listed] == [
        ("place", "Real Sitio"),
        ("person", "el rey"),
    ]
    tei = page.request.get(f"{live_server}/api/documents/{document.id}/export?format=tei").text()
    assert "<placeName>Real Sitio</placeName>," in tei


def test_a_drag_pans_the_scan_even_from_a_box_and_a_click_still_selects(
    page: Page, live_server: str, session: Session
) -> None:
    sha = get_storage().put_bytes(encode(Image.new("L", (1000, 1500), 230), "PNG"))
    document = make_document(
        session,
        ["Premier paragraphe assez long.", "Second paragraphe.", "Troisième."],
        ["First.", "Second.", "Third."],
        image_sha256=sha,
    )
    first, second, _ = segment_ids(session, document.id)
    page.goto(f"{live_server}/documents/{document.id}")
    page.click("button[data-zoom='in']")
    page.click("button[data-zoom='in']")
    canvas = page.locator(".canvas")
    port = page.locator(".viewport").bounding_box()
    assert port is not None
    # The zoom took the top of the page, where the text is, out of view: drag it back down
    # from the empty middle of the scan.
    middle = (port["x"] + port["width"] / 2, port["y"] + port["height"] / 2)
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0], middle[1] + 300, steps=6)
    page.mouse.up()
    before = canvas.evaluate("e => e.style.transform")
    box = page.locator(f".box[data-segment-id='{first}']").bounding_box()
    assert box is not None
    # A point of the box that shows inside the viewport (the zoom crops the scan).
    x = max(box["x"], port["x"]) + 20
    y = (max(box["y"], port["y"]) + min(box["y"] + box["height"], port["y"] + port["height"])) / 2
    assert page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).className", [x, y]
    ).startswith("box")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 150, y + 60, steps=8)
    page.mouse.up()
    after = canvas.evaluate("e => e.style.transform")
    moved = [float(v) for v in re.findall(r"-?[\d.]+(?=px)", after)]
    start = [float(v) for v in re.findall(r"-?[\d.]+(?=px)", before)]
    assert moved[0] == pytest.approx(start[0] - 150, abs=2)
    assert moved[1] == pytest.approx(start[1] + 60, abs=2)
    expect(page.locator(f"#seg-{first}")).not_to_have_class(re.compile("selected"))

    target = page.locator(f".box[data-segment-id='{second}']")
    target.click()
    expect(page.locator(f"#seg-{second}")).to_have_class(re.compile("selected"))
    assert canvas.evaluate("e => e.style.transform") == after  # a click does not move it
    screenshot(page, "reading-01-panned")


def test_the_normalised_view_keeps_the_low_confidence_marks(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(
        session,
        ["Die Wüſte iſt groß und leer.", "Der Sand ist heiß."],
        ["The desert is big and empty.", "The sand is hot."],
        source_lang="de",
        low_words=frozenset({"Wüſte", "leer.", "Sand"}),
    )
    seg, plain = segment_ids(session, document.id)
    page.goto(f"{live_server}/documents/{document.id}")
    diplomatic = page.locator(f"#seg-{seg} .text.diplomatic .low-conf")
    expect(diplomatic).to_have_text(["Wüſte", "leer."])
    page.check("input[name='layer'][value='normalised']")
    normalised = page.locator(f"#seg-{seg} .text.normalised")
    expect(normalised).to_be_visible()
    expect(normalised).to_have_text("Die Wüste ist groß und leer.")
    marks = normalised.locator(".low-conf")
    expect(marks).to_have_text(["Wüste", "leer."])
    expect(marks.first).to_have_attribute("title", "OCR confidence 30 %")
    # A segment whose two forms are the same text keeps its marks too.
    expect(page.locator(f"#seg-{plain} .text.normalised .low-conf")).to_have_text(["Sand"])
    screenshot(page, "reading-02-normalised")


def test_history_shows_a_one_letter_change_as_one_changed_word(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(
        session, ["Le roy est mort."], ["The king is dead, long live the king."]
    )
    (seg,) = segment_ids(session, document.id)
    page.goto(f"{live_server}/documents/{document.id}")
    row = page.locator(f"#seg-{seg}")
    row.locator("button[data-action='edit']").click()
    row.locator("textarea.editor-source").fill("Le roi est mort.")
    row.locator("button[data-action='save']").click()
    expect(row).to_have_attribute("data-status", "stale")
    page.locator(f"#seg-{seg} button[data-action='history']").click()
    entry = page.locator("#history li").first
    expect(entry.locator("del")).to_have_text("roy")
    expect(entry.locator("ins")).to_have_text("roi")
    expect(entry.locator(".diff")).to_have_text("Le royroi est mort.")
    screenshot(page, "reading-03-history")
