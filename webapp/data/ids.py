"""Ids and id lists as the databases take them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

# PostgreSQL takes at most 32,767 parameters per statement: long id lists go in slices.
IN_CHUNK = 10_000
# Ids are INTEGER columns: anything outside this range cannot exist, and PostgreSQL would reject it.
MAX_ID = 2**31 - 1


def valid_id(value: int) -> bool:
    return 1 <= value <= MAX_ID


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> list[Sequence[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
