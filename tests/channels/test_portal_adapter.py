"""The portal and API adapters turn what a customer or integrator sent into a message."""

import pytest

from kefu.channels.base import Identity
from kefu.channels.portal import ApiAdapter, PortalAdapter, Submission
from kefu.core.errors import InvalidInput

SENDER = Identity("email", "trader@example.com")


def test_a_submission_becomes_an_inbound_message() -> None:
    inbound = PortalAdapter().receive(Submission(SENDER, "where is my deposit", "form-1"))
    assert (inbound.channel, inbound.body, inbound.external_id) == (
        "portal", "where is my deposit", "form-1")
    assert ApiAdapter().receive(Submission(SENDER, "x")).channel == "api"


@pytest.mark.parametrize("raw", [
    Submission(SENDER, "   "),
    Submission(SENDER, "hi", external_id="has space"),
    Submission(SENDER, "hi", external_id="x" * 201),
    Submission(SENDER, "hi", external_id="nul\x00"),
    {"body": "not a submission"},
])
def test_what_is_not_a_message_is_refused_clearly(raw: object) -> None:
    with pytest.raises(InvalidInput):
        PortalAdapter().receive(raw)
