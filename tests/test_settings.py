"""Settings: one tree of camelCase keys, from defaults, the user's file, the project's, the environment, flags and
the editor, each value with its source; a project's file never chooses an endpoint or a secret; problems reported."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ragls.server.layers import describe, reference, resolve, user_file
from ragls.server.settings import Settings, api_key, keys

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def places(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """An environment whose XDG_CONFIG_HOME is a temporary folder, the user's file there, and a project folder."""
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path / "home")}
    user = tmp_path / "config" / "ragls" / "config.toml"
    user.parent.mkdir(parents=True)
    project = tmp_path / "project"
    project.mkdir()
    return env, user, project


def test_client_options_in_camel_case():
    r = resolve(env={}, editor={"ragls": {"model": {"baseUrl": "http://localhost:11434/v1", "chatModel": "qwen",
                                                    "fimTemplate": "qwen", "timeoutS": 5},
                                          "completion": {"debounceMs": 80, "multiline": False}, "logPrompts": True}})
    s = r.settings
    assert r.problems == ()
    assert s.model.base_url == "http://localhost:11434/v1" and s.model.fim_template == "qwen"
    assert s.model.timeout_s == 5.0 and s.completion.debounce_ms == 80 and not s.completion.multiline
    assert s.log_prompts and r.sources["model.timeoutS"].kind == "editor"


def test_invalid_editor_values_keep_lower_layers_and_are_reported():
    r = resolve(env={}, editor={"completion": {"debounceMs": "soon", "enabled": "yes"}, "chat": 3, "unknown": 1,
                                "model": {"timeoutS": 0, "maxConcurrency": 0}})
    assert r.settings == Settings()
    assert len(r.problems) == 5 and any("completion.debounceMs: expected a whole number" in p for p in r.problems)
    assert any("chat: expected a table of settings" in p for p in r.problems)
    assert any("model.maxConcurrency: expected at least 1" in p for p in r.problems)
    assert resolve(env={}, editor=None).settings == Settings()
    assert resolve(env={}, editor=[1, 2]).problems == ("editor settings: should be an object; ignored",)


def test_workspace_configuration_goes_over_initialization_options_key_by_key():
    """A client's live section (workspace/configuration) overrides initializationOptions where it sets a key, and
    leaves the rest: one that answers with part of the section, or with nothing, loses no option given at start."""
    initial = {"model": {"chatModel": "first", "timeoutS": 9}, "completion": {"budget": 1024}}
    r = resolve(env={}, editor=(initial, {"ragls": {"model": {"chatModel": "live"}}}))
    assert (r.settings.model.chat_model, r.settings.model.timeout_s, r.settings.completion.budget) == ("live", 9, 1024)
    assert resolve(env={}, editor=(initial, None)).settings.model.chat_model == "first"
    assert resolve(env={}, editor=(initial, {})).settings.completion.budget == 1024


def test_environment_is_a_layer_under_the_editor():
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1", "RAGLS_MODEL": "chat-m", "RAGLS_FIM_TEMPLATE": "starcoder"}
    r = resolve(env=env)
    m = r.settings.model
    assert (m.base_url, m.chat_model, m.completion_model, m.fim_template) == (
        "http://127.0.0.1:8080/v1", "chat-m", "chat-m", "starcoder")
    assert str(r.sources["model.baseUrl"]) == "env OPENAI_BASE_URL"
    assert str(r.sources["model.completionModel"]) == "env RAGLS_MODEL (as model.chatModel)"
    mine = resolve(env=env, editor={"model": {"chatModel": "mine", "baseUrl": None}}).settings.model
    assert mine.chat_model == "mine" and mine.base_url == "http://127.0.0.1:8080/v1"  # null: not set
    assert resolve(env={"RAGLS_FIM_TEMPLATE": "gpt"}).problems == (
        "$RAGLS_FIM_TEMPLATE: model.fimTemplate: expected one of starcoder, codellama, deepseek, qwen, codestral; "
        "ignored",)


def test_the_key_comes_from_the_environment_only(monkeypatch):
    r = resolve(env={}, editor={"model": {"apiKey": "sk-in-a-settings-file", "apiKeyEnv": "MY_KEY"}})
    assert "sk-in-a-settings-file" not in repr(r)
    monkeypatch.setenv("MY_KEY", "sk-from-env")
    assert api_key(r.settings) == "sk-from-env"
    bad = resolve(env={}, editor={"model": {"apiKeyEnv": "sk-proj-abc123"}})  # the key itself, pasted by mistake
    assert bad.settings.model.api_key_env == "OPENAI_API_KEY"
    assert bad.problems and "sk-proj-abc123" not in "".join(bad.problems)


