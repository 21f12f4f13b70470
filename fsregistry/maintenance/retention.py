"""Retention: delete old versions of a model, keeping everything that is still in use.

``prune(store, "nba", keep_last=5, older_than="30d")`` deletes the versions that are
beyond the five newest (by version number) *and* were created more than 30 days ago.  It
never deletes a version that holds Staging or Production, one that an alias points at, or
the latest version, whatever the rule says: those are what users load.  Archived versions
and versions in no stage are fair game.

Deletion goes through :meth:`Store.delete_model`, so the space is reclaimed
at once, even on a full disk, and version numbers are never reused (the next save
continues after the highest number ever published).  The whole selection and deletion runs under the write lock, so a
version promoted by another process cannot be deleted between the decision and the act.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, ProtectedVersionError
from ..identifiers import ModelRef
from ..names import EXCLUSIVE_STAGES, validate_model_name

if TYPE_CHECKING:
    from ..store.opener import Store

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.IGNORECASE)


def parse_age(value: dt.timedelta | str | float | None) -> dt.timedelta | None:
    """``"30d"``, ``"12h"``, ``"2w"``, ``"90m"``, ``"45s"`` (or a timedelta, or seconds)
    as a :class:`~datetime.timedelta`; ``None`` stays ``None``."""
    if value is None or isinstance(value, dt.timedelta):
        return value
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return dt.timedelta(seconds=float(value))
        match = _AGE_RE.fullmatch(value) if isinstance(value, str) else None
        if match is not None:
            return dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
    except (OverflowError, ValueError):
        raise InvalidArgumentError(f"age {value!r} is out of range") from None
    raise InvalidArgumentError(f"invalid age {value!r}: use a number and a unit, s, m, h, d or w (e.g. '30d', '12h')")


def is_protected(entry: dict[str, Any], latest: int | None) -> bool:
    """True for a version that retention must keep: staged, aliased, or the latest."""
    return entry.get("stage") in EXCLUSIVE_STAGES or bool(entry.get("aliases")) or entry.get("version") == latest


def select(versions: list[dict[str, Any]], keep_last: int | None, cutoff: dt.datetime | None) -> list[dict[str, Any]]:
    """Of a model's versions (any order), those the rule deletes, oldest first."""
    newest_first = sorted(versions, key=lambda v: int(v["version"]), reverse=True)
    latest = int(newest_first[0]["version"]) if newest_first else None
    candidates = newest_first[keep_last:] if keep_last is not None else newest_first
    doomed = [v for v in candidates if not is_protected(v, latest) and _older(v, cutoff)]
    return sorted(doomed, key=lambda v: int(v["version"]))


def _older(entry: dict[str, Any], cutoff: dt.datetime | None) -> bool:
    """Created before ``cutoff`` (always, without one); an unreadable date keeps the version."""
    if cutoff is None:
        return True
    try:
        created = dt.datetime.fromisoformat(str(entry.get("created_at")))
    except ValueError:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    return created < cutoff


def _check_keep_last(keep_last: Any) -> int | None:
    if keep_last is None:
        return None
    if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 0:
        raise InvalidArgumentError(f"keep_last must be a whole number >= 0, got {keep_last!r}")
    return keep_last


def prune(
    store: Store,
    name: str,
    keep_last: int | None = None,
    older_than: dt.timedelta | str | float | None = None,
    dry_run: bool = False,
) -> list[dict[str, Any]]:
    """Delete the versions of ``name`` beyond the ``keep_last`` newest and created more than
    ``older_than`` ago (either rule alone, or both; at least one is required).

    Staged (Staging/Production), aliased and latest versions are always kept.  Returns the
    listing entries (``version``, ``uri``, ``size``, ``created_at``...) of the versions deleted,
    oldest first; with ``dry_run=True`` nothing is deleted and the same list says what would be.
    """
    name = validate_model_name(name)
    keep = _check_keep_last(keep_last)
    age = parse_age(older_than)
    if keep is None and age is None:
        raise InvalidArgumentError("prune needs a rule: keep_last=N, older_than=AGE, or both")
    try:
        cutoff = dt.datetime.now(dt.timezone.utc) - age if age is not None else None
    except OverflowError:
        raise InvalidArgumentError(f"older_than={older_than!r} reaches before year 1") from None
    guard = contextlib.nullcontext() if dry_run else store.write_lock()
    with guard:
        doomed = select(store.list_versions(name), keep, cutoff)
        if dry_run:
            return doomed
        return [entry for entry in doomed if _delete(store, name, entry)]


def _delete(store: Store, name: str, entry: dict[str, Any]) -> bool:
    """Delete one version; a version whose ``meta.json`` says it is protected (the index
    was stale) is kept, not an error."""
    try:
        store.delete(ModelRef(name, "version", int(entry["version"])), force=False)
    except ProtectedVersionError:
        return False
    return True
