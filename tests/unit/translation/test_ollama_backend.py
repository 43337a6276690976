"""The Ollama backend through the official client against the HTTP stand-in."""

import pytest

from service.errors import BackendOverloaded, BackendUnavailable, ModelNotFound, TransientError
from service.translation.backends.base import BatchRequest, strip_reasoning
from service.translation.backends.ollama import OllamaBackend
from service.translation.chunking import SegmentText
from tests.fakes.ollama_server import FakeOllama, fake_translation, running

SEGMENTS = [SegmentText(i, f"Paragraphe numéro {i} du chapitre.") for i in range(101, 108)]


def translate(state: FakeOllama, model: str = "llama3.2:3b") -> dict[int, str]:
    backend = OllamaBackend(state.host, model, timeout_s=10)
    result = backend.translate(BatchRequest("fr", "en", SEGMENTS))
    assert not result.failures
    return {seg_id: r.text for seg_id, r in result.translations.items()}


def expected() -> dict[int, str]:
    return {s.id: fake_translation(s.text) for s in SEGMENTS}


@pytest.mark.parametrize("mode", ["ok", "think", "chatter", "reorder"])
def test_every_segment_gets_its_own_translation(mode: str) -> None:
    with running(FakeOllama(mode=mode)) as state:
        assert translate(state) == expected()
        assert len(state.chats) == 1
        request = state.chats[0]
        assert request["stream"] is True
        assert request["format"]["required"] == ["translations"]
        assert request["options"]["seed"] == 42


def test_a_dropped_segment_is_recovered_by_splitting_the_batch() -> None:
    with running(FakeOllama(mode="drop-one")) as state:
        assert translate(state) == expected()
        assert len(state.chats) > 1


def test_an_unusable_answer_fails_each_segment_with_a_reason() -> None:
    with running(FakeOllama(mode="garbage")) as state:
        backend = OllamaBackend(state.host, "llama3.2:3b", timeout_s=10)
        result = backend.translate(BatchRequest("fr", "en", SEGMENTS[:2]))
    assert result.translations == {}
    assert set(result.failures) == {101, 102}
    assert "I cannot help with that" in result.failures[101]


def test_tokens_and_time_are_recorded_per_segment() -> None:
    with running() as state:
        backend = OllamaBackend(state.host, "llama3.2:3b", timeout_s=10)
        result = backend.translate(BatchRequest("fr", "en", SEGMENTS))
    first = result.translations[101]
    assert first.tokens_in and first.tokens_out and first.duration_ms is not None


def test_a_model_that_is_not_pulled_says_how_to_pull_it() -> None:
    with running() as state, pytest.raises(ModelNotFound) as error:
        translate(state, model="llama3.1:70b")
    assert "ollama pull llama3.1:70b" in error.value.message


def test_an_overloaded_server_is_a_transient_error() -> None:
    with running(FakeOllama(mode="overloaded")) as state, pytest.raises(BackendOverloaded):
        translate(state)


def test_a_server_error_is_transient() -> None:
    with running(FakeOllama(mode="error-500")) as state, pytest.raises(TransientError):
        translate(state)


def test_a_server_that_is_not_running_is_named() -> None:
    backend = OllamaBackend("http://127.0.0.1:9", "llama3.2:3b", timeout_s=5)
    with pytest.raises(BackendUnavailable, match=r"not running at http://127\.0\.0\.1:9"):
        backend.translate(BatchRequest("fr", "en", SEGMENTS))


def test_reasoning_blocks_are_removed_even_without_an_opening_tag() -> None:
    assert strip_reasoning("<think>hmm</think>\nThe king.") == "The king."
    assert strip_reasoning("hmm, the user wants...</think>The king.") == "The king."
    assert strip_reasoning("The king.") == "The king."
