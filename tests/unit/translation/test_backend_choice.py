from service.config import get_settings
from service.translation.backends import BackendName, resolve
from tests.fakes.ollama_server import FakeOllama


def test_auto_uses_ollama_when_it_answers_with_the_model(ollama: FakeOllama) -> None:
    choice = resolve(get_settings(), None, None)
    assert (choice.backend, choice.model) == (BackendName.OLLAMA, "llama3.2:3b")


def test_auto_falls_back_to_the_embedded_model_when_ollama_is_down() -> None:
    choice = resolve(get_settings(), None, None)
    assert choice.backend is BackendName.EMBEDDED
    assert choice.model.endswith("gemma-3-270m-q4_k_m.gguf")
    assert "does not answer at http://127.0.0.1:9" in choice.reason


def test_auto_falls_back_when_ollama_lacks_the_model(ollama: FakeOllama) -> None:
    ollama.models = ["qwen2.5:7b"]
    choice = resolve(get_settings(), None, None)
    assert choice.backend is BackendName.EMBEDDED
    assert "has no model 'llama3.2:3b'" in choice.reason


def test_an_explicit_backend_is_taken_as_asked() -> None:
    choice = resolve(get_settings(), "ollama", "deepseek-r1:1.5b")
    assert (choice.backend, choice.model) == (BackendName.OLLAMA, "deepseek-r1:1.5b")
