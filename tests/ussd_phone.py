"""A feature phone for tests: Africa's Talking-format hops through the real endpoint."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from text.gsm7 import units
from text.plain import plain_letters
from text.screen import budget_for

if TYPE_CHECKING:
    from flask.testing import FlaskClient

_ids = itertools.count(1)


def fits(body: str) -> bool:
    """The reply is CON/END and its content fits one screen."""
    if body[:4] not in ("CON ", "END "):
        return False
    content = body[4:]
    return units(content) <= budget_for(content)


@dataclass
class Phone:
    client: FlaskClient
    number: str
    session_id: str = ""
    typed: list[str] = field(default_factory=list)
    screen: str = ""
    query: dict[str, str] = field(default_factory=dict)

    def dial(self, shortcut: str = "") -> str:
        """A new session (a new sessionId); ``shortcut`` is what a dialled ``*384*123*1#`` adds."""
        self.session_id = f"ATUid_test_{next(_ids)}"
        self.typed = [shortcut] if shortcut else []
        return self._post()

    def send(self, answer: str) -> str:
        self.typed.append(answer)
        return self._post()

    def repeat(self) -> str:
        """The gateway resends the same request."""
        return self._post()

    def _post(self) -> str:
        r = self.client.post("/ussd/africastalking", query_string=self.query, data={
            "sessionId": self.session_id, "phoneNumber": self.number, "serviceCode": "*384*123#",
            "networkCode": "99999", "text": "*".join(self.typed)})
        assert r.status_code == 200 and r.mimetype == "text/plain"
        self.screen = r.get_data(as_text=True)
        assert fits(self.screen), self.screen
        return self.screen

    @property
    def ended(self) -> bool:
        return self.screen.startswith("END ")

    def walk(self, *answers: str) -> str:
        for a in answers:
            self.send(a)
        return self.screen

    def option(self, label: str) -> str:
        """The number in front of ``label`` on the current screen."""
        for line in self.screen[4:].split("\n"):
            num, _, text = line.partition(". ")
            if text in (label, plain_letters(label)) and num.isdigit():  # a paging screen may be plain
                return num
        raise AssertionError(f"{label!r} not on screen:\n{self.screen}")

    def choose(self, label: str) -> str:
        """Choose ``label``, paging with 98 until it shows."""
        for _ in range(10):
            try:
                return self.send(self.option(label))
            except AssertionError:
                if "\n98. " not in self.screen:
                    raise
                self.send("98")
        raise AssertionError(label)
