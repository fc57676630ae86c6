"""One workspace folder in the server: its index session, completion, chat and review features, indexing state."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from .acceptance import AcceptanceStore
from .editing import Editing
from .features.chat import ChatFeatures
from .features.completion import Completer
from .model.client import ModelClient
from .review.live import LiveReview
from .session import Session
from .settings import Settings


@dataclass(eq=False)
class Folder:
    """Each workspace folder has its own index (a repository each, in a multi-root workspace)."""

    session: Session
    name: str
    completer: Completer = field(init=False)
    chat: ChatFeatures = field(init=False)
    reviews: LiveReview = field(init=False)  # review on save
    indexing: asyncio.Task | None = None
    summary: str | None = None  # the last indexing run's one-line summary, or why it failed
    editing: Editing = field(default_factory=Editing)
    acceptance: AcceptanceStore = field(init=False)  # shown / accepted / dismissed completions, next to the index

    @classmethod
    def open(cls, root: Path, settings: Settings, client: ModelClient | None, name: str = "") -> "Folder":
        folder = cls(Session(root, settings, refresh_in_process=False), name or root.name)
        folder.acceptance = AcceptanceStore(folder.session.data_dir)
        folder.reviews = LiveReview(folder.session)
        folder.use(settings, client)
        return folder

    @property
    def root(self) -> Path:
        return self.session.root

    def use(self, settings: Settings, client: ModelClient | None) -> None:
        """New settings or model client (an index setting change needs a restart)."""
        self.session.settings = settings
        self.completer = Completer(self.session, client, self.editing,
                                   self.acceptance if settings.completion.acceptance else None)
        self.chat = ChatFeatures(self.session, client, self.editing)
        self.reviews.client = client

    @property
    def state(self) -> str:
        if self.indexing is not None and not self.indexing.done():
            return "indexing"
        if self.summary is None:
            return "starting"
        return "error" if self.summary.startswith("indexing failed") else "ready"

    def close(self) -> None:
        self.reviews.close()
        self.acceptance.close()
        if self.indexing is not None:
            self.indexing.cancel()
        self.session.close()
