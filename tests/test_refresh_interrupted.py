"""A single-file update after an interrupted run never hides it: `vectors_dirty`, set by a run stopped between its
catalog write and its vectors (or by deferred writes the embedding cache no longer holds), survives the update, so
the next refresh still makes the vector store hold exactly the catalog's chunks."""
from __future__ import annotations

import pytest

from ragls.indexer import refresh as refresh_module
from ragls.indexer.vector_sync import VectorSync

from .helpers_repo import (  # noqa: F401  (the *_fixture names are fixtures)
    Workspace,
    assert_consistent,
    eager_vectors_fixture,
    open_index_fixture,
    rows,
    vec_ids,
    workspace_fixture,
)

# These runs embed and store their vectors as they go, as with a model embedder; vectors built on demand (the static
# embedder's) are tested in test_lazy_vectors.py.
pytestmark = pytest.mark.usefixtures("eager_vectors")


class Killed(Exception):
    """Stands for the process being killed at that step."""


def _kill(*_args, **_kwargs):
    raise Killed


@pytest.mark.parametrize("updater", ["the same index", "another index"])
@pytest.mark.parametrize("run", ["batch by batch", "late"])
def test_an_update_after_a_refresh_stopped_before_its_vectors_leaves_them_to_the_next_refresh(
        workspace: Workspace, open_index, monkeypatch: pytest.MonkeyPatch, updater: str, run: str) -> None:
    """Killed after a batch's commit and before its vector write, or (a large run, `late`: every vector written once
    at the end) before that end."""
    index = open_index(workspace.root)
    index.refresh(progress=False)
    assert index.store.meta("vectors_dirty") == "0"
    workspace.write({"app/util.py": "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n\n\n"
                                    "def wrap(x, n):\n    return x % n\n",
                     "app/extra.py": "def extra():\n    return 42\n"})
    with monkeypatch.context() as m:
        if run == "late":
            m.setattr(refresh_module, "LATE_MIN_FILES", 1)
            m.setattr(VectorSync, "settle", _kill)  # the batches committed, no vector written yet
        else:
            m.setattr(VectorSync, "write", _kill)  # killed after the batch's commit, before its vectors
        with pytest.raises(Killed):
            index.refresh(progress=False)
    assert index.store.meta("vectors_dirty") == "1" and index.store.meta("unsettled") == "1"
    assert vec_ids(index) - index.vectors.ids(), "the stopped run should have left chunks without vectors"

    other = index if updater == "the same index" else open_index(workspace.root)
    workspace.write({"app/models.py": "def make_user(name):\n    return name\n"})
    other.update_file("app/models.py")
    assert other.store.meta("vectors_dirty") == "1"  # the update settled its own writes, not the stopped run's

    index.refresh(progress=False)
    assert index.store.meta("vectors_dirty") == "0"
    assert_consistent(index)  # every chunk of the catalog has its vector, and no other vector is left


def test_an_update_that_finds_deferred_vectors_lost_from_the_cache_leaves_them_to_the_next_refresh(
        workspace: Workspace, open_index) -> None:
    """Another index deferred its vector writes; their texts then left the embedding cache. An update whose store is
    open applies the deferred writes, cannot restore those vectors and marks the store dirty: the update must not
    clear that mark, so the next refresh reconciles (and the one after embeds the lost texts again)."""
    writer = open_index(workspace.root)
    writer.refresh(progress=False)
    _ = writer.vectors  # open: its updates write the store at once
    deferring = open_index(workspace.root)  # no store open: its update leaves the vector writes to the next opener
    workspace.write({"app/util.py": "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n\n\n"
                                    "def wrap(x, n):\n    return x % n\n"})
    deferring.update_file("app/util.py")
    assert deferring.store.meta("vectors_pending") is not None and not deferring.vectors_open
    with deferring.store.transaction() as db:  # the cache lost the file's texts (pruned, salvaged in part)
        db.execute("DELETE FROM vectors WHERE text_hash IN (SELECT text_hash FROM chunks WHERE path='app/util.py')")

    workspace.write({"app/models.py": "def make_user(name):\n    return name\n"})
    writer.update_file("app/models.py")  # applies the deferred writes first
    assert writer.store.meta("vectors_pending") is None
    assert writer.store.meta("vectors_dirty") == "1"

    writer.refresh(progress=False)  # reconciles: the lost texts' files are read again next time
    assert rows(writer, "SELECT hash FROM files WHERE path='app/util.py'") == [("",)]
    writer.refresh(progress=False)
    assert_consistent(writer)
