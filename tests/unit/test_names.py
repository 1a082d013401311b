"""Names that become namespaces, interfaces and paths: each rule refuses what breaks it (naming
the name and the rule) and accepts what keeps it."""
from __future__ import annotations

import pytest

from emulator.core import names


@pytest.mark.parametrize("good", ["a", "seattle", "h7rec", "a" * 12, "lab2"])
def test_a_lab_name_that_fits_every_namespace_is_accepted(good):
    assert names.lab_name_problem(good) is None


@pytest.mark.parametrize("bad", ["", "a" * 13, "Seattle", "2lab", "a*", "../x", "a b", "a-b",
                                 "a_b"])
def test_a_lab_name_that_cannot_prefix_a_namespace_is_refused(bad):
    problem = names.lab_name_problem(bad)
    assert problem is not None and repr(bad) in problem and "namespace" in problem


def test_the_longest_lab_name_still_fits_a_namespace_with_any_node_name():
    """ml-<lab>-<node> with the longest names: a path component, no '/' and no NUL."""
    lab, node = "a" * 12, "n" * names.MAX_IFNAME
    assert names.lab_name_problem(lab) is None and names.node_name_problem(node) is None
    assert len(f"ml-{lab}-{node}") < 255


@pytest.mark.parametrize("good", ["sea-pr1", "rs", "a", "n" * 15, "ms-1-a"])
def test_a_node_name_of_at_most_15_characters_is_accepted(good):
    assert names.node_name_problem(good) is None


@pytest.mark.parametrize("bad", ["", "n" * 16, "sea-pr1-", "-pr1", "1pr", "Sea-PR1", "sea_pr1",
                                 "sea.pr1", "../x"])
def test_a_node_name_that_cannot_be_a_namespace_and_interface_is_refused(bad):
    problem = names.node_name_problem(bad)
    assert problem is not None and repr(bad) in problem and "1-15 characters" in problem


@pytest.mark.parametrize("good", ["lag0", "lag0m1", "eth0.100", "br_0", "ix-0", "i" * 15])
def test_an_interface_name_linux_takes_is_accepted(good):
    assert names.ifname_problem(good) is None


def test_an_interface_name_over_ifnamsiz_is_refused_with_its_length():
    assert names.ifname_problem("i" * 16) == (
        f"interface name {'i' * 16!r} is 16 characters; Linux allows 15")


@pytest.mark.parametrize("bad", ["", "0lag", "lag/0", "lag 0", "lag0;ls", "-lag"])
def test_an_interface_name_with_other_characters_is_refused(bad):
    problem = names.ifname_problem(bad)
    assert problem is not None and repr(bad) in problem


# `$` with re.match would accept one trailing newline: a namespace, interface or path with a
# newline in it. The patterns must match the whole name.


def test_a_lab_name_ending_in_a_newline_is_refused():
    assert names.lab_name_problem("lab\n") is not None


def test_a_node_name_ending_in_a_newline_is_refused():
    assert names.node_name_problem("pr1\n") is not None


def test_an_interface_name_ending_in_a_newline_is_refused():
    assert names.ifname_problem("lag0\n") is not None
