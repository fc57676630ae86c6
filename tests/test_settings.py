"""Settings: camelCase from clients, invalid values fall back, environment fills the gaps, no key in settings."""
from __future__ import annotations

from ragls.server.settings import Settings, api_key, parse, with_env


def test_client_options_in_camel_case():
    s, problems = parse({"ragls": {"model": {"baseUrl": "http://localhost:11434/v1", "chatModel": "qwen",
                                             "fimTemplate": "qwen", "timeoutS": 5},
                                   "completion": {"debounceMs": 80, "multiline": False}, "logPrompts": True}})
    assert problems == []
    assert s.model.base_url == "http://localhost:11434/v1" and s.model.fim_template == "qwen"
    assert s.model.timeout_s == 5.0 and s.completion.debounce_ms == 80 and not s.completion.multiline
    assert s.log_prompts


def test_invalid_values_keep_defaults_and_are_reported():
    s, problems = parse({"completion": {"debounceMs": "soon", "enabled": "yes"}, "chat": 3, "unknown": 1})
    assert s.completion == Settings().completion and s.chat == Settings().chat
    assert len(problems) == 3 and any("debounceMs" in p for p in problems)
    assert parse(None)[0] == Settings() and parse([1, 2])[1] == ["settings should be an object"]


def test_environment_fills_what_settings_leave_open(monkeypatch):
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1", "RAGLS_MODEL": "chat-m", "RAGLS_FIM_TEMPLATE": "starcoder"}
    m = with_env(Settings(), env).model
    assert (m.base_url, m.chat_model, m.completion_model, m.fim_template) == (
        "http://127.0.0.1:8080/v1", "chat-m", "chat-m", "starcoder")
    given, _ = parse({"model": {"chatModel": "mine"}})
    assert with_env(given, env).model.chat_model == "mine"


def test_the_key_comes_from_the_environment_only(monkeypatch):
    s, _ = parse({"model": {"apiKey": "sk-in-a-settings-file", "apiKeyEnv": "MY_KEY"}})
    assert "sk-in-a-settings-file" not in repr(s)
    monkeypatch.setenv("MY_KEY", "sk-from-env")
    assert api_key(s) == "sk-from-env"
