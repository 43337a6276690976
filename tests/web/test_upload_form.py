"""The upload form (issue 18, item 18): the language tags the README describes, a title
from the first file that was accepted, and images over the pixel limit refused on the
form with the limit in words."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from fastapi.testclient import TestClient

from tests.support.helpers import authed_client, encode, text_image
from tests.workers.test_bad_uploads import huge_png_header


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client("editor")


def test_the_form_offers_auto_antiqua_and_combined_tags(client: TestClient) -> None:
    form = client.get("/documents/new").text
    for tag in ("auto", "de-Latf", "de-Latn", "de", "grc", "la+grc", "de-Latf+la"):
        assert f'<option value="{tag}"' in form, tag
    assert "German (Antiqua) (de)" not in form
    assert "German, Fraktur or Antiqua as the first page shows (de)" in form
    png = encode(text_image([["Hello"]]), "PNG")
    made = client.post(
        "/documents",
        data={"source_lang": "fr", "source_tag": "NL+la", "target_lang": "en"},
        files=[("files", ("page.png", png, "image/png"))],
        follow_redirects=False,
    )
    assert made.status_code == 303
    document = client.get(f"/api{made.headers['location']}").json()
    assert document["source_lang"] == "nl+la"  # the typed tag wins, spelled canonically
    bad = client.post(
        "/documents",
        data={"source_lang": "fr", "source_tag": "xx-Qqqq", "target_lang": "en"},
        files=[("files", ("page.png", png, "image/png"))],
    )
    assert bad.status_code == 422 and 'value="xx-Qqqq"' in bad.text


def test_an_image_over_the_pixel_limit_is_refused_on_the_form_and_names_the_limit(
    client: TestClient, configure: Callable[..., None]
) -> None:
    configure(PALIMPSEST_MAX_IMAGE_PIXELS="20000000")
    refused = client.post(
        "/documents",
        data={"source_lang": "fr", "target_lang": "en"},
        files=[("files", ("plan.png", huge_png_header(6000, 4000), "image/png"))],
    )
    assert refused.status_code == 422
    text = " ".join(refused.text.split())
    assert (
        "plan.png: The image is 6,000 × 4,000 pixels (24 million pixels); the limit is "
        "20 million pixels per image (PALIMPSEST_MAX_IMAGE_PIXELS)"
    ) in text
    assert "decompression bomb" not in text
    # Beside a good file, the big one is refused alone and the document is named after
    # the first file that was accepted.
    good = encode(text_image([["Hello"]]), "PNG")
    made = client.post(
        "/api/documents",
        data={"source_lang": "fr", "target_lang": "en"},
        files=[
            ("files", ("plan.png", huge_png_header(6000, 4000), "image/png")),
            ("files", ("folio-1.png", good, "image/png")),
        ],
    ).json()
    assert [r["filename"] for r in made["rejected"]] == ["plan.png"]
    assert "20 million pixels" in made["rejected"][0]["error"]
    assert client.get(f"/api/documents/{made['id']}").json()["title"] == "folio-1"
