"""Domain exceptions shared by services, engines and backends.

Services raise these, never HTTP errors; `service.main` maps them to responses.
Pipeline errors split into transient ones (retried with backoff) and permanent ones
(the stage fails with the message, which is written for the user).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable machine-readable error codes returned by the API."""

    NOT_FOUND = "not_found"
    INVALID_INPUT = "invalid_input"
    UNSUPPORTED_FILE = "unsupported_file"
    NO_USABLE_FILE = "no_usable_file"
    UNAVAILABLE = "service_unavailable"
    OCR_FAILED = "ocr_failed"
    BACKEND_UNAVAILABLE = "backend_unavailable"
    MODEL_NOT_FOUND = "model_not_found"
    BACKEND_OVERLOADED = "backend_overloaded"
    BACKEND_FAILED = "backend_failed"
    TRANSLATION_FAILED = "translation_failed"
    CONFLICT = "edit_conflict"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"


class PalimpsestError(Exception):
    """Base of every error raised on purpose by Palimpsest."""

    code: ErrorCode = ErrorCode.INVALID_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(PalimpsestError):
    """A requested row does not exist."""

    code = ErrorCode.NOT_FOUND


class DocumentNotFound(NotFound):
    """No document with that id."""


class PageNotFound(NotFound):
    """No page with that id."""


class InvalidInput(PalimpsestError):
    """The request itself is wrong; the message says how."""

    code = ErrorCode.INVALID_INPUT


class NoUsableFile(InvalidInput):
    """Every file of an upload was rejected."""

    code = ErrorCode.NO_USABLE_FILE

    def __init__(self, message: str, rejected: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.rejected = rejected


class SegmentNotFound(NotFound):
    """No segment with that id."""


class EditConflict(PalimpsestError):
    """Someone saved the same text since the editor loaded it; nothing was overwritten."""

    code = ErrorCode.CONFLICT

    def __init__(self, message: str, current_text: str, current_version: int) -> None:
        super().__init__(message)
        self.current_text = current_text
        self.current_version = current_version


class NotAuthenticated(PalimpsestError):
    """No logged-in user where one is required."""

    code = ErrorCode.UNAUTHORIZED


class Forbidden(PalimpsestError):
    """The user may see the thing but not do this to it (their role or ownership)."""

    code = ErrorCode.FORBIDDEN


class ServiceUnavailable(PalimpsestError):
    """A service we depend on (database, broker) cannot be reached."""

    code = ErrorCode.UNAVAILABLE


class PipelineError(PalimpsestError):
    """Failure of a pipeline step (OCR engine, translation backend)."""


class TransientError(PipelineError):
    """Worth retrying later: timeouts, refused connections, overload."""


class PermanentError(PipelineError):
    """Retrying will not help; the message tells the user what to do."""


class UnreadableFile(PermanentError):
    """An uploaded file or one of its pages cannot be decoded."""

    code = ErrorCode.UNSUPPORTED_FILE


class OcrFailed(PermanentError):
    """Tesseract could not read a page."""

    code = ErrorCode.OCR_FAILED


class BackendUnavailable(TransientError):
    """The model server does not answer (not running, unreachable, timed out)."""

    code = ErrorCode.BACKEND_UNAVAILABLE


class BackendOverloaded(TransientError):
    """The model server answered 503 (busy)."""

    code = ErrorCode.BACKEND_OVERLOADED


class ModelNotFound(PermanentError):
    """The requested model is not installed on the model server."""

    code = ErrorCode.MODEL_NOT_FOUND


class BackendFailed(PermanentError):
    """The backend answered with an error that retrying will not fix."""

    code = ErrorCode.BACKEND_FAILED


class StorageUnavailable(TransientError):
    """The object store does not answer (unreachable, timed out, 5xx): retried later."""

    code = ErrorCode.UNAVAILABLE


class StorageMisconfigured(PermanentError):
    """The object store answers but refuses: no such bucket, wrong credentials."""

    code = ErrorCode.UNAVAILABLE


class BlobMissing(PermanentError):
    """A stored file the database names is not in the store."""

    code = ErrorCode.NOT_FOUND
