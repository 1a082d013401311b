"""Names of the nodes the lab creates itself, beside those the topology declares.

The loader refuses a declared node that takes one of them; emulator.plan.resolve names the
nodes it creates with the same functions, so the two never disagree.
"""
from __future__ import annotations

SWITCH_NAME = "ixlan"
INTERNET_NAME = "internet"
EDGES_PER_LOCATION = 2


def edge_name(location: str, index: int) -> str:
    """A Microsoft edge router of a location: ``sea-ms1``, ``sea-ms2``."""
    return f"{location}-ms{index}"


def generated_names(locations: list[str], internet: bool) -> dict[str, str]:
    """Every name the lab creates, each with what it is."""
    found = {SWITCH_NAME: "the exchange LAN switch"}
    if internet:
        found[INTERNET_NAME] = "the internet node (microsoft.internet)"
    for location in locations:
        for index in range(1, EDGES_PER_LOCATION + 1):
            found[edge_name(location, index)] = f"Microsoft edge router {index} of location {location}"
    return found
