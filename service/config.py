"""Typed settings shared by the web app, workers, CLI and Alembic."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, PostgresDsn, RedisDsn, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The GGUF written from the `palimpsest[embedded]` package: Gemma 3 270M, a draft-quality model.
BUNDLED_MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
BackendChoice = Literal["auto", "ollama", "embedded", "openai"]
PromptStyle = Literal["auto", "completion", "chat"]


class Settings(BaseSettings):
    """Configuration read from `PALIMPSEST_*` environment variables (and `.env`)."""

    model_config = SettingsConfigDict(
        env_prefix="PALIMPSEST_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: PostgresDsn = Field(
        PostgresDsn("postgresql+psycopg://palimpsest:palimpsest@127.0.0.1:5432/palimpsest")
    )
    redis_url: RedisDsn = Field(RedisDsn("redis://127.0.0.1:6379/0"))
    data_dir: Path = Field(PROJECT_ROOT / "var")
    storage_dir: Path | None = None
    # Where uploads and page images live: file:///path (default: storage_dir, else
    # data_dir/storage) or s3://bucket/prefix, shared by every host (see "More than one machine").
    storage_url: str = ""
    s3_endpoint_url: str = ""
    # Each host keeps blobs it read from S3 on its own disk, least recently used evicted.
    cache_dir: Path | None = None
    cache_max_bytes: int = Field(2 * 1024**3, ge=0)

    log_format: Literal["text", "json"] = "text"
    host: str = "127.0.0.1"
    port: int = 8000
    # Addresses (or networks) of reverse proxies whose X-Forwarded-For/-Proto are believed,
    # comma-separated; empty: none, the peer's address is the client's.
    trusted_proxies: str = ""

    ocr_dpi: int = Field(300, ge=72, le=1200)
    low_confidence: float = Field(60.0, ge=0, le=100)
    ocr_timeout_s: int = Field(300, ge=10)
    max_upload_bytes: int = Field(200 * 1024 * 1024, ge=1024)
    max_request_bytes: int = Field(1024 * 1024 * 1024, ge=1024)
    max_image_pixels: int = Field(250_000_000, ge=1_000_000)
    max_pdf_pages: int = Field(2000, ge=1)
    max_zip_entries: int = Field(2000, ge=1)

    default_backend: BackendChoice = "auto"
    ollama_host: str = Field(
        "http://127.0.0.1:11434",
        validation_alias=AliasChoices("PALIMPSEST_OLLAMA_HOST", "OLLAMA_HOST"),
    )
    ollama_model: str = "llama3.2:3b"
    ollama_timeout_s: float = Field(600.0, gt=0)
    ollama_probe_timeout_s: float = Field(2.0, gt=0)
    # More Ollama servers used at once, comma-separated; batches are spread over all of them.
    ollama_hosts: str = ""
    ollama_connect_timeout_s: float = Field(5.0, gt=0)
    ollama_keep_alive: str = "30m"
    # One context size per model: a different num_ctx makes Ollama reload the model.
    ollama_num_ctx: int = Field(8192, ge=512)
    ollama_num_ctx_by_model: dict[str, int] = Field(default_factory=dict)
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_api_key: SecretStr | None = None
    openai_model: str = ""
    openai_timeout_s: float = Field(600.0, gt=0)
    openai_context_tokens: int = Field(8192, ge=512)
    openai_prompt_style: PromptStyle = "chat"
    embedded_prompt_style: PromptStyle = "auto"
    embedded_model_path: Path | None = None
    embedded_n_ctx: int = Field(4096, ge=512)
    embedded_threads: int = Field(max(1, os.cpu_count() or 1), ge=1)
    translation_token_budget: int = Field(1200, ge=64)
    iiif_allowed_hosts: str = ""
    iiif_timeout_s: float = Field(30.0, gt=0)
    iiif_max_canvases: int = Field(1000, ge=1)
    translation_temperature: float = Field(0.2, ge=0, le=2)
    translation_seed: int = 42
    translation_context_segments: int = Field(2, ge=0, le=3)
    # Small models translate sentence by sentence: with `auto`, completion-style models and
    # models of at most this many billion parameters (as Ollama or the GGUF reports it).
    translation_unit: Literal["auto", "sentence", "segment"] = "auto"
    sentence_mode_max_billions: float = Field(3.0, ge=0)
    # LLM post-correction of the OCR text, as a separate layer for review (off by default).
    ocr_post_correction: bool = False
    # A local vision model that reads page regions (handwriting) and proposes corrections of
    # the OCR from the image; off while no model is named. Crops are scaled down to at most
    # `vision_max_pixels` (larger images read worse and slower in Ollama).
    vision_backend: Literal["ollama", "openai"] = "ollama"
    vision_model: str = ""
    vision_openai_base_url: str = ""
    vision_max_pixels: int = Field(1_200_000, ge=50_000, le=8_000_000)
    vision_timeout_s: float = Field(600.0, gt=0)
    # Crash safety: how often the reconciler looks for work that stopped moving, after how
    # long without progress a stage counts as stalled, and the retry backoff of tasks that
    # hit a transient error (model server or database away): base * 2^n, capped, jittered.
    reconcile_interval_s: float = Field(60.0, ge=1)
    reconcile_stall_s: float = Field(120.0, ge=1)
    retry_backoff_s: float = Field(5.0, gt=0)
    retry_backoff_max_s: float = Field(300.0, gt=0)
    # How long a translation may wait for a model server that does not answer before it
    # fails with the reason (its steps retry with the backoff above meanwhile).
    model_wait_limit_s: float = Field(600.0, gt=0)

    @field_validator("ollama_host")
    @classmethod
    def _with_scheme(cls, value: str) -> str:
        return value if "://" in value else f"http://{value}"

    @property
    def iiif_hosts(self) -> frozenset[str]:
        """Hosts (`name` or `name:port`) IIIF manifests and images may be fetched from."""
        return frozenset(h.strip().lower() for h in self.iiif_allowed_hosts.split(",") if h.strip())

    @property
    def trusted_proxy_list(self) -> list[str]:
        """Proxy addresses or networks whose forwarded headers are trusted."""
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def ollama_host_list(self) -> list[str]:
        """Every Ollama server to use: OLLAMA_HOST first, then PALIMPSEST_OLLAMA_HOSTS."""
        extra = [h.strip() for h in self.ollama_hosts.split(",") if h.strip()]
        hosts = [self.ollama_host, *(h if "://" in h else f"http://{h}" for h in extra)]
        return list(dict.fromkeys(h.rstrip("/") for h in hosts))

    def ollama_context(self, model: str) -> int:
        """The fixed num_ctx sent with every request for this model."""
        return self.ollama_num_ctx_by_model.get(model, self.ollama_num_ctx)

    @property
    def vision_base_url(self) -> str:
        """The OpenAI-compatible server that reads images (the translation one by default)."""
        return (self.vision_openai_base_url or self.openai_base_url).rstrip("/")

    @property
    def storage_path(self) -> Path:
        """Directory holding uploads and page images."""
        return self.storage_dir or self.data_dir / "storage"

    @property
    def storage_location(self) -> str:
        """The store's URL: PALIMPSEST_STORAGE_URL, else the local folder as a file:// URL."""
        return self.storage_url.strip() or self.storage_path.resolve().as_uri()

    @property
    def cache_path(self) -> Path:
        """This host's cache of blobs read from object storage."""
        return self.cache_dir or self.data_dir / "cache"

    @property
    def embedded_model_file(self) -> Path:
        """GGUF file of the embedded model (the bundled Gemma 3 270M by default)."""
        return self.embedded_model_path or self.data_dir / "models" / BUNDLED_MODEL_FILE

    @property
    def sqlalchemy_url(self) -> str:
        """Database URL as a plain string."""
        return str(self.database_url)


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (tests clear the cache to override)."""
    return Settings()
