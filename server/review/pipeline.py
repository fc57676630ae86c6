"""A review as three calls: the model client, the prompts a change makes within its budget, and their findings."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.client import NOT_CONFIGURED, ModelClient, ModelConfig
from ..settings import Settings, model_configured
from .findings import ReviewError
from .formats import Result
from .plan import Plan, plan, room
from .reviewers import Reviewer, run
from .scope import Skipped, units

if TYPE_CHECKING:
    from ragls.indexer.index import Index
    from ragls.indexer.retrieve import Retriever

    from .diff import Change


def model_client(settings: Settings) -> ModelClient:
    """The client the reviewers call, as the settings say (their timeout and concurrency included); ReviewError when
    no model is configured."""
    if not model_configured(settings):
        raise ReviewError(NOT_CONFIGURED)
    return ModelClient(ModelConfig.from_settings(settings))


def prepare(index: Index, change: Change, budget: int, prompt_budget: int, retriever: Retriever | None = None
            ) -> tuple[Plan, list[Skipped]]:
    """The change's units with their context, packed into prompts of `prompt_budget` tokens within `budget` tokens
    per reviewer, and everything left out with why. Reads the index (through `retriever` when given)."""
    found, skipped = units(index, change, room(prompt_budget), retriever)
    p = plan(found, budget, prompt_budget)
    return p, skipped + p.skipped


async def review(client: ModelClient, change: Change, p: Plan, skipped: list[Skipped], prompt_budget: int,
                 log_prompts: bool = False, repository: str | None = None) -> Result:
    """Every specialist over the planned prompts, then the merge pass: the review's result (ReviewError when the
    model fails or its replies are malformed: never a partial review)."""
    from ..version import VERSION

    reviewer = Reviewer(client, prompt_budget, log_prompts)
    texts = {f.path: f.text for f in change.files if f.text is not None}
    findings = await run(reviewer, p, texts) if p.batches else []
    return Result(change.base, change.head, VERSION, p.units, findings, skipped, reviewer.calls, repository)
