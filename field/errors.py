"""A refusal from the field features: a stable code and an N_() sentence, rendered in the reader's words."""
from __future__ import annotations

from typing import Any

from i18n import Translator


class FieldError(ValueError):
    def __init__(self, code: str, message: str, /, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.code, self.message, self.params = code, message, params

    def render(self, t: Translator) -> str:
        return t.gettext(self.message, **self.params)
