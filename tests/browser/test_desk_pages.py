"""The pages around the review desk (issue 18, items 13, 14, 15, 18, 19): downloads that
fail say why in their menu and are named after the document, collections and glossaries,
OCR corrections on request, the upload form."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.models import User
from tests.browser.conftest import screenshot
from tests.support.helpers import make_document
from tests.workers.test_bad_uploads import huge_png_header

pytestmark = pytest.mark.e2e


def test_downloads_say_what_is_wrong_in_the_menu_and_carry_the_title(
    page: Page, live_server: str, session: Session, tmp_path: Path
) -> None:
    document = make_document(
        session,
        ["La corriente del río. 1. Primero (según el autor)."],
        ["The current of the river. 1. First (according to the author)."],
        title="Relación del río",
    )
    url = f"{live_server}/documents/{document.id}"
    page.goto(url)
    page.click("details.export-menu summary")
    form = page.locator("form.export")
    form.locator("select[name='format']").select_option("md")
    with page.expect_download() as download:
        form.locator("button[type=submit]").click()
    assert download.value.suggested_filename == "Relación-del-río.md"
    markdown = Path(download.value.path()).read_text()
    assert "La corriente del río. 1. Primero (según el autor)." in markdown  # no \\. or \\(

    # A page the document does not have: the reason shows in the menu, the page stays.
    form.locator("input[name='first_page']").evaluate("e => e.removeAttribute('max')")
    form.locator("input[name='first_page']").fill("4")
    form.locator("input[name='last_page']").fill("")
    form.locator("button[type=submit]").click()
    expect(form.locator(".export-message")).to_contain_text("pages 1–1")
    assert page.url == url
    screenshot(page, "pages-01-export-error")

    form.locator("input[name='first_page']").fill("")
    form.locator("select[name='format']").select_option("pdf")
    with page.expect_download() as download:
        form.locator("button[type=submit]").click()
    assert download.value.suggested_filename == "Relación-del-río.pdf"
    info = subprocess.run(
        ["pdfinfo", download.value.path()], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"^Title:\s+Relación del río$", info, re.M)
    assert "anonymous" not in info and "2000" not in info.split("CreationDate:")[1].split("\n")[0]


def test_a_document_goes_into_a_collection_whose_glossary_asks_before_replacing(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(session, ["Texto."], ["Text."], title="Carta de Sevilla")
    # Only its uploader (or an administrator) moves a document: the reviewer uploaded it.
    uploader = session.scalars(select(User).order_by(User.id.desc())).first()
    assert uploader is not None
    document.created_by = uploader.id
    session.commit()
    page.goto(f"{live_server}/collections")  # its maker is a member and may use it
    page.fill("#collection-name", "Cartas de Indias")
    page.click("form.upload button[type=submit]")
    page.goto(f"{live_server}/documents/{document.id}")
    page.click("details.more-menu summary")
    page.select_option("#collection-choice", label="Cartas de Indias")
    page.click(".collection-form button[type=submit]")
    page.click("details.more-menu summary")
    page.click("text=Glossary of the collection")
    expect(page.locator("h1")).to_contain_text("Cartas de Indias")
    expect(page.locator("ul >> text=Carta de Sevilla")).to_be_visible()

    page.fill("#new-term", "alcalde")
    page.fill("#new-translation", "mayor")
    page.fill("#new-note", "not 'judge'")
    page.click("form.upload button[type=submit]")
    row = page.locator("table.glossary tbody tr").first
    note = row.locator("input[name='note']")
    expect(note).to_have_value("not 'judge'")
    column = note.evaluate("e => e.closest('td').cellIndex")
    assert column == 2  # under "Note", not under "Agreed translation"
    fonts = note.evaluate(
        "e => [getComputedStyle(e).fontFamily, getComputedStyle(document.body).fontFamily]"
    )
    assert fonts[0] == fonts[1]

    page.fill("#new-term", "alcalde")
    page.fill("#new-translation", "magistrate")
    page.click("form.upload button[type=submit]")
    expect(page.locator(".errors.replace")).to_contain_text(
        "“alcalde” is in the glossary already, as “mayor”"
    )
    expect(row.locator("input[name='translation']")).to_have_value("mayor")  # not yet
    screenshot(page, "pages-02-glossary-asks")
    page.click(".errors.replace button[type=submit]")
    expect(page.locator("table.glossary input[name='translation']").first).to_have_value(
        "magistrate"
    )


def test_corrections_are_linked_explained_and_asked_for_a_page(
    page: Page, live_server: str, session: Session
) -> None:
    document = make_document(
        session, ["Le c0nseil de la vi1le.", "Les échevins 0nt signé."], ["a", "b"], pages=2
    )
    page.goto(f"{live_server}/documents/{document.id}")
    page.click("details.more-menu summary")
    page.click("text=OCR corrections")
    expect(page.locator(".notice")).to_contain_text("OCR post-correction is off by default")
    expect(page.locator("tr.correction")).to_have_count(2)
    page.select_option("#correct-page", "2")
    page.click(".ask-corrections button[type=submit]")
    # The run goes to the worker; the page shows it and reloads itself when it is done.
    expect(page.locator("tr.correction del")).to_have_text("0nt", timeout=60_000)
    expect(page.locator("tr.correction ins")).to_have_text("ont")
    expect(page.locator("tr.correction").first).to_contain_text("no proposal yet")
    screenshot(page, "pages-03-corrections")


def test_the_upload_form_offers_the_readme_tags_and_refuses_a_huge_image(
    page: Page, live_server: str
) -> None:
    page.goto(f"{live_server}/documents/new")
    options = page.locator("#source_lang option").evaluate_all("os => os.map(o => o.value)")
    for tag in ("auto", "de-Latf", "de-Latn", "de", "la+grc", "de-Latf+la"):
        assert tag in options
    page.set_input_files(
        "#files",
        files=[
            FilePayload(name="plan.png", mimeType="image/png", buffer=huge_png_header(30000, 20000))
        ],
    )
    page.click("form.upload button[type=submit]")
    errors = page.locator(".errors")
    expect(errors).to_contain_text("plan.png: The image is 30,000 × 20,000 pixels")
    expect(errors).to_contain_text("the limit is 250 million pixels per image")
    assert page.url.endswith("/documents")  # the form again, no document made
    screenshot(page, "pages-04-upload-refused")
