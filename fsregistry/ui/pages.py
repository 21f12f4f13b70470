"""What each page of the model browser shows, as plain data built from the registry API.

These functions read the registry on every call (the live server may cache what they
return, keyed by the model's summary; see :mod:`.cache`), so a page reflects what other
processes have written since the last request.  They return frozen dataclasses and never
produce HTML: rendering and escaping are :mod:`fsregistry.ui.render`'s job, which keeps
both halves small and unit-testable.

Only the public registry API is used (``list_models``, ``list_versions``, ``get_model``,
``get_model_version``, ``version_path``, ``resolve``); any object with those methods works.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import compare, lineage, usage
from .data import (
    Column,
    ComparePage,
    HistoryPage,
    MetricSeries,
    ModelPage,
    ModelRow,
    ModelsPage,
    RegistryReader,
    SearchPage,
    StageEvent,
    VersionChoice,
    VersionPage,
    VersionRow,
)
from .details import display, environment_rows, example_table, file_rows, identifiers, int_dict, str_dict
from .metrics import DEFAULT_COLUMNS, is_number, numeric_metric_counts, rank_metrics

__all__ = [
    "compare_page",
    "history_page",
    "is_number",
    "metric_series",
    "model_page",
    "models_page",
    "search_page",
    "stage_events",
    "version_page",
]

#: at most this many metric columns shown by default (all are one click away)
MAX_KEY_METRICS = DEFAULT_COLUMNS
#: version descriptions matched by the models list's search, per model
MAX_DESCRIPTION_TEXT = 4000


# -- models list -------------------------------------------------------------------------------


def models_page(registry: RegistryReader, *, show_paths: bool = True) -> ModelsPage:
    """Every model with at least one version, sorted by name.  ``show_paths=False`` leaves
    the registry's location out (a static export sent elsewhere)."""
    rows = [_model_row(registry, summary) for summary in registry.list_models()]
    root = str(registry.root) if show_paths else ""
    return ModelsPage(root=root, models=sorted(rows, key=lambda r: r.name.lower()))


def _model_row(registry: RegistryReader, summary: dict[str, Any]) -> ModelRow:
    name = str(summary["name"])
    versions = registry.list_versions(name)
    tags = str_dict(summary.get("tags"))
    stages, aliases = int_dict(summary.get("stages")), int_dict(summary.get("aliases"))
    description = str(summary.get("description") or "")
    return ModelRow(
        name=name,
        description=description,
        versions=int(summary.get("versions") or len(versions)),
        latest_version=summary.get("latest_version"),
        stages=stages,
        aliases=aliases,
        tags=tags,
        latest_tags=str_dict(max(versions, key=lambda e: int(e["version"])).get("tags")) if versions else {},
        updated_at=str(summary.get("updated_at") or summary.get("created_at") or ""),
        search_text=_model_search_text(name, description, tags, stages, aliases, versions),
        metric_ranges=_metric_ranges(versions),
    )


def _model_search_text(
    name: str,
    description: str,
    tags: dict[str, str],
    stages: dict[str, int],
    aliases: dict[str, int],
    versions: list[dict[str, Any]],
) -> str:
    terms = [name, description, *_tag_terms(tags)]
    terms += [f"stage={stage}" for stage in stages] + [f"@{alias}" for alias in aliases]
    descriptions: list[str] = []
    for entry in versions:
        terms.extend(_tag_terms(str_dict(entry.get("tags"))))
        if entry.get("flavor"):
            terms.append(f"flavor={entry['flavor']}")
        if entry.get("model_class"):
            terms.append(str(entry["model_class"]).rsplit(".", 1)[-1])
        descriptions.append(str(entry.get("description") or ""))
    text = " ".join(dict.fromkeys(d for d in descriptions if d))[:MAX_DESCRIPTION_TEXT]
    return " ".join(dict.fromkeys(t.lower() for t in [*terms, text] if t))


def _tag_terms(tags: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in tags.items()]


