"""Command-line flags for settings (the same keys as every other layer) and the settings a command runs with."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .layers import ProjectFiles, Resolved, parse_flag, resolve
from .settings import Settings

# argparse destination -> (key, flag); a flag left out (None) leaves the lower layers' value
FLAGS: dict[str, tuple[str, str]] = {
    "base_url": ("model.baseUrl", "--base-url"),
    "model": ("model.chatModel", "--model"),
    "completion_model": ("model.completionModel", "--completion-model"),
    "fim_template": ("model.fimTemplate", "--fim-template"),
    "api_key_env": ("model.apiKeyEnv", "--api-key-env"),
    "timeout": ("model.timeoutS", "--timeout"),
    "concurrency": ("model.maxConcurrency", "--concurrency"),
    "embedder": ("index.embedder", "--embedder"),
    "embed_base_url": ("index.embedBaseUrl", "--embed-base-url"),
    "embed_api_key_env": ("index.embedApiKeyEnv", "--embed-api-key-env"),
    "store": ("index.store", "--store"),
    "data_dir": ("index.dataDir", "--data-dir"),
}


def add_model_flags(p: argparse.ArgumentParser, timeout: str = "30") -> None:
    """The model's flags, and --set for any other key."""
    p.add_argument("--base-url", metavar="URL", help="the OpenAI-compatible endpoint (model.baseUrl)")
    p.add_argument("--model", metavar="NAME", help="the chat model (model.chatModel)")
    p.add_argument("--completion-model", metavar="NAME", help="the completion model (model.completionModel)")
    p.add_argument("--fim-template", metavar="FAMILY", help="the completion model's FIM family (model.fimTemplate)")
    p.add_argument("--api-key-env", metavar="VAR", help="the environment variable holding the key (model.apiKeyEnv)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help=f"seconds each model call may take (model.timeoutS; default {timeout})")
    add_set_flag(p)


def add_set_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="any setting by its key, e.g. --set completion.budget=4096 (repeatable; see ragls config)")


def flag_values(args: argparse.Namespace) -> dict[str, tuple[Any, str]]:
    """The settings given on the command line, by key, each with its flag; --set KEY=VALUE last."""
    out = {key: (getattr(args, dest), flag) for dest, (key, flag) in FLAGS.items()
           if getattr(args, dest, None) is not None}
    for item in getattr(args, "settings", None) or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"ragls: --set wants KEY=VALUE (e.g. model.timeoutS=60), got {item!r}")
        out[name.strip()] = (parse_flag(name.strip(), text), f"--set {name.strip()}")
    return out


def settings_for(args: argparse.Namespace, root: Path | None, defaults: Mapping[str, Any] | None = None,
                 command: str = "", project_files: ProjectFiles | None = None) -> Settings:
    """A command's settings: the layers with its flags (and its own `defaults`), each problem one stderr line;
    `project_files`: the project's settings files as stored there, not in the working tree."""
    resolved = resolve(root, flags=flag_values(args), defaults=defaults, command=command,
                       project_files=project_files)
    report(resolved)
    return resolved.settings


def report(resolved: Resolved) -> None:
    for problem in resolved.problems:
        print(f"ragls: {problem}", file=sys.stderr)
