"""The vision backend interface: one image and a prompt in, one text answer out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class VisionRequest:
    """What the model is shown and told: an encoded image, a system and a user prompt."""

    image: bytes
    media_type: str
    system: str
    user: str
    max_tokens: int = 512


@dataclass(frozen=True)
class VisionAnswer:
    """The model's reply with what it cost and where it came from."""

    text: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    duration_ms: float | None = None
    host: str | None = None
    done_reason: str | None = None


@dataclass(frozen=True)
class VisionModel:
    """The model as its server describes it: its digest (provenance) and whether it thinks."""

    name: str
    digest: str | None
    thinking: bool = False


class VisionBackend(Protocol):
    """Reads images with a vision model; raises the pipeline's errors (transient or not)."""

    name: str
    model: str

    def describe(self) -> VisionModel:
        """Check the model is there and reads images; raise ModelNotFound otherwise."""
        ...

    def read(self, request: VisionRequest) -> VisionAnswer:
        """The model's answer to one image and prompt."""
        ...
