"""Postal addresses as people lay them out: the line above a street is not the street, a
UK address runs over three lines, a flat comes before the house, a Danish ground floor."""

from __future__ import annotations

import pytest

from gateway.core.classify import classify


def _addresses(text: str) -> list[str]:
    return [text[e.start : e.end] for e in classify(text).entities if e.type == "POSTAL_ADDRESS"]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # The writer's name or the kindergarten's on the line above stays out.
        ("Hilsen\nKjetil Haugland\nKalfarveien 58\n5018 Bergen", "Kalfarveien 58\n5018 Bergen"),
        ("Med venlig hilsen\nBørnehuset Mælkebøtten\nFyrkildevej 52, 9220 Aalborg Øst",
         "Fyrkildevej 52, 9220 Aalborg Øst"),
        ("Mvh\nGunnar Lindqvist\nKvarnvägen 14\n903 47 Umeå", "Kvarnvägen 14\n903 47 Umeå"),
        # A street named with words before the street word, on its own line.
        ("Vi bor i Kong Oscars gate 12, 5017 Bergen", "Kong Oscars gate 12, 5017 Bergen"),
        # Street, town and postcode on three lines.
        ("Love, Nan\n7 Clinton Road\nRedruth\nTR15 2LP", "7 Clinton Road\nRedruth\nTR15 2LP"),
        # The flat first, with or without a house number.
        ("Flat 3, 18 Stapleton Road, Bristol BS5 0QX", "Flat 3, 18 Stapleton Road, Bristol BS5 0QX"),
        ("Flat 12, Wills Drive, Bristol BS2 9UX", "Flat 12, Wills Drive, Bristol BS2 9UX"),
        # The Danish ground floor ("st.") and basement ("kl.") with the side.
        ("Humlebakken 22, st. tv., 9220 Aalborg Øst", "Humlebakken 22, st. tv., 9220 Aalborg Øst"),
        ("Vi bor på Nørregade 4, kl., 8000 Aarhus C", "Nørregade 4, kl., 8000 Aarhus C"),
        # A space before the comma.
        ("adressa er Uttrågata 14 , 5700 Voss", "Uttrågata 14 , 5700 Voss"),
    ],
)  # fmt: skip
def test_address_layouts(text: str, address: str) -> None:
    assert _addresses(text) == [address]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # The line after a street is not its town unless a postcode follows.
        ("12 Oak Road\nThanks again for Tuesday", "12 Oak Road"),
        ("7 Clinton Road\nRedruth is lovely in May", "7 Clinton Road"),
    ],
)
def test_a_line_after_the_street_joins_only_with_a_postcode(text: str, address: str) -> None:
    assert _addresses(text) == [address]
