"""The ragls engine CLI with the ranking weights read from a given ranking.json (or the hand-set ones).

usage: python engine.py (--weights FILE | --hand) ragls-engine-arguments...

`ragls.indexer.retrieve` reads its weights once, from the ranking.json beside it, with `load_weights`; this runs the
same command line after loading a candidate file through that same function, so that every fold of a
cross-validation can be measured by real `ragls context` runs without touching the shipped file."""
from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from ragls.indexer import cli, retrieve

    if not argv or argv[0] not in ("--weights", "--hand"):
        raise SystemExit("usage: engine.py (--weights FILE | --hand) ARGS...")
    if argv[0] == "--hand":
        retrieve.W = retrieve.HAND_WEIGHTS
        rest = argv[1:]
    else:
        retrieve.W = retrieve.load_weights(Path(argv[1]))
        rest = argv[2:]
    return cli.main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
