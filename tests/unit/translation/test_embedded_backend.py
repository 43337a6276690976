"""The embedded backend: real llama.cpp inference with the bundled Gemma 3 270M."""

from pathlib import Path

from service.translation.backends.base import BatchRequest
from service.translation.backends.llamacpp import EmbeddedBackend
from service.translation.chunking import SegmentText


def test_gemma_translates_french_into_english(embedded_model: Path) -> None:
    backend = EmbeddedBackend(embedded_model, n_ctx=2048, n_threads=2)
    segments = [
        SegmentText(1, "Le roi est arrivé à Paris avec toute sa cour."),
        SegmentText(2, "La guerre a duré sept ans."),
    ]
    result = backend.translate(BatchRequest("fr", "en", segments))
    assert set(result.translations) == {1, 2}
    king, war = result.translations[1].text.lower(), result.translations[2].text.lower()
    assert "king" in king and "paris" in king
    assert "war" in war and ("seven" in war or "7" in war)
    assert result.translations[1].tokens_out and result.translations[1].tokens_out > 3
    assert backend.model == "gemma-3-270m-q4_k_m.gguf"
