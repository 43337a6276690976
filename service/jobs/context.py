"""What pipeline steps get from their process: settings, storage, and the engines they
use, made on first use (tests give fakes through the `make_*` factories)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from service.config import Settings
from service.ocr import service as ocr
from service.ocr.engines.base import OcrEngine
from service.storage import Storage
from service.transcription import vision
from service.transcription.vision.base import VisionBackend
from service.translation import backends
from service.translation.backends.base import TranslationBackend


@dataclass
class Context:
    """What steps need from their process: settings, storage, and engines made on first use."""

    settings: Settings
    storage: Storage
    make_engine: Callable[[], OcrEngine] | None = None
    make_backend: Callable[[backends.BackendChoice], TranslationBackend] | None = None
    make_vision: Callable[[str, str], VisionBackend] | None = None
    _engine: OcrEngine | None = field(default=None, repr=False)

    def engine(self) -> OcrEngine:
        """The OCR engine, created once per process."""
        if self._engine is None:
            factory = self.make_engine or (lambda: ocr.get_engine(self.settings.ocr_timeout_s))
            self._engine = factory()
        return self._engine

    def backend(self, choice: backends.BackendChoice) -> TranslationBackend:
        """A backend for the resolved choice."""
        if self.make_backend is not None:
            return self.make_backend(choice)
        return backends.create(self.settings, choice)

    def vision(self, backend: str, model: str) -> VisionBackend:
        """A vision backend (Ollama or OpenAI-compatible) for the model."""
        if self.make_vision is not None:
            return self.make_vision(backend, model)
        return vision.create(self.settings, backend, model)