def _metric_ranges(versions: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    ranges: dict[str, tuple[float, float]] = {}
    for entry in versions:
        for metric, value in (entry.get("metrics") or {}).items():
            if is_number(value):
                low, high = ranges.get(str(metric), (value, value))
                ranges[str(metric)] = (min(low, value), max(high, value))
    return ranges


# -- one model ---------------------------------------------------------------------------------


def model_page(registry: RegistryReader, name: str, summary: dict[str, Any] | None = None) -> ModelPage:
    """One model: its versions newest first, its metrics ranked, a chart series per
    numeric metric.  ``summary`` is ``get_model(name)`` if the caller already read it (it
    must be read before the versions: the server caches pages by it)."""
    summary = registry.get_model(name) if summary is None else summary
    rows = [version_row(entry) for entry in registry.list_versions(name)]
    rows.sort(key=lambda r: r.version, reverse=True)
    stages = int_dict(summary.get("stages"))
    metric_names = rank_metrics(numeric_metric_counts(r.metrics for r in rows))
    return ModelPage(
        name=str(summary["name"]),
        description=str(summary.get("description") or ""),
        tags=str_dict(summary.get("tags")),
        created_at=str(summary.get("created_at") or ""),
        stages=stages,
        aliases=int_dict(summary.get("aliases")),
        versions=rows,
        key_metrics=metric_names[:MAX_KEY_METRICS],
        charts=[metric_series(rows, metric, stages.get("Production")) for metric in metric_names],
        metric_names=metric_names,
    )


def version_row(entry: dict[str, Any]) -> VersionRow:
    """A ``list_versions`` entry as a row of a versions table."""
    return VersionRow(
        version=int(entry["version"]),
        stage=entry.get("stage"),
        aliases=sorted(entry.get("aliases") or []),
        tags=str_dict(entry.get("tags")),
        created_at=str(entry.get("created_at") or ""),
        flavor=entry.get("flavor"),
        model_class=entry.get("model_class"),
        size=int(entry.get("size") or 0),
        metrics=dict(entry.get("metrics") or {}),
        description=str(entry.get("description") or ""),
    )


def metric_series(rows: Iterable[VersionRow], metric: str, production: int | None = None) -> MetricSeries:
    """One point per version that recorded ``metric`` as a number, oldest version first."""
    points = sorted((r.version, float(r.metrics[metric])) for r in rows if is_number(r.metrics.get(metric)))
    return MetricSeries(name=metric, points=points, production=production)


# -- stage history -----------------------------------------------------------------------------


def history_page(registry: RegistryReader, name: str, *, show_paths: bool = True) -> HistoryPage:
    """Every stage transition of every version of a model, newest first; ``show_paths=False``
    names who made each change without the host (a static export sent elsewhere)."""
    summary = registry.get_model(name)
    events: list[StageEvent] = []
    for entry in registry.list_versions(name):
        try:
            info = registry.get_model_version(f"{name}/{int(entry['version'])}")
        except LookupError:  # deleted since the listing was read
            continue
        events.extend(stage_events(info, show_hosts=show_paths))
    events.sort(key=lambda e: (e.at, e.version), reverse=True)
    return HistoryPage(name=str(summary["name"]), events=events, stages=int_dict(summary.get("stages")))


def stage_events(info: dict[str, Any], *, show_hosts: bool = True) -> list[StageEvent]:
    """A version's transitions, oldest first; without a recorded history, its current
    stage (if any) as one unrecorded event dated at the version's creation.  Who made each
    change is ``user@host``, or the user alone without ``show_hosts``."""
    version = int(info["version"])
    history = [e for e in info.get("stage_history") or [] if isinstance(e, dict)]
    if history:
        return [
            StageEvent(
                version, e.get("stage"), e.get("from"), str(e.get("at") or ""), by=_actor(e.get("by"), show_hosts)
            )
            for e in history
        ]
    if info.get("stage"):
        return [StageEvent(version, info.get("stage"), None, str(info.get("created_at") or ""), recorded=False)]
    return []


# -- one version -------------------------------------------------------------------------------


def version_page(
    registry: RegistryReader,
    name: str,
    version: int,
    *,
    verify_files: bool = True,
    show_paths: bool = True,
    summary: dict[str, Any] | None = None,
    numbers: Iterable[int] | None = None,
) -> VersionPage:
    """Everything known about one version.  ``verify_files`` re-hashes the stored files
    (the same check a load does) so the page can say whether they are intact now;
    ``show_paths=False`` withholds the registry's location and the host and folders an
    imported version came from (a static export sent elsewhere).  ``summary``
    (``get_model``) and ``numbers`` (the model's version numbers) may be passed by a caller
    that has them already, such as the export, which writes every version's page."""
    info = registry.get_model_version(f"{name}/{int(version)}")
    summary = registry.get_model(name) if summary is None else summary
    if numbers is None:
        numbers = [int(e["version"]) for e in registry.list_versions(name)]
    metadata = info.get("metadata") or {}
    columns, rows, total = example_table(info.get("input_example"))
    signature = info.get("signature")
    environment = info.get("environment") or {}
    root = str(registry.root) if show_paths else None
    return VersionPage(
        name=str(info["name"]),
        version=int(info["version"]),
        uri=str(info.get("uri") or f"models:/{name}/{version}"),
        stage=info.get("stage"),
        aliases=sorted(info.get("aliases") or []),
        description=str(info.get("description") or ""),
        created_at=str(info.get("created_at") or ""),
        run_id=str(info.get("run_id") or ""),
        flavor=info.get("flavor"),
        model_class=info.get("model_class"),
        model_format=info.get("model_format"),
        size=int(info.get("size") or 0),
        has_preprocessor=bool(info.get("has_preprocessor")),
        params={k: display(v) for k, v in (metadata.get("params") or {}).items()},
        metrics=dict(metadata.get("metrics") or {}),
        tags=str_dict(metadata.get("tags")),
        signature=_columns(signature),
        signature_input_type=getattr(signature, "input_type", None),
        signature_output={k: display(v) for k, v in (getattr(signature, "output", None) or {}).items()},
        example_columns=columns,
        example_rows=rows,
        example_total_rows=total,
        environment=environment_rows(environment),
        files=file_rows(registry, info, verify=verify_files),
        source={k: display(v) for k, v in (info.get("source") or {}).items()},
        identifiers=identifiers(registry, info),
        history=stage_events(info, show_hosts=show_paths),
        lineage=lineage.rows(info, show_paths=show_paths),
        usage=usage.snippets(info, root=root),
        production=int_dict(summary.get("stages")).get("Production"),
        previous=max((v for v in numbers if v < int(info["version"])), default=None),
    )


def _columns(signature: Any) -> list[Column] | None:
    if signature is None:
        return None
    return [Column(str(c.name), str(c.dtype), str(c.kind)) for c in getattr(signature, "inputs", ())]


# -- comparing versions ------------------------------------------------------------------------


def compare_page(registry: RegistryReader, name: str, versions: Iterable[int] | None = None) -> ComparePage:
    """Versions of one model side by side: the facts of each of ``versions`` (the live
    server, which reads only those), or of every version when ``versions`` is ``None`` (a
    static export, whose page picks them from its URL).  A version that does not exist is
    left out; the page says so."""
    summary = registry.get_model(name)
    listing = [version_row(e) for e in registry.list_versions(name)]
    listing.sort(key=lambda r: r.version, reverse=True)
    existing = {r.version for r in listing}
    requested = list(dict.fromkeys(int(v) for v in versions)) if versions is not None else []
    wanted = [v for v in requested if v in existing] if versions is not None else sorted(existing, reverse=True)
    entries = []
    for number in wanted[: compare.MAX_VERSIONS] if versions is not None else wanted:
        try:
            entries.append(compare.entry(registry.get_model_version(f"{name}/{number}")))
        except LookupError:  # deleted since the listing was read
            continue
    return ComparePage(
        name=str(summary["name"]),
        choices=[VersionChoice(r.version, r.stage, r.aliases) for r in listing],
        entries=entries,
        requested=requested,
        production=int_dict(summary.get("stages")).get("Production"),
    )


# -- search across models ----------------------------------------------------------------------


def search_page(registry: RegistryReader) -> SearchPage:
    """Every version of every model, for the search page (its script filters them)."""
    names: list[str] = []
    rows: list[tuple[str, VersionRow]] = []
    metric_names: dict[str, list[str]] = {}
    for summary in sorted(registry.list_models(), key=lambda s: str(s["name"]).lower()):
        name = str(summary["name"])
        try:
            versions = [version_row(e) for e in registry.list_versions(name)]
        except LookupError:  # deleted since the listing was read
            continue
        names.append(name)
        versions.sort(key=lambda r: r.version, reverse=True)
        rows += [(name, r) for r in versions]
        metric_names[name] = rank_metrics(numeric_metric_counts(r.metrics for r in versions))
    return SearchPage(models=names, rows=rows, metric_names=metric_names)


def _actor(by: Any, show_host: bool = True) -> str:
    """``user@host`` of a recorded change (the user alone without ``show_host``), or
    nothing when it was not recorded."""
    if not isinstance(by, dict):
        return ""
    user, host = str(by.get("user") or "?"), by.get("host")
    return f"{user}@{host}" if host and show_host else user
