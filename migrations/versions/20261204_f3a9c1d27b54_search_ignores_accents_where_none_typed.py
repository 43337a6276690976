"""search ignores accents where none are typed

Each segment's and translation's search vector gets a second set of lexemes read with
accents removed (Postgres `unaccent` in a copy of the language's text-search
configuration), so a query typed without accents ("Roman") finds "Román", while one typed
with them ("Román") still matches exactly. The `unaccent` extension is trusted: the
database's owner, the role `make` creates, may install it.

Revision ID: f3a9c1d27b54
Revises: d8e2b6f4a1c7
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f3a9c1d27b54"
down_revision: str | None = "d8e2b6f4a1c7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The configurations palimpsest_fts_config() hands out, each with an accent-free copy.
CONFIGS = ("german", "english", "french", "spanish", "italian", "dutch", "portuguese", "simple")
STEMMERS = {c: f"{c}_stem" for c in CONFIGS if c != "simple"} | {"simple": "simple"}

UNACCENT_CONFIG = """
CREATE FUNCTION palimpsest_fts_config_unaccent(lang text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ('palimpsest_' || palimpsest_fts_config(lang)::text)::regconfig
$$
"""


def _vector(language: str, column: str) -> str:
    config = f"palimpsest_fts_config({language})"
    plain = f"to_tsvector({config}, coalesce(NEW.{column}, ''))"
    bare = f"to_tsvector(palimpsest_fts_config_unaccent({language}), coalesce(NEW.{column}, ''))"
    return f"{plain} || {bare}"


def _triggers(accents: bool) -> list[str]:
    source = "(SELECT source_lang FROM documents WHERE id = NEW.document_id)"
    target = "(SELECT target_lang FROM documents WHERE id = NEW.document_id)"
    segment = (
        _vector(source, "normalized")
        if accents
        else (f"to_tsvector(palimpsest_fts_config({source}), coalesce(NEW.normalized, ''))")
    )
    translation = (
        _vector(target, "text")
        if accents
        else (f"to_tsvector(palimpsest_fts_config({target}), coalesce(NEW.text, ''))")
    )
    return [
        f"""
        CREATE OR REPLACE FUNCTION palimpsest_segment_search() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          NEW.search_vector := {segment};
          RETURN NEW;
        END $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION palimpsest_translation_search() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          NEW.search_vector := {translation};
          RETURN NEW;
        END $$
        """,
        # Rewrite the stored vectors (the triggers fire on these columns).
        "UPDATE segments SET normalized = normalized",
        "UPDATE translations SET text = text",
    ]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    for config, stemmer in STEMMERS.items():
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION palimpsest_{config} (COPY = {config})")
        op.execute(
            f"ALTER TEXT SEARCH CONFIGURATION palimpsest_{config} "
            f"ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {stemmer}"
        )
    op.execute(UNACCENT_CONFIG)
    for statement in _triggers(accents=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _triggers(accents=False):
        op.execute(statement)
    op.execute("DROP FUNCTION IF EXISTS palimpsest_fts_config_unaccent(text)")
    for config in CONFIGS:
        op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS palimpsest_{config}")
    op.execute("DROP EXTENSION IF EXISTS unaccent")
