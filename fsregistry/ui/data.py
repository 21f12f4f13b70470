"""The page data of the model browser: what each page shows, as frozen dataclasses.

Built by :mod:`.pages` from the registry API, turned into HTML by :mod:`.render`; plain
values only (strings, numbers, lists, dicts), so they are easy to test and to serialise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class RegistryReader(Protocol):
    """The read-only part of :class:`~fsregistry.CustomModelRegistry` the browser uses."""

    @property
    def root(self) -> Path | str: ...

    def list_models(self) -> list[dict[str, Any]]: ...

    def list_versions(self, model_name: str) -> list[dict[str, Any]]: ...

    def get_model(self, model_name: str) -> dict[str, Any]: ...

    def get_model_version(self, model_identifier: str) -> dict[str, Any]: ...

    def version_path(self, model_identifier: str) -> Path: ...

    def resolve(self, model_identifier: str) -> tuple[str, int]: ...


# -- page data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRow:
    """One line of the models list."""

    name: str
    description: str
    versions: int
    latest_version: int | None
    stages: dict[str, int]
    aliases: dict[str, int]
    tags: dict[str, str]
    #: tags of the newest version (``save_model(tags=...)`` tags versions, not the model)
    latest_tags: dict[str, str]
    updated_at: str
    #: lower-case text the search box matches: name, description, ``key=value`` tags of the
    #: model and its versions, stages held, ``@alias`` names and ``flavor=...``
    search_text: str
    #: ``{metric: (lowest, highest)}`` over the versions, for filters such as ``auc>0.8``
    metric_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelsPage:
    #: the registry's location, or ``""`` where it is not to be shown (a static export)
    root: str
    models: list[ModelRow]


@dataclass(frozen=True)
class VersionRow:
    """One line of a model's versions table."""

    version: int
    stage: str | None
    aliases: list[str]
    tags: dict[str, str]
    created_at: str
    flavor: str | None
    model_class: str | None
    size: int
    metrics: dict[str, Any]
    description: str


@dataclass(frozen=True)
class MetricSeries:
    """A numeric metric across versions: ``(version, value)`` points, oldest version first."""

    name: str
    points: list[tuple[int, float]]
    #: the version holding Production, marked on the chart
    production: int | None = None


@dataclass(frozen=True)
class ModelPage:
    name: str
    description: str
    tags: dict[str, str]
    created_at: str
    stages: dict[str, int]
    aliases: dict[str, int]
    versions: list[VersionRow]
    #: metric columns shown by default (the first of ``metric_names``)
    key_metrics: list[str]
    charts: list[MetricSeries]
    #: every numeric metric, in the order columns and charts offer them
    metric_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StageEvent:
    """A stage transition.  ``recorded`` is False for the fallback built from the current
    stage when the registry kept no history for the version."""

    version: int
    stage: str | None
    previous: str | None
    at: str
    recorded: bool = True
    #: ``user@host`` who made the change, when recorded
    by: str = ""


@dataclass(frozen=True)
class HistoryPage:
    name: str
    events: list[StageEvent]
    stages: dict[str, int]


@dataclass(frozen=True)
class EnvRow:
    """One line of the environment comparison: saved value against the running one."""

    item: str
    saved: str | None
    now: str | None
    mismatch: bool


@dataclass(frozen=True)
class FileRow:
    """A stored file.  ``status`` is ``verified``, ``mismatch``, ``missing``, ``refused``
    (a name that is not a plain file name) or ``unchecked``."""

    name: str
    size: int | None
    sha256: str
    status: str
    detail: str = ""


@dataclass(frozen=True)
class Identifier:
    """An identifier that resolves to the version right now, and why."""

    uri: str
    meaning: str


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    kind: str


@dataclass(frozen=True)
class LineageRow:
    """One fact of where a version came from.  ``kind`` says how to show ``value``:
    ``text``, ``code`` (an identifier, with a copy button), ``time`` (an ISO timestamp),
    ``hidden`` (withheld from a static export) or ``none``.  ``depth`` > 0 for the facts of
    an earlier import (a bundle made from an imported version)."""

    label: str
    value: str
    kind: str = "text"
    depth: int = 0


@dataclass(frozen=True)
class Snippet:
    """A copyable block of the "how to use this version" panel."""

    title: str
    language: str
    text: str
    note: str = ""


@dataclass(frozen=True)
class VersionPage:
    name: str
    version: int
    uri: str
    stage: str | None
    aliases: list[str]
    description: str
    created_at: str
    run_id: str
    flavor: str | None
    model_class: str | None
    model_format: str | None
    size: int
    has_preprocessor: bool
    params: dict[str, str]
    metrics: dict[str, Any]
    tags: dict[str, str]
    signature: list[Column] | None
    signature_input_type: str | None
    signature_output: dict[str, str]
    example_columns: list[str]
    example_rows: list[list[str]]
    example_total_rows: int
    environment: list[EnvRow]
    files: list[FileRow]
    source: dict[str, str]
    identifiers: list[Identifier]
    history: list[StageEvent] = field(default_factory=list)
    lineage: list[LineageRow] = field(default_factory=list)
    usage: list[Snippet] = field(default_factory=list)
    #: versions to compare this one with: Production's holder and the previous version
    production: int | None = None
    previous: int | None = None


@dataclass(frozen=True)
class VersionChoice:
    """A version offered by the compare page's picker."""

    version: int
    stage: str | None
    aliases: list[str]


@dataclass(frozen=True)
class ComparePage:
    """Versions side by side.  ``entries`` holds each version's comparable facts (see
    :func:`fsregistry.ui.compare.entry`), for the versions asked for (the live server) or
    for every version (a static export, where the script picks them from the URL)."""

    name: str
    choices: list[VersionChoice]
    entries: list[dict[str, Any]]
    requested: list[int]
    production: int | None


@dataclass(frozen=True)
class SearchPage:
    """Every version of every model, for the search across models."""

    models: list[str]
    #: ``(model, row)`` pairs, newest version of each model first
    rows: list[tuple[str, VersionRow]]
    #: each model's metrics in the order its own table shows them
    metric_names: dict[str, list[str]]
