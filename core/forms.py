"""Checking a whole form: every field's rule runs, and the refusals come out together.

The rules themselves are the `check_*` functions of `core.validation`; a flow runs each through
one `FormCheck` and calls `raise_errors()` before it acts, so the same rule gives the same
message in every front end (the console's live checks call the same functions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from core.errors import FormErrors, ValidationError

P = ParamSpec("P")
T = TypeVar("T")


class FormCheck:
    """Collects the first error of each field of one form."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, rule: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T | None:
        """The clean value `rule` returns, or None after noting its refusal."""
        try:
            return rule(*args, **kwargs)
        except FormErrors as exc:
            for field, message in exc.errors.items():
                self.errors.setdefault(field, message)
        except ValidationError as exc:
            self.errors.setdefault(exc.field or "form", exc.message)
        return None

    def refuse(self, field: str, message: str) -> None:
        """Note a refusal found by the flow itself (e.g. an unchecked agreement box)."""
        self.errors.setdefault(field, message)

    def failed(self, field: str) -> bool:
        return field in self.errors

    def raise_errors(self) -> None:
        """Raise every noted refusal at once; nothing happens when the form is valid."""
        if self.errors:
            raise FormErrors(self.errors)
