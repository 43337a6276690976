"""Where imported documents come from: the IIIF manifest a document's pages are fetched by."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TimestampMixin


class IiifManifest(TimestampMixin, Base):
    """A IIIF import: the manifest's URL (None when uploaded as a file) and, once read, the
    manifest itself in storage. A worker fetches it, then the images (files `remote`)."""

    __tablename__ = "iiif_manifests"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # The user gave no title: the manifest's label becomes the document's once it is read.
    title_from_manifest: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)


# The table the document id refers to, for a process that imports this module alone.
from service.documents import models as _documents  # noqa: E402, F401
