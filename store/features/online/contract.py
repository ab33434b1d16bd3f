"""What every online backend answers, and the checks every request passes first.

A backend (redis_store.py, feast_store.py) implements `OnlineStore.read`; the domain never
knows which one it has. Statuses are Feast's: PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE — and unlike
Feast, a value older than its view's TTL comes back as null with OUTSIDE_MAX_AGE (Feast issues
#1802, #6821 return it as if fresh). tests/features/test_online_contract.py holds every backend
to the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from feast import FeatureStore

from ...errors import InvalidArgument, NotFound
from .snapshot import Snapshot

PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE = "PRESENT", "NOT_FOUND", "OUTSIDE_MAX_AGE"


class OnlineStore(Protocol):
    """An online backend. `reads_generation`: its read also returns the definitions'
    generation it saw (in the same round trip), so the caller may read from a cached snapshot
    and read again when an apply moved it; otherwise the caller checks the generation first."""

    reads_generation: bool

    def read(
        self,
        store: FeatureStore,
        snap: Snapshot,
        refs: list[tuple[str, str]],
        entities: dict[str, list[Any]],
        *,
        max_entities: int,
        now: float | None = None,
    ) -> tuple[OnlineResult, str | None]: ...


@dataclass(frozen=True, slots=True)
class OnlineResult:
    """Column-wise, as Feast's REST answer: entity columns first, then each feature."""

    feature_names: list[str]
    values: list[list[Any]]
    statuses: list[list[str]]
    event_timestamps: list[list[str | None]]


def resolve(
    snap: Snapshot, features: Sequence[str] | None, service: str | None
) -> list[tuple[str, str]]:
    """Feature references `view:feature` (or a feature service) as (view, feature) pairs.

    Raises:
        InvalidArgument: malformed references, or both/neither of features and service.
        NotFound: unknown views, features or service — all of them named at once.
    """
    if (features is None) == (service is None):
        raise InvalidArgument("give exactly one of features and feature_service")
    if service is not None:
        if service not in snap.services:
            raise NotFound(
                f"feature service {service!r} does not exist",
                details={"feature_service": service, "known": sorted(snap.services)},
            )
        return snap.services[service]
    refs: list[tuple[str, str]] = []
    unknown: list[str] = []
    for ref in features or []:
        view, sep, name = ref.partition(":")
        if not sep or not view or not name:
            raise InvalidArgument(
                f"feature reference {ref!r} is not 'view:feature'", details={"feature": ref}
            )
        spec = snap.views.get(view)
        if spec is None or name not in spec.fields:
            unknown.append(ref)
        refs.append((view, name))
    if unknown:
        raise NotFound(
            f"unknown features: {', '.join(unknown)}",
            details={"features": unknown, "views": sorted(snap.views)},
        )
    if not refs:
        raise InvalidArgument("no features requested")
    return refs


def check_entities(
    snap: Snapshot, refs: list[tuple[str, str]], entities: dict[str, list[Any]], limit: int
) -> int:
    needed = {k for view, _ in refs for k in snap.views[view].join_keys}
    missing = sorted(needed - set(entities))
    if missing:
        unknown = sorted(set(entities) - needed)
        raise InvalidArgument(
            f"missing entity keys: {', '.join(missing)}"
            + (f" (and {', '.join(unknown)} is not one the features use)" if unknown else ""),
            details={"missing": missing, "unknown": unknown},
        )
    extra = sorted(set(entities) - needed)
    if extra:
        raise InvalidArgument(
            f"entity keys not used by the requested features: {', '.join(extra)}",
            details={"unknown": extra, "expected": sorted(needed)},
        )
    lengths = {len(v) for v in entities.values()}
    if len(lengths) != 1:
        raise InvalidArgument("every entity key needs the same number of values")
    (n,) = lengths
    if not 1 <= n <= limit:
        raise InvalidArgument(f"between 1 and {limit} entity rows a request; got {n}")
    return n
