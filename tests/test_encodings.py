"""Canonical NASLib encodings of the five spaces: canonical form, NB201 strings, and rejection of bad archs."""

from __future__ import annotations

import pytest

from evoproxy.encodings import (
    ArchEncodingError,
    canonical_arch,
    nb201_from_string,
    nb201_to_string,
    parse_arch,
)


@pytest.mark.parametrize(
    ("space", "raw", "canon"),
    [
        ("nb201", "(4,0,3, 1,4,3)", "(4, 0, 3, 1, 4, 3)"),
        ("nb201", [4, 0, 3, 1, 4, 3], "(4, 0, 3, 1, 4, 3)"),
        ("nb201", "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|",
         "(4, 0, 3, 1, 4, 3)"),
        ("nb101", str(tuple([0, 1] + [0] * 47 + [0, 2, 2, 4, 4, 4, 1])).replace(" ", ""),
         str(tuple([0, 1] + [0] * 47 + [0, 2, 2, 4, 4, 4, 1]))),
        ("nb301", "[[(0,0),(1,5),(1,1),(0,1),(1,3),(0,3),(1,3),(3,2)],[(1,0),(0,2),(1,3),(0,3),(3,0),(0,1),(2,0),(3,6)]]",
         "[[(0, 0), (1, 5), (1, 1), (0, 1), (1, 3), (0, 3), (1, 3), (3, 2)], "
         "[(1, 0), (0, 2), (1, 3), (0, 3), (3, 0), (0, 1), (2, 0), (3, 6)]]"),
        ("tnb101_micro", "(2,3,2,3,2,3)", "(2, 3, 2, 3, 2, 3)"),
        ("tnb101_macro", "(1, 2,4,2)", "(1, 2, 4, 2)"),
        ("tnb101_macro", "(1, 2, 4, 2, 3, 3)", "(1, 2, 4, 2, 3, 3)"),
    ],
)
def test_canonical_forms(space: str, raw: object, canon: str) -> None:
    assert canonical_arch(space, raw) == canon
    assert canonical_arch(space, canon) == canon  # idempotent


@pytest.mark.parametrize(
    ("space", "raw", "fragment"),
    [
        ("nb201", "(4, 0, 3, 1, 4)", "6 op ids"),
        ("nb201", "(5, 0, 3, 1, 4, 3)", "6 op ids"),
        ("nb201", "(4, 0, 3", "cannot parse"),
        ("nb101", "(0, 1)", "56 entries"),
        ("nb101", str(tuple([0] * 7 + [1] + [0] * 41 + [0, 2, 2, 4, 4, 4, 1])), "upper-triangular"),
        ("nb301", "[[(0, 0)], []]", "8 (input, op) pairs"),
        ("nb301", "[[(3, 0), (1, 5), (1, 1), (0, 1), (1, 3), (0, 3), (1, 3), (3, 2)], "
                  "[(1, 0), (0, 2), (1, 3), (0, 3), (3, 0), (0, 1), (2, 0), (3, 6)]]", "bad (input, op) pair"),
        ("tnb101_micro", "(4, 0, 0, 0, 0, 0)", "0..3"),
        ("tnb101_macro", "(1, 2, 5, 2)", "1..4"),
        ("tnb101_macro", "(1, 2, 3)", "4 to 6"),
        ("nb999", "(1,)", "unknown search space"),
    ],
)
def test_bad_archs_are_rejected_with_a_reason(space: str, raw: str, fragment: str) -> None:
    with pytest.raises(ArchEncodingError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        canonical_arch(space, raw)


def test_nb201_string_round_trip_all_cells() -> None:
    import itertools

    for arch in itertools.islice(itertools.product(range(5), repeat=6), 0, None, 97):
        assert nb201_from_string(nb201_to_string(arch)) == arch


def test_nb201_string_edge_order() -> None:
    # node 3's edges come from nodes 0, 1, 2 and map to e03, e13, e23 (tuple positions 2, 4, 5)
    s = "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|avg_pool_3x3~2|"
    assert nb201_from_string(s) == (1, 1, 2, 1, 3, 4)
    assert parse_arch("nb201", s) == (1, 1, 2, 1, 3, 4)
