"""The language registry: one entry per language (see spec.LanguageSpec); adding a language adds one module here."""
from __future__ import annotations

from . import c, go, java, javascript, python, rust
from .spec import ImportReader, LanguageSpec, Resolver

LANGUAGES: tuple[LanguageSpec, ...] = (*python.SPECS, *javascript.SPECS, *go.SPECS, *rust.SPECS, *java.SPECS,
                                       *c.SPECS)

__all__ = ["LANGUAGES", "ImportReader", "LanguageSpec", "Resolver"]
