"""Names that become namespaces, interfaces and paths, checked before anything is created."""
from __future__ import annotations

import re

# Linux IFNAMSIZ is 16 including the terminating NUL.
IFNAMSIZ = 16
MAX_IFNAME = IFNAMSIZ - 1

LAB_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
NODE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,14}$")
IFNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")


def lab_name_problem(name: str) -> str | None:
    if not LAB_NAME.fullmatch(name):
        return f"lab name {name!r} must match {LAB_NAME.pattern} (it prefixes every namespace)"
    return None


def node_name_problem(name: str) -> str | None:
    if not NODE_NAME.fullmatch(name) or name.endswith("-"):
        return (f"name {name!r} must be 1-{MAX_IFNAME} characters of a-z, 0-9 and '-', "
                f"starting with a letter (it becomes a namespace and interface names)")
    return None


def ifname_problem(name: str) -> str | None:
    if len(name) > MAX_IFNAME:
        return f"interface name {name!r} is {len(name)} characters; Linux allows {MAX_IFNAME}"
    if not IFNAME.fullmatch(name):
        return f"interface name {name!r} must match {IFNAME.pattern}"
    return None
