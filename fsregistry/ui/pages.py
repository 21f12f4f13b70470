"""What each page of the model browser shows, as plain data built from the registry API.

These functions read the registry afresh on every call (nothing is cached), so a page
always reflects what other processes have written since the last request.  They return
frozen dataclasses and never produce HTML: rendering and escaping are
:mod:`fsregistry.ui.render`'s job, which keeps both halves small and unit-testable.

Only the public registry API is used (``list_models``, ``list_versions``, ``get_model``,
``get_model_version``, ``version_path``, ``resolve``); any object with those methods works.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .data import (
    Column,
    HistoryPage,
    MetricSeries,
    ModelPage,
    ModelRow,
    ModelsPage,
    RegistryReader,
    StageEvent,
    VersionPage,
    VersionRow,
)
from .details import display, environment_rows, example_table, file_rows, identifiers, int_dict, str_dict

#: at most this many metric columns in a model's versions table (all are on the version page)
MAX_KEY_METRICS = 6


# -- builders ----------------------------------------------------------------------------------


def models_page(registry: RegistryReader) -> ModelsPage:
    """Every model with at least one version, sorted by name."""
    rows = [_model_row(registry, summary) for summary in registry.list_models()]
    return ModelsPage(root=str(registry.root), models=sorted(rows, key=lambda r: r.name.lower()))


def _model_row(registry: RegistryReader, summary: dict[str, Any]) -> ModelRow:
    name = str(summary["name"])
    versions = registry.list_versions(name)
    tags = str_dict(summary.get("tags"))
    search = [name.lower(), *_tag_terms(tags)]
    for entry in versions:
        search.extend(_tag_terms(str_dict(entry.get("tags"))))
    return ModelRow(
        name=name,
        description=str(summary.get("description") or ""),
        versions=int(summary.get("versions") or len(versions)),
        latest_version=summary.get("latest_version"),
        stages=int_dict(summary.get("stages")),
        aliases=int_dict(summary.get("aliases")),
        tags=tags,
        latest_tags=str_dict(max(versions, key=lambda e: int(e["version"])).get("tags")) if versions else {},
        updated_at=str(summary.get("updated_at") or summary.get("created_at") or ""),
        search_text=" ".join(dict.fromkeys(search)),
    )


def _tag_terms(tags: dict[str, str]) -> list[str]:
    return [f"{k}={v}".lower() for k, v in tags.items()]


def model_page(registry: RegistryReader, name: str) -> ModelPage:
    """One model: its versions newest first, and a chart series per numeric metric."""
    summary = registry.get_model(name)
    rows = [_version_row(entry) for entry in registry.list_versions(name)]
    rows.sort(key=lambda r: r.version, reverse=True)
    stages = int_dict(summary.get("stages"))
    metric_names = _numeric_metric_names(rows)
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
    )


def _version_row(entry: dict[str, Any]) -> VersionRow:
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


def is_number(value: Any) -> bool:
    """A finite real number that can be charted (booleans are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numeric_metric_names(rows: Iterable[VersionRow]) -> list[str]:
    """Metric names with a numeric value in some version: most widely recorded first."""
    counts: dict[str, int] = {}
    for row in rows:
        for metric, value in row.metrics.items():
            if is_number(value):
                counts[metric] = counts.get(metric, 0) + 1
    return sorted(counts, key=lambda m: (-counts[m], m))


def metric_series(rows: Iterable[VersionRow], metric: str, production: int | None = None) -> MetricSeries:
    """One point per version that recorded ``metric`` as a number, oldest version first."""
    points = sorted((r.version, float(r.metrics[metric])) for r in rows if is_number(r.metrics.get(metric)))
    return MetricSeries(name=metric, points=points, production=production)


def history_page(registry: RegistryReader, name: str) -> HistoryPage:
    """Every stage transition of every version of a model, newest first."""
    summary = registry.get_model(name)
    events: list[StageEvent] = []
    for entry in registry.list_versions(name):
        try:
            info = registry.get_model_version(f"{name}/{int(entry['version'])}")
        except LookupError:  # deleted since the listing was read
            continue
        events.extend(stage_events(info))
    events.sort(key=lambda e: (e.at, e.version), reverse=True)
    return HistoryPage(name=str(summary["name"]), events=events, stages=int_dict(summary.get("stages")))


def stage_events(info: dict[str, Any]) -> list[StageEvent]:
    """A version's transitions, oldest first; without a recorded history, its current
    stage (if any) as one unrecorded event dated at the version's creation."""
    version = int(info["version"])
    history = [e for e in info.get("stage_history") or [] if isinstance(e, dict)]
    if history:
        return [StageEvent(version, e.get("stage"), e.get("from"), str(e.get("at") or "")) for e in history]
    if info.get("stage"):
        return [StageEvent(version, info.get("stage"), None, str(info.get("created_at") or ""), recorded=False)]
    return []


def version_page(registry: RegistryReader, name: str, version: int, *, verify_files: bool = True) -> VersionPage:
    """Everything known about one version.  ``verify_files`` re-hashes the stored files
    (the same check a load does) so the page can say whether they are intact now."""
    info = registry.get_model_version(f"{name}/{int(version)}")
    metadata = info.get("metadata") or {}
    columns, rows, total = example_table(info.get("input_example"))
    signature = info.get("signature")
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
        environment=environment_rows(info.get("environment") or {}),
        files=file_rows(registry, info, verify=verify_files),
        source={k: display(v) for k, v in (info.get("source") or {}).items()},
        identifiers=identifiers(registry, info),
        history=stage_events(info),
    )


def _columns(signature: Any) -> list[Column] | None:
    if signature is None:
        return None
    return [Column(str(c.name), str(c.dtype), str(c.kind)) for c in getattr(signature, "inputs", ())]
