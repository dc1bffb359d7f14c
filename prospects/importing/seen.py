"""A set of 64-bit integers at about 8 bytes a member, for the import's memory.

An import remembers a hash of every email and phone it has met, and the id
of every contact it has touched, to tell a person who comes up again. In a
Python set each costs some 60 bytes (the int object and its slot), 6 MB per
100,000 rows, growing with the file. Here the newest members sit in a small
set and the rest in sorted arrays of machine integers, merged as they grow
like the digits of a binary counter, so there are never more than a few
arrays to search.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable

RECENT_LIMIT = 1 << 15  # members held as Python ints before they are packed


class CompactSet:
    def __init__(self) -> None:
        self._recent: set[int] = set()
        self._packed: list[array] = []  # sorted, each at least twice the next

    def __len__(self) -> int:
        return len(self._recent) + sum(len(part) for part in self._packed)

    def __contains__(self, member: int) -> bool:
        if member in self._recent:
            return True
        for part in self._packed:
            at = bisect_left(part, member)
            if at < len(part) and part[at] == member:
                return True
        return False

    def isdisjoint(self, members: Iterable[int]) -> bool:
        return not any(member in self for member in members)

    def update(self, members: Iterable[int]) -> None:
        self._recent.update(members)
        if len(self._recent) >= RECENT_LIMIT:
            self._pack()

    def _pack(self) -> None:
        part = array("q", sorted(self._recent))
        self._recent = set()
        while self._packed and len(self._packed[-1]) <= 2 * len(part):
            part = _merged(self._packed.pop(), part)
        self._packed.append(part)


def _merged(first: array, second: array) -> array:
    """Return the union of two sorted arrays, sorted, without repeats.

    A walk of both rather than sorted(first + second), which would build a
    list of Python ints as big as both: the very memory this module saves.
    """
    out = array("q")
    append = out.append
    i = j = 0
    left, right = len(first), len(second)
    while i < left and j < right:
        a, b = first[i], second[j]
        if a < b:
            append(a)
            i += 1
        elif b < a:
            append(b)
            j += 1
        else:
            append(a)
            i += 1
            j += 1
    out.extend(first[i:])
    out.extend(second[j:])
    return out
