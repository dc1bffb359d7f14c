from __future__ import annotations

import random
import tracemalloc

from prospects.importing import seen
from prospects.importing.seen import CompactSet


def test_members_are_found_after_packing_and_merging(monkeypatch) -> None:
    monkeypatch.setattr(seen, "RECENT_LIMIT", 8)
    rng = random.Random(7)
    members = [rng.randint(-(2**63), 2**63 - 1) for _ in range(1_000)]
    strangers = [rng.randint(-(2**63), 2**63 - 1) for _ in range(1_000)]
    found = CompactSet()

    for start in range(0, len(members), 10):
        found.update(members[start : start + 10])

    assert all(member in found for member in members)
    assert not any(stranger in found for stranger in set(strangers) - set(members))
    assert len(found._packed) < 10  # merged as it grew, not one array per pack


def test_a_member_added_twice_is_kept_once(monkeypatch) -> None:
    monkeypatch.setattr(seen, "RECENT_LIMIT", 4)
    found = CompactSet()

    for _ in range(3):
        found.update([1, 2, 3, 4, 5])

    assert len(found) <= 5 + 4  # repeats die at the next merge
    assert found.isdisjoint([6, 7])
    assert not found.isdisjoint([7, 5])


def test_it_costs_a_fraction_of_a_set() -> None:
    def hashes(start: int, stop: int) -> list[int]:
        return [hash(f"lead{n}@example.org") for n in range(start, stop)]

    tracemalloc.start()
    compact = CompactSet()
    for start in range(0, 200_000, 5_000):
        compact.update(hashes(start, start + 5_000))
    compact_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    tracemalloc.start()
    plain: set[int] = set()
    for start in range(0, 200_000, 5_000):
        plain.update(hashes(start, start + 5_000))
    plain_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    assert len(compact) == len(plain) == 200_000
    assert compact_bytes < plain_bytes / 3, (compact_bytes, plain_bytes)
