"""The Ollama backend through the official client against the HTTP stand-in."""

from __future__ import annotations

import pytest

from service.errors import BackendOverloaded, BackendUnavailable, ModelNotFound, TransientError
from service.translation.backends.base import BatchRequest, strip_reasoning
from service.translation.backends.ollama import OllamaBackend, OllamaOptions
from service.translation.chunking import SegmentText
from tests.fakes.ollama_server import FakeOllama, digest_of, fake_translation, running

SEGMENTS = [SegmentText(i, f"Paragraphe numéro {i} du chapitre.") for i in range(101, 108)]


def backend(host: str | list[str], model: str = "llama3.2:3b") -> OllamaBackend:
    return OllamaBackend(host, model, OllamaOptions(timeout_s=10, num_ctx=4096, keep_alive="5m"))


def translate(state: FakeOllama, model: str = "llama3.2:3b") -> dict[int, str]:
    result = backend(state.host, model).translate(BatchRequest("fr", "en", SEGMENTS))
    assert not result.failures
    return {seg_id: r.text for seg_id, r in result.translations.items()}


def expected() -> dict[int, str]:
    return {s.id: fake_translation(s.text) for s in SEGMENTS}


@pytest.mark.parametrize("mode", ["ok", "think", "lone-think", "chatter", "reorder"])
def test_every_segment_gets_its_own_translation_in_one_request(mode: str) -> None:
    with running(FakeOllama(mode=mode)) as state:
        assert translate(state) == expected()
        assert len(state.chats) == 1
        request = state.chats[0]
    assert request["stream"] is True
    assert request["keep_alive"] == "5m"
    schema = request["format"]["properties"]["translations"]
    assert schema["items"]["properties"]["id"]["enum"] == [s.id for s in SEGMENTS]
    assert schema["minItems"] == schema["maxItems"] == len(SEGMENTS)
    options = request["options"]
    assert (options["seed"], options["num_ctx"], options["temperature"]) == (42, 4096, 0.2)
    assert 0 < options["num_predict"] <= 2048


@pytest.mark.parametrize("mode", ["drop-one", "merge", "invalid-json", "truncated"])
def test_a_misaligned_answer_is_split_until_each_segment_has_its_own(mode: str) -> None:
    with running(FakeOllama(mode=mode)) as state:
        result = backend(state.host).translate(BatchRequest("fr", "en", SEGMENTS))
        requests = len(state.chats)
    assert {i: r.text for i, r in result.translations.items()} == expected()
    assert not result.failures
    assert requests == 2 * len(SEGMENTS) - 1  # every batch of two or more was refused
    assert result.fallbacks[101] == ["split"]
    assert result.attempts[101] == 3  # 7 → 3 → 1 (the first half of each split)


def test_a_reasoning_model_is_told_not_to_think_and_runs_warmer() -> None:
    with running() as state:
        assert translate(state, "deepseek-r1:1.5b") == expected()
        deepseek = state.chats[-1]
        translate(state, "llama3.2:3b")
        llama = state.chats[-1]
    assert deepseek["think"] is False and deepseek["options"]["temperature"] == 0.6
    assert "think" not in llama and llama["options"]["temperature"] == 0.2


def test_an_unusable_answer_fails_each_segment_with_a_reason() -> None:
    with running(FakeOllama(mode="garbage")) as state:
        result = backend(state.host).translate(BatchRequest("fr", "en", SEGMENTS[:2]))
    assert result.translations == {}
    assert set(result.failures) == {101, 102}
    assert "no JSON in the answer" in result.failures[101]
    assert "I cannot help with that" in result.failures[101]


def test_tokens_time_and_speed_are_recorded_per_segment() -> None:
    with running() as state:
        result = backend(state.host).translate(BatchRequest("fr", "en", SEGMENTS))
    first = result.translations[101]
    assert first.tokens_in and first.tokens_out and first.duration_ms is not None
    assert first.tokens_per_s and first.tokens_per_s > 0
    assert result.digest == digest_of("llama3.2:3b")


def test_describe_reports_the_digest_and_the_fixed_context() -> None:
    with running() as state:
        info = backend(state.host, "deepseek-r1:1.5b").describe()
    assert info.digest == digest_of("deepseek-r1:1.5b")
    assert info.context_tokens == 4096
    assert not info.reasoning  # it can be told not to think, so no room is kept for it


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
    with pytest.raises(BackendUnavailable, match=r"not running at http://127\.0\.0\.1:9"):
        backend("http://127.0.0.1:9").translate(BatchRequest("fr", "en", SEGMENTS))


def test_batches_spread_over_several_hosts() -> None:
    with running() as one, running() as two:
        engine = backend([one.host, two.host])
        for route in range(4):
            request = BatchRequest("fr", "en", SEGMENTS[route : route + 1], route=route)
            result = engine.translate(request)
            assert result.host == (one.host, two.host)[route % 2]
        assert len(one.chats) == len(two.chats) == 2


def test_a_host_that_is_down_or_lacks_the_model_is_skipped() -> None:
    with running(FakeOllama(models=["qwen2.5:7b"])) as lacking, running() as good:
        engine = backend(["http://127.0.0.1:9", lacking.host, good.host])
        result = engine.translate(BatchRequest("fr", "en", SEGMENTS))
    assert {i: r.text for i, r in result.translations.items()} == expected()
    assert result.host == good.host
    assert result.fallbacks[101] == [f"host failover to {good.host}"]


def test_reasoning_blocks_are_removed_even_without_an_opening_or_closing_tag() -> None:
    assert strip_reasoning("<think>hmm</think>\nThe king.") == "The king."
    assert strip_reasoning("hmm, the user wants...</think>The king.") == "The king."
    assert strip_reasoning("The king.<think>and now") == "The king."
    assert strip_reasoning("The king.") == "The king."