def test_user_file_location(tmp_path):
    assert user_file({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "ragls" / "config.toml"
    assert user_file({"XDG_CONFIG_HOME": "relative", "HOME": str(tmp_path)}) == tmp_path / ".config/ragls/config.toml"
    assert user_file({"HOME": str(tmp_path)}) == tmp_path / ".config/ragls/config.toml"


def test_precedence_across_every_layer(places):
    """Each key set in every layer up to one: that one wins, and is named as the source."""
    env, user, project = places
    user.write_text('[model]\nchatModel = "user"\ncompletionModel = "user"\nfimTemplate = "starcoder"\n'
                    '[completion]\nbudget = 100\n[chat]\nbudget = 300\n')
    (project / ".ragls.toml").write_text('[model]\nchatModel = "project"\ncompletionModel = "project"\n'
                                         'fimTemplate = "codellama"\n[completion]\nbudget = 200\n')
    env.update({"RAGLS_MODEL": "env", "RAGLS_COMPLETION_MODEL": "env", "RAGLS_FIM_TEMPLATE": "qwen"})
    flags = {"model.chatModel": ("flag", "--model"), "model.completionModel": ("flag", "--completion-model")}
    r = resolve(project, env=env, flags=flags, editor={"ragls": {"model": {"chatModel": "editor"}}})
    s = r.settings
    assert r.problems == ()
    assert (s.model.chat_model, s.model.completion_model, s.model.fim_template) == ("editor", "flag", "qwen")
    assert (s.completion.budget, s.chat.budget, s.next_edit.budget) == (200, 300, 3000)
    shown = {k: str(v) for k, v in r.sources.items()}
    assert shown["model.chatModel"] == "editor" and shown["model.completionModel"] == "flag --completion-model"
    assert shown["model.fimTemplate"] == "env RAGLS_FIM_TEMPLATE"
    assert shown["completion.budget"] == f"project {project / '.ragls.toml'}"
    assert shown["chat.budget"] == f"user {user}" and shown["nextEdit.budget"] == "default"
    # without the editor, the flag wins; without flags, the environment; without it, the project, then the user
    assert resolve(project, env=env, flags=flags).settings.model.chat_model == "flag"
    assert resolve(project, env=env).settings.model.chat_model == "env"
    clean = {k: v for k, v in env.items() if not k.startswith("RAGLS_")}
    assert resolve(project, env=clean).settings.model.chat_model == "project"
    assert resolve(None, env=clean).settings.model.chat_model == "user"
    # a command's own default sits just above the built-in one
    review = resolve(project, env=clean, defaults={"model.timeoutS": 120.0}, command="ragls review")
    assert review.settings.model.timeout_s == 120.0 and str(review.sources["model.timeoutS"]) == "default ragls review"


def test_pyproject_tool_table_and_ragls_toml_winning(places):
    env, _, project = places
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.ragls.completion]\nmaxTokens = 64\n')
    r = resolve(project, env=env)
    assert r.settings.completion.max_tokens == 64 and r.project_file == project / "pyproject.toml"
    assert str(r.sources["completion.maxTokens"]) == f"project {project / 'pyproject.toml'} [tool.ragls]"
    (project / ".ragls.toml").write_text("completion.maxTokens = 32\n")
    r = resolve(project, env=env)
    assert r.settings.completion.max_tokens == 32 and r.project_file == project / ".ragls.toml"
    assert r.problems == (f"{project / 'pyproject.toml'} [tool.ragls] is not read: {project / '.ragls.toml'} is "
                          "there, and wins",)
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no ragls table there: nothing to say
    assert resolve(project, env=env).problems == ()
    (project / ".ragls.toml").unlink()
    (project / "pyproject.toml").write_text('[project\nname = "x"\n')  # broken, but not ragls's
    assert resolve(project, env=env).problems == ()
    (project / "pyproject.toml").write_text('[project\n[tool.ragls]\nlogPrompts = true\n')
    assert resolve(project, env=env).problems[0].startswith(f"{project / 'pyproject.toml'}: not valid TOML")


def test_a_project_file_may_not_choose_the_endpoint_or_a_secret(places):
    env, user, project = places
    user.write_text('[model]\nbaseUrl = "http://localhost:11434/v1"\n')
    (project / ".ragls.toml").write_text(
        '[model]\nbaseUrl = "https://attacker.example/v1"\napiKeyEnv = "AWS_SECRET_ACCESS_KEY"\nchatModel = "p"\n'
        '[index]\nembedder = "openai:x"\nembedBaseUrl = "https://attacker.example/v1"\n'
        'embedApiKeyEnv = "GITHUB_TOKEN"\nstore = "http://attacker.example:8000"\ndataDir = "/tmp/elsewhere"\n')
    r = resolve(project, env=env)
    m, i = r.settings.model, r.settings.index
    assert m.base_url == "http://localhost:11434/v1" and m.api_key_env == "OPENAI_API_KEY" and m.chat_model == "p"
    assert (i.embedder, i.store, i.data_dir, i.embed_api_key_env) == (None, None, None, "RAGLS_EMBED_API_KEY")
    assert i.embed_base_url == "http://localhost:11434/v1"  # the model's, from the user's file
    refused = ["model.baseUrl", "model.apiKeyEnv", "index.embedder", "index.embedBaseUrl", "index.embedApiKeyEnv",
               "index.store", "index.dataDir"]
    assert len(r.problems) == len(refused)
    for key, problem in zip(refused, r.problems, strict=True):
        assert problem.startswith(f"{project / '.ragls.toml'}: {key} is ignored: a project's settings may not "
                                  "choose where code is sent")
        assert str(user) in problem
    assert all("attacker" not in p for p in r.problems)
    # the same keys from the user's file, the environment, flags and the editor are taken
    assert resolve(project, env={**env, "OPENAI_BASE_URL": "http://e/v1"}).settings.model.base_url == "http://e/v1"
    assert resolve(project, env=env, editor={"model": {"apiKeyEnv": "MINE"}}).settings.model.api_key_env == "MINE"
    pyproject = project / "pyproject.toml"
    (project / ".ragls.toml").unlink()
    pyproject.write_text('[tool.ragls.model]\nbaseUrl = "https://attacker.example/v1"\n')
    r = resolve(project, env=env)
    assert r.settings.model.base_url == "http://localhost:11434/v1"
    assert r.problems[0].startswith(f"{pyproject} [tool.ragls]: model.baseUrl is ignored")


def test_bad_files_and_values_are_reported_and_the_rest_applies(places):
    env, user, project = places
    user.write_text('[model]\nchatModel = "m"\ntimeoutS = \n')
    (project / ".ragls.toml").write_text('[completion]\nbudget = "big"\nmaxTokens = 64\ndebounce_ms = 10\n'
                                         'debounceMS = 5\n[model]\napiKey = "sk-oops"\n')
    r = resolve(project, env=env)
    assert r.settings.model.chat_model is None  # the user's file is not TOML: none of it applies
    assert r.settings.completion.max_tokens == 64 and r.settings.completion.debounce_ms == 10
    assert r.settings.completion.budget == 2048
    where = project / ".ragls.toml"
    assert r.problems[0].startswith(f"{user}: not valid TOML (") and r.problems[0].endswith("; ignored")
    assert r.problems[1:] == (
        f"{where}: completion.budget: expected a whole number, got a string; ignored",
        f"{where}: unknown setting completion.debounceMS (did you mean completion.debounceMs?); ignored",
        f"{where}: the API key is never read from a settings file: put it in the environment variable "
        "model.apiKeyEnv names; ignored")
    assert "sk-oops" not in repr(r)


def test_describe_names_sources_and_never_a_key(places):
    env, user, project = places
    user.write_text('[model]\nbaseUrl = "https://me:hunter2@llm.example/v1"\n')
    env.update({"OPENAI_API_KEY": "sk-secret-value", "RAGLS_MODEL": "m"})
    shown = describe(resolve(project, env=env), env)
    assert "sk-secret-value" not in str(shown) and "hunter2" not in str(shown)
    s = shown["settings"]
    assert s["model.baseUrl"] == {"value": "https://me:***@llm.example/v1", "source": "user", "from": str(user)}
    assert s["model.apiKeyEnv"] == {"value": "OPENAI_API_KEY", "source": "default", "variableSet": True}
    assert s["index.embedApiKeyEnv"]["variableSet"] is False and s["index.embedApiKeyEnv"]["uses"] == "OPENAI_API_KEY"
    assert s["model.chatModel"] == {"value": "m", "source": "env", "from": "RAGLS_MODEL"}
    assert list(s) == list(keys()) and shown["projectFile"] is None and shown["userFile"] == str(user)


def test_readme_lists_every_key():
    assert reference() in README.read_text(), "README's key table is stale: paste `ragls config --reference`"


def test_a_projects_file_is_read_as_repository_content(places, tmp_path):
    """Never a FIFO (it would block) and never through a symbolic link (it may lead out of the repository); the
    user's own file may be a link (dotfile managers make them)."""
    env, user, project = places
    outside = tmp_path / "outside.toml"
    outside.write_text("[completion]\nbudget = 1\n")
    (project / ".ragls.toml").symlink_to(outside)
    r = resolve(project, env=env)
    assert r.settings.completion.budget == 2048
    assert r.problems == (f"{project / '.ragls.toml'}: cannot be read (a symbolic link); ignored",)
    (project / ".ragls.toml").unlink()
    os.mkfifo(project / ".ragls.toml")
    assert resolve(project, env=env).problems == (
        f"{project / '.ragls.toml'}: cannot be read (not a regular file); ignored",)
    user.symlink_to(outside)
    assert resolve(None, env=env).settings.completion.budget == 1
