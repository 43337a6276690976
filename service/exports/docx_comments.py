"""Word comments for the DOCX export, written through python-docx's public API.

`Document.add_comment` numbers each new comment by scanning every earlier one for the
highest id, so a book's comments cost time quadratic in their number. The export only
ever appends comments, so it numbers them itself, in order: the same ids, in one pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

from docx.comments import Comment
from docx.document import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.comments import CT_Comment
from docx.oxml.ns import nsdecls
from docx.parts.comments import CommentsPart
from docx.text.run import Run

# What python-docx's `CT_Comments.add_comment` writes: one paragraph holding the
# annotation reference (tests/unit/exports/test_docx_comments.py compares the two).
_EMPTY_COMMENT = (
    f'<w:comment {nsdecls("w")} w:id="{{id}}" w:author="">'
    '<w:p><w:pPr><w:pStyle w:val="CommentText"/></w:pPr>'
    '<w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr><w:annotationRef/></w:r>'
    "</w:p></w:comment>"
)


class Comments:
    """Appends comments to one document, numbered after those it already has."""

    def __init__(self, doc: Document) -> None:
        self._next_id = len(doc.comments)  # also creates the comments part if missing
        self._part = cast(CommentsPart, doc.part.part_related_by(RT.COMMENTS))

    def add(self, runs: Sequence[Run], text: str, author: str, initials: str) -> Comment:
        """A comment over `runs` (first to last), as `Document.add_comment` makes it."""
        comment_id = self._next_id
        self._next_id += 1
        element = cast(CT_Comment, parse_xml(_EMPTY_COMMENT.format(id=comment_id)))
        self._part.element.append(element)
        element.author = author
        element.initials = initials
        element.date = dt.datetime.now(dt.UTC)
        comment = Comment(element, self._part)
        first, *more = text.split("\n")
        comment.paragraphs[0].add_run(first)
        for line in more:
            comment.add_paragraph(text=line)
        runs[0].mark_comment_range(runs[-1], comment_id)
        return comment
