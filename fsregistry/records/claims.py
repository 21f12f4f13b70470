"""The order of stage and alias claims, and how two claims on one stage or alias are settled.

A version *claims* an exclusive stage (Staging, Production) or an alias in its own
``meta.json``.  Moving a stage or an alias rewrites two records (the new holder's, then the
old holder's) and then the index; a writer killed between those writes, or two writers whose
lock did not hold, can leave two versions claiming one stage or alias.  Every reader, writer
and ``check`` must then pick the same winner, and the loser's claim must be cleared, never
promoted later.

So every claim carries an order: ``stage_seq`` and ``alias_seq[alias]`` in ``meta.json``,
numbers taken from the model's ``index.json`` (``claim_seq``) under the write lock, written
there *before* the claim itself, so a number is never handed out twice even when the writer
dies right after taking it.  Two claims are compared by ``(seq, time, version)``: the newest
claim wins.  Claims written before claims had an order have ``seq`` 0 and fall back to the
time they were made, as they always did.

A superseded claim is cleared: a stage goes to ``Archived`` (as the promotion that
superseded it would have archived it), an alias is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..names import EXCLUSIVE_STAGES

#: ``(seq, time, version)``: the larger claim is the newer one
ClaimKey = tuple[int, str, int]


def _seq(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def stage_key(entry: dict[str, Any], version: int) -> ClaimKey:
    """The order of a version's stage claim (``entry`` is a version's index summary,
    :func:`fsregistry.records.summary`, or its entry in an object-storage head)."""
    return (_seq(entry.get("stage_seq")), str(entry.get("stage_changed_at") or ""), version)


def alias_key(entry: dict[str, Any], alias: str, version: int) -> ClaimKey:
    """The order of a version's claim on ``alias``."""
    at = (entry.get("aliases") or {}).get(alias)
    return (_seq((entry.get("alias_seq") or {}).get(alias)), str(at or ""), version)


def newest_seq(entry: dict[str, Any]) -> int:
    """The highest order number of any claim this version holds (0 for none)."""
    seqs = [_seq(entry.get("stage_seq")), *(_seq(s) for s in (entry.get("alias_seq") or {}).values())]
    return max(seqs)


@dataclass
class Settlement:
    """Who holds each exclusive stage and alias, and which claims lost."""

    stages: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    #: ``(version, stage)`` claims superseded by a newer claim on the same stage
    stale_stages: list[tuple[int, str]] = field(default_factory=list)
    #: ``(version, alias)`` claims superseded by a newer claim on the same alias
    stale_aliases: list[tuple[int, str]] = field(default_factory=list)
    #: the highest order number seen in any claim
    max_seq: int = 0

    def stale_aliases_of(self, version: int) -> list[str]:
        return sorted(alias for v, alias in self.stale_aliases if v == version)


def settle(entries: dict[int, dict[str, Any]]) -> Settlement:
    """Settle every claim in ``entries`` (version -> index summary, as for :func:`stage_key`):
    the newest claim on each stage and alias wins, the others are stale."""
    best_stage: dict[str, ClaimKey] = {}
    best_alias: dict[str, ClaimKey] = {}
    out = Settlement()
    for version, entry in entries.items():
        out.max_seq = max(out.max_seq, newest_seq(entry))
        stage = entry.get("stage")
        if stage in EXCLUSIVE_STAGES:
            key = stage_key(entry, version)
            best_stage[stage] = max(best_stage.get(stage, key), key)
        for alias in entry.get("aliases") or {}:
            key = alias_key(entry, alias, version)
            best_alias[alias] = max(best_alias.get(alias, key), key)
    out.stages = {stage: key[2] for stage, key in best_stage.items()}
    out.aliases = {alias: key[2] for alias, key in best_alias.items()}
    for version, entry in sorted(entries.items()):
        stage = entry.get("stage")
        if stage in EXCLUSIVE_STAGES and out.stages[stage] != version:
            out.stale_stages.append((version, stage))
        out.stale_aliases += [(version, a) for a in sorted(entry.get("aliases") or {}) if out.aliases[a] != version]
    return out


def actor() -> dict[str, str | None]:
    """Who makes a change: the operating-system user and this host.  Either is ``None`` when
    it cannot be read (a container without a passwd entry, say): a change never fails for it."""
    import getpass  # here, not at the top: only a write needs them, and socket is slow to import
    import socket

    try:
        user: str | None = getpass.getuser()
    except Exception:  # getuser raises OSError or KeyError, or whatever a broken environment gives
        user = None
    try:
        host: str | None = socket.gethostname() or None
    except OSError:
        host = None
    return {"user": user, "host": host}


class ClaimHolder(Protocol):
    """What holds a version's claims: its :class:`~fsregistry.records.typed.VersionRecord`,
    or (on object storage) the version's entry in its model's head."""

    stage: str | None
    stage_seq: int

    @property
    def version(self) -> int: ...
    @property
    def stage_history(self) -> list[Any]: ...
    @property
    def aliases(self) -> dict[str, Any]: ...
    @property
    def alias_seq(self) -> dict[str, int]: ...
    @property
    def alias_history(self) -> list[Any]: ...


def set_stage(meta: ClaimHolder, stage: str | None, now: str, seq: int | None = None) -> None:
    """Move ``meta`` to ``stage``, recording the change (when, from what, by whom) in its
    history; a claim on an exclusive stage carries its order number ``seq``."""
    meta.stage_history.append({"stage": stage, "from": meta.stage, "at": now, "by": actor()})
    meta.stage = stage
    meta.stage_seq = seq if seq is not None and stage in EXCLUSIVE_STAGES else 0


def add_alias(meta: ClaimHolder, alias: str, now: str, seq: int) -> None:
    """Make ``meta`` claim ``alias`` with order number ``seq`` (recorded in its history)."""
    meta.aliases[alias] = now
    meta.alias_seq[alias] = seq
    _alias_event(meta, alias, "set", now)


def drop_alias(meta: ClaimHolder, alias: str, now: str | None = None) -> None:
    """Remove ``meta``'s claim on ``alias`` (nothing if it has none); with ``now``, the
    removal is recorded in its history."""
    held = alias in meta.aliases
    meta.aliases.pop(alias, None)
    if held and now is not None:
        _alias_event(meta, alias, "removed", now)
    meta.alias_seq.pop(alias, None)


def clear_stale(meta: ClaimHolder, settlement: Settlement, now: str) -> bool:
    """Clear the claims of ``meta`` that ``settlement`` found superseded: a stage goes to
    Archived, an alias is removed.  Returns whether anything changed."""
    version = meta.version
    changed = False
    if meta.stage is not None and (version, meta.stage) in settlement.stale_stages:
        set_stage(meta, "Archived", now)
        changed = True
    for alias in settlement.stale_aliases_of(version):
        drop_alias(meta, alias, now)
        changed = True
    return changed


def _alias_event(meta: ClaimHolder, alias: str, action: str, now: str) -> None:
    meta.alias_history.append({"alias": alias, "action": action, "at": now, "by": actor()})
