"""The DOCX export's comments are the ones python-docx's own add_comment would write.

The export numbers comments itself (python-docx scans every earlier comment for each new
one): if a python-docx release writes comments differently, this fails and says so.
"""

from __future__ import annotations

from typing import cast

import docx
import pytest
from docx.document import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.parts.comments import CommentsPart
from lxml import etree

from service.exports.docx_comments import Comments

pytestmark = pytest.mark.unit

NOTES = [("person: Voltaire", "Palimpsest review", "PR"), ("Needs check\nwhy", "check", "PC")]


def commented(add_with_library: bool) -> Document:
    doc = docx.Document()
    paragraph = doc.add_paragraph()
    runs = [paragraph.add_run(word) for word in ("Monsieur ", "de ", "Voltaire")]
    comments = Comments(doc)
    for (text, author, initials), covered in zip(NOTES, (runs[1:], runs), strict=True):
        if add_with_library:
            doc.add_comment(covered, text=text, author=author, initials=initials)
        else:
            comments.add(covered, text, author, initials)
    return doc


def xml_without_dates(doc: Document) -> tuple[bytes, bytes]:
    comments = cast(CommentsPart, doc.part.part_related_by(RT.COMMENTS)).element
    for comment in comments:
        assert comment.get(qn("w:date"))  # dated, as Word shows it
        del comment.attrib[qn("w:date")]
    return etree.tostring(comments), etree.tostring(doc.element.body)


def test_comments_are_written_as_python_docx_writes_them() -> None:
    assert xml_without_dates(commented(False)) == xml_without_dates(commented(True))


def test_comments_are_numbered_after_those_the_document_has() -> None:
    doc = commented(True)
    run = doc.add_paragraph().add_run("Ferney")
    assert Comments(doc).add([run], "place", "Palimpsest review", "PR").comment_id == 2
    assert [c.comment_id for c in doc.comments] == [0, 1, 2]
