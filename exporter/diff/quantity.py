"""Kubernetes resource quantities as exact numbers.

The API server rewrites quantities into a canonical form (``0.1`` becomes ``100m``, ``1000m``
becomes ``1``, ``0.5Gi`` becomes ``512Mi``) but keeps the suffix family: ``128M`` (decimal) and
``128Mi`` (binary) are different amounts and stay different. Comparing the exact rational value
captures both facts without reimplementing the server's formatting rules.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 10**3), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
}
_QUANTITY = re.compile(
    r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?\s*$")
#: The server keeps nano precision and rounds finer amounts up.
_NANO = Fraction(1, 10**9)


def parse_quantity(value: Any) -> Fraction | None:
    """The exact amount a quantity stands for, or None when ``value`` is not a quantity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return _round_up(Fraction(repr(value)))
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if match is None:
        return None
    number, suffix, exponent = match.groups()
    amount = Fraction(number)
    if exponent is not None:
        amount *= Fraction(10) ** int(exponent)
    elif suffix in _BINARY:
        amount *= _BINARY[suffix]
    else:
        amount *= _DECIMAL[suffix or ""]
    return _round_up(amount)


def _round_up(amount: Fraction) -> Fraction:
    if (amount / _NANO).denominator == 1:
        return amount
    scaled = amount / _NANO
    whole = -((-scaled.numerator) // scaled.denominator) if amount > 0 else scaled.numerator // scaled.denominator
    return whole * _NANO


def quantities_equal(a: Any, b: Any) -> bool:
    """True when both are quantities of the same amount (``"1"``, ``1``, ``"1000m"``)."""
    qa = parse_quantity(a)
    if qa is None:
        return False
    qb = parse_quantity(b)
    return qb is not None and qa == qb
