"""Metrics in the model browser: which to show first, and how a value is written.

Two problems this module exists for (issue 14): metric columns came in alphabetical order,
so ``epoch`` was shown and ``val_roc_auc`` was cut off; and values were printed unrounded
in some places (``0.7762597335312292``) and rounded in others.  Every page, chart label and
table cell now writes a metric through :func:`metric_text` (the script does the same in
``fmt``), and every list of metric columns is ordered by :func:`rank_metrics`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

#: significant digits of a metric on a page (the exact value is in the cell's title)
DIGITS = 4
#: metric columns shown by default in a versions table (the rest are one click away)
DEFAULT_COLUMNS = 6

#: held-out quality: what a reader compares versions by
_HELD_OUT = re.compile(r"(^|[_./-])(val|valid|validation|test|holdout|eval|oof|cv)([_./-]|$)", re.IGNORECASE)
_QUALITY = re.compile(
    r"auc|roc|acc|f1|precision|recall|rmse|mse|mae|mape|smape|r2|logloss|loss|ndcg|map@|brier|gini|"
    r"error|score|iou|bleu|rouge|perplexity|kappa|mcc|corr",
    re.IGNORECASE,
)
#: bookkeeping: useful, but not what versions are compared by
_COUNTER = re.compile(
    r"(^|[_./-])(epoch|epochs|step|steps|iter|iters|iteration|iterations|n|num|count|time|seconds|secs|sec|"
    r"duration|lr|learning_rate|batch|batch_size|samples|rows|memory|mem|trees|rounds|seed)([_./-]|$)",
    re.IGNORECASE,
)


def is_number(value: Any) -> TypeGuard[float]:
    """A finite real number that can be charted and sorted (booleans are not numbers here)."""
    kind = type(value)  # the common cases first: this runs for every metric of every version
    if kind is float:
        return math.isfinite(value)
    if kind is int:
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def metric_kind(name: str) -> int:
    """0 for held-out quality (``val_roc_auc``), 1 for other quality (``loss``), 2 for
    anything else, 3 for bookkeeping (``epoch``, ``n_rows``, ``lr``)."""
    if _COUNTER.search(name) and not _QUALITY.search(name):
        return 3
    if _QUALITY.search(name):
        return 0 if _HELD_OUT.search(name) else 1
    return 2


def rank_metrics(counts: Mapping[str, int]) -> list[str]:
    """Metric names in the order a reader wants them: those most versions recorded first
    (at least half as many as the most recorded one), then held-out quality before other
    quality before the rest before bookkeeping, then by name."""
    most = max(counts.values(), default=0)
    return sorted(counts, key=lambda m: (2 * counts[m] < most, metric_kind(m), -counts[m], m.lower(), m))


def numeric_metric_counts(metric_dicts: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many of the given versions recorded each metric as a number."""
    counts: dict[str, int] = {}
    for metrics in metric_dicts:
        for name, value in metrics.items():
            if is_number(value):
                counts[str(name)] = counts.get(str(name), 0) + 1
    return counts


def metric_text(value: Any) -> str:
    """A metric as shown everywhere: whole numbers whole (``1999``, also ``1999.0``, which
    the page's data cannot tell apart), other floats to four significant digits without an
    exponent between 1e-4 and 1e15 (``0.7763``, ``12350``), anything else as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    magnitude = math.floor(math.log10(abs(value)))
    if not -4 <= magnitude < 15:
        return f"{value:.{DIGITS - 1}e}"
    decimals = max(0, DIGITS - 1 - magnitude)
    text = f"{round(value, DIGITS - 1 - magnitude):.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def compact(value: float) -> float | int:
    """A value as stored in a page's data: five significant digits (enough to sort and to
    print four), which keeps a 2,000-version table small."""
    return value if type(value) is int else float(f"{value:.5g}")
