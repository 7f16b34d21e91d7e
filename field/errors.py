"""A refusal from the field features: a stable code and an N_() sentence, rendered in the reader's words."""
from __future__ import annotations

from typing import Any

from i18n import Translator

#: Parameters that are msgids themselves (a condition's label): translated when rendered.
LABEL_PARAMS = ("condition",)


class FieldError(ValueError):
    def __init__(self, code: str, message: str, /, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.code, self.message, self.params = code, message, params

    def values(self, t: Translator) -> dict[str, str]:
        """The parameters as text for ``t``'s reader."""
        return {k: t.gettext(v) if k in LABEL_PARAMS else str(v) for k, v in self.params.items()}

    def render(self, t: Translator) -> str:
        return t.gettext(self.message, **self.values(t))
