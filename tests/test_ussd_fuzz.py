"""Random ``text`` sequences at the endpoint: every reply is CON/END, fits, and no hop fails."""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_ussd import CHAIR, MEMBER, TREASURER, give_pin
from tests.ussd_phone import fits

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from services import Services
    from tests.fixture_types import DemoPeople

_sessions = itertools.count()


@pytest.fixture
def demo_with_pins(services: Services, demo: DemoPeople) -> DemoPeople:
    give_pin(services, MEMBER, "2580")
    give_pin(services, CHAIR, "1357")
    return demo


piece = st.one_of(
    st.sampled_from(["", "0", "00", "98", "1", "2", "3", "9", "*", "#", "1*2", "2580", "1357", "**", "*#"]),
    st.from_regex(r"[0-9*#]{1,12}", fullmatch=True),
    st.text(max_size=40),  # anything, non-ASCII included
    st.text(alphabet="əğışçöüƏĞİŞÇ ạảãàáâăđêôơư", min_size=1, max_size=20),
    st.text(alphabet="0123456789*", min_size=200, max_size=600),  # very long
)
hops = st.lists(st.tuples(piece, st.booleans()), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(phone=st.sampled_from([MEMBER, CHAIR, TREASURER, "+254799999999"]), steps=hops)
def test_random_text_always_gets_a_valid_reply(client: FlaskClient, demo_with_pins: DemoPeople, phone: str,
                                               steps: list[tuple[str, bool]]) -> None:
    session_id = f"fuzz-{next(_sessions)}"
    typed: list[str] = []
    for value, cumulative in steps:
        if cumulative:
            typed.append(value)
            text = "*".join(typed)
        else:
            text = value  # not what the gateway should send: still a valid answer
        r = client.post("/ussd/africastalking", data={"sessionId": session_id, "phoneNumber": phone,
                                                      "serviceCode": "*384*123#", "text": text})
        body = r.get_data(as_text=True)
        assert r.status_code == 200 and r.mimetype == "text/plain"
        assert fits(body), body
        assert "Service busy" not in body, "a hop failed inside"
        if body.startswith("END "):
            break
