"""References customers see are random, well-formed and use the whole alphabet (core.ids)."""

import re

from kefu.core.ids import random_code, ticket_reference

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def test_a_reference_has_the_documented_shape() -> None:
    assert re.fullmatch(r"KF-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}",
                        ticket_reference())


def test_every_position_draws_from_all_32_symbols() -> None:
    """A slip in cutting one draw into 5-bit symbols would starve some symbols or places."""
    codes = [random_code(12) for _ in range(4000)]
    for position in range(12):
        seen = {code[position] for code in codes}
        assert seen == set(CROCKFORD), position


def test_references_do_not_repeat() -> None:
    references = [ticket_reference() for _ in range(20_000)]
    assert len(set(references)) == len(references)
