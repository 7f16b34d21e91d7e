"""The pure money helpers: largest-remainder allocation and integer fractions."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.money import allocate, fraction_of

weights = st.lists(st.integers(0, 10**9), min_size=1, max_size=30).filter(lambda w: sum(w) > 0)


@settings(max_examples=200)
@given(total=st.integers(0, 10**12), weights=weights)
def test_allocate_adds_up_and_each_part_is_within_one_of_its_exact_share(
        total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    for part, w in zip(parts, weights, strict=True):
        exact = Fraction(total * w, sum(weights))
        assert exact - 1 < part < exact + 1
        assert w > 0 or part == 0


def test_allocate_worked_example_three_equal_members() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError):
        allocate(5, [0, 0])


@given(amount=st.integers(0, 10**12), num=st.integers(0, 10**6), den=st.integers(1, 10**6))
def test_fraction_of_rounds_half_up(amount: int, num: int, den: int) -> None:
    got = fraction_of(amount, num, den)
    exact = Fraction(amount * num, den)
    assert exact - Fraction(1, 2) < got <= exact + Fraction(1, 2)
