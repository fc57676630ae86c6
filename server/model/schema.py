"""The JSON shape a chat reply must take: apart from the model client, so that its parsers load without openai."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReplySchema:
    """The JSON a chat reply must be: a name for the endpoint (letters, digits, _ and -), a JSON schema kept within
    OpenAI's strict subset (every property required, no additional properties, no length limits), and optionally the
    same schema with limits (maxItems, maxLength) for the json_object form, which only local servers understand:
    their grammars then keep a small model that repeats itself from running on to max_tokens."""

    name: str
    schema: Mapping[str, Any]
    bounded: Mapping[str, Any] | None = None

    def response_format(self, form: str) -> dict[str, Any]:
        """The request's `response_format` in one of FORMATS' forms."""
        if form == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": self.name, "schema": self.schema, "strict": True}}
        return {"type": "json_object", "schema": self.bounded or self.schema}
