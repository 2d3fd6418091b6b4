"""Textual `Validator`s for the live checks of forms, each wrapping a rule of `core.validation`.

The rule exists once, in the core: a field checked as the person types says exactly what the
flow would refuse it with when the form is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.validation import ValidationResult, Validator


class CoreRule(Validator):
    """Valid when `rule(value, *args)` returns; otherwise its ValidationError's message.

    `args` may be callables, read at each check (e.g. the country chosen in another field).
    """

    def __init__(self, rule: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.rule = rule
        self.args = args
        self.kwargs = kwargs

    def validate(self, value: str) -> ValidationResult:
        from core.errors import ValidationError
        from core.i18n import translate

        args = [arg() if callable(arg) else arg for arg in self.args]
        kwargs = {k: v() if callable(v) else v for k, v in self.kwargs.items()}
        try:
            self.rule(value, *args, **kwargs)
        except ValidationError as exc:
            return self.failure(translate(exc.message), value)
        return self.success()
