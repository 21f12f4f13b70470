"""What ``check`` found: one :class:`Problem` per finding, in a :class:`CheckReport`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Problem:
    """One finding of :func:`check`."""

    kind: str
    detail: str
    name: str | None = None
    version: int | None = None
    path: str | None = None
    fixed: bool = False


@dataclass
class CheckReport:
    """What :func:`check` found (and, with ``repair=True``, fixed)."""

    problems: list[Problem] = field(default_factory=list)
    models_checked: int = 0
    versions_checked: int = 0
    files_verified: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing is wrong any more (every problem found was fixed)."""
        return all(p.fixed for p in self.problems)

    @property
    def unresolved(self) -> list[Problem]:
        return [p for p in self.problems if not p.fixed]

    def add(self, kind: str, detail: str, **where: Any) -> Problem:
        problem = Problem(kind, detail, **where)
        self.problems.append(problem)
        return problem

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "models_checked": self.models_checked,
            "versions_checked": self.versions_checked,
            "files_verified": self.files_verified,
            "problems": [asdict(p) for p in self.problems],
        }
