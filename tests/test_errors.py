"""The error adapter (server/errors.py): every kind of failure as one clean line, a bug's traceback in the log."""
from __future__ import annotations

import logging

from ragls.indexer.embed import EmbeddingError
from ragls.indexer.lock import IndexLocked
from ragls.indexer.vectors import VectorStoreError
from ragls.prompts.render import BudgetError
from ragls.server import errors
from ragls.server.documents import Unreadable
from ragls.server.indexer_process import IndexingFailed
from ragls.server.model.client import ModelError


def test_expected_failures_are_their_own_words_without_class_or_prefix():
    assert errors.message(ModelError("timeout", "ragls: the model server at http://h/v1 timed out")) == \
        "the model server at http://h/v1 timed out"
    assert errors.message(errors.CommandError("ragls: ragls: ragls.ask needs a question")) == \
        "ragls.ask needs a question"
    assert errors.message(IndexLocked("another ragls is indexing /r")) == "another ragls is indexing /r"
    assert errors.message(Unreadable("x.py is larger than 1 bytes")) == "x.py is larger than 1 bytes"
    budget = errors.message(BudgetError("prompt 'fix' needs 9000 tokens, over the budget of 6000"))
    assert budget == "the prompt does not fit its budget (chat.budget): prompt 'fix' needs 9000 tokens, over the " \
                     "budget of 6000"
    completion = errors.message(BudgetError("prompt 'complete_fim' needs 3000 tokens", template="complete_fim"))
    assert completion.startswith("the prompt does not fit its budget (completion.budget): "), "its own setting"
    # the indexer's failures that say how to fix them (the child indexer's, a vector store, an embeddings endpoint)
    assert errors.message(IndexingFailed("another ragls process is indexing")) == "another ragls process is indexing"
    assert all(errors.expected(e) for e in (ModelError("http", "x"), BudgetError("x"), IndexLocked("x"),
                                            IndexingFailed("x"), VectorStoreError("x"), EmbeddingError("x"),
                                            Unreadable("x"), errors.CommandError("x")))


def test_a_bug_is_named_by_its_type_one_line_and_its_traceback_goes_to_the_log(caplog):
    bug = KeyError("range")
    assert not errors.expected(bug)
    assert errors.message(bug) == "KeyError: 'range'"
    assert errors.message(ValueError("a\n  b " + "x" * 600)).endswith("…")
    assert "\n" not in errors.message(ValueError("a\n  b"))
    with caplog.at_level(logging.WARNING, logger="ragls.server.errors"):
        with errors.quiet("completion"):
            raise bug
        with errors.quiet("completion"):
            raise ModelError("timeout", "the model server timed out")
    bug_record, expected_record = caplog.records
    assert bug_record.levelno == logging.ERROR and bug_record.exc_info is not None
    assert expected_record.levelno == logging.WARNING and expected_record.exc_info is None
    assert expected_record.getMessage() == "completion: the model server timed out"
