"""The model browser's page data (fsregistry.ui.pages) and its HTML escaping (render, markup)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ui_demo import (
    CHURN_ACCURACY,
    HOSTILE_COLUMN,
    HOSTILE_IMG,
    HOSTILE_METRIC,
    HOSTILE_SCRIPT,
    HOSTILE_TAG,
    MODEL_DESCRIPTION,
    build_demo_registry,
)

from fsregistry import CustomModelRegistry, ModelNotFoundError
from fsregistry.ui import assets, data, details, pages, render
from fsregistry.ui.charts import metric_chart
from fsregistry.ui.links import Links
from fsregistry.ui.markup import Safe, element, esc, join, size, table, when


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> CustomModelRegistry:
    """Shared, read-only demo registry (tests that change it build their own)."""
    return build_demo_registry(tmp_path_factory.mktemp("ui") / "registry")


# -- page data -----------------------------------------------------------------------------------


def test_models_page_lists_every_model_with_stages_aliases_and_search_text(demo: CustomModelRegistry) -> None:
    page = pages.models_page(demo)
    assert page.root == str(demo.root)
    assert [m.name for m in page.models] == ["churn", "price-forecast"]
    churn = page.models[0]
    assert churn.versions == 3 and churn.latest_version == 3
    assert churn.stages == {"Production": 2, "Staging": 3}
    assert churn.aliases == {"champion": 2, "challenger": 3}
    assert churn.description == MODEL_DESCRIPTION
    assert churn.latest_tags["note"] == HOSTILE_TAG
    # the search text carries the name and every version's tags, lower-cased
    assert "churn" in churn.search_text and "team=growth" in churn.search_text
    assert f"note={HOSTILE_TAG}" in churn.search_text
    newest = max(v["created_at"] for v in demo.list_versions("churn"))
    assert churn.updated_at >= newest  # the promotions came after the last save


def test_model_page_versions_newest_first_and_one_chart_point_per_version(demo: CustomModelRegistry) -> None:
    page = pages.model_page(demo, "churn")
    assert [v.version for v in page.versions] == [3, 2, 1]
    assert [v.stage for v in page.versions] == ["Staging", "Production", "Archived"]
    assert page.versions[1].aliases == ["champion"]
    assert page.versions[0].flavor == "sklearn" and page.versions[0].size > 0
    assert set(page.key_metrics) == {"accuracy", HOSTILE_METRIC}
    accuracy = next(c for c in page.charts if c.name == "accuracy")
    assert accuracy.points == sorted(CHURN_ACCURACY.items())
    assert accuracy.production == 2


def test_model_page_of_a_missing_model_is_not_found(demo: CustomModelRegistry) -> None:
    with pytest.raises(ModelNotFoundError):
        pages.model_page(demo, "no-such-model")


def test_metric_series_skips_values_that_cannot_be_charted() -> None:
    rows = [
        data.VersionRow(
            version=v,
            stage=None,
            aliases=[],
            tags={},
            created_at="",
            flavor=None,
            model_class=None,
            size=0,
            metrics={"m": value},
            description="",
        )
        for v, value in [(1, 0.5), (2, True), (3, float("nan")), (4, "high"), (5, 2)]
    ]
    assert pages.metric_series(rows, "m").points == [(1, 0.5), (5, 2.0)]


def test_version_page_shows_everything_about_a_version(demo: CustomModelRegistry) -> None:
    page = pages.version_page(demo, "churn", 3)
    assert (page.name, page.version, page.stage, page.aliases) == ("churn", 3, "Staging", ["challenger"])
    assert page.tags["note"] == HOSTILE_TAG and page.description == HOSTILE_IMG
    assert page.metrics["accuracy"] == CHURN_ACCURACY[3] and page.params["fold"] == "3"
    assert [c.name for c in page.signature or []] == ["age", "spend"]
    assert page.example_columns == ["age", "spend"] and page.example_total_rows == 3
    assert page.example_rows[0][0].isdigit()  # an integer column stays an integer
    assert [f.status for f in page.files] == ["verified"]
    assert page.files[0].sha256 == demo.get_model_version("churn/3")["files"]["model.bin"]["sha256"]
    assert not any(row.mismatch for row in page.environment)
    assert {"Python", "numpy", "scikit-learn"} <= {row.item for row in page.environment}
    assert [(e.previous, e.stage) for e in page.history] == [(None, "Staging")]


def test_identifiers_are_exactly_those_that_resolve_to_the_version(demo: CustomModelRegistry) -> None:
    run_id = demo.get_model_version("churn/2")["run_id"]
    uris = [i.uri for i in pages.version_page(demo, "churn", 2, verify_files=False).identifiers]
    assert uris == ["models:/churn/2", "models:/churn/Production", "models:/churn@champion", f"runs:/{run_id}/model"]
    newest = [i.uri for i in pages.version_page(demo, "churn", 3, verify_files=False).identifiers]
    assert "models:/churn/latest" in newest and "models:/churn/Staging" in newest
    for uri in uris + newest:
        assert demo.resolve(uri)[0] == "churn"


def test_file_rows_report_a_flipped_byte_and_a_missing_file(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "r")
    registry.save_model({"weights": [1, 2, 3]}, "m", preprocessor_artifact={"scale": 2})
    folder = registry.version_path("m/1")
    data = bytearray((folder / "model.bin").read_bytes())
    data[-1] ^= 0xFF
    (folder / "model.bin").write_bytes(bytes(data))
    (folder / "preprocessor.pkl").unlink()
    rows = {r.name: r for r in pages.version_page(registry, "m", 1).files}
    assert rows["model.bin"].status == "mismatch" and "SHA-256" in rows["model.bin"].detail
    assert rows["preprocessor.pkl"].status == "missing"
    assert {r.status for r in pages.version_page(registry, "m", 1, verify_files=False).files} == {"unchecked"}


def test_file_rows_never_follow_a_recorded_name_out_of_the_version_folder(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("x")

    class Fake:
        root = tmp_path

        def version_path(self, ident: str) -> Path:
            return tmp_path / "m" / "1"

    info = {"name": "m", "version": 1, "files": {"../../secret": {"sha256": "0" * 64, "size": 1}}}
    rows = details.file_rows(Fake(), info, verify=True)  # type: ignore[arg-type]
    assert [(r.name, r.status) for r in rows] == [("../../secret", "refused")]


def test_environment_rows_flag_exactly_the_differences_a_load_warns_about() -> None:
    saved = {"python": "2.7.0", "platform": "elsewhere", "packages": {"numpy": "0.0.1", "pandas": None}}
    rows = {r.item: r for r in details.environment_rows(saved)}
    assert rows["Python"].mismatch and rows["Platform"].mismatch
    assert rows["numpy"].mismatch and rows["numpy"].saved == "0.0.1" and rows["numpy"].now == np.__version__
    assert not rows["pandas"].mismatch  # recorded as absent at save time: not compared
    assert "Machine" not in rows  # not recorded, not shown


def test_stage_events_fall_back_to_the_current_stage_without_history() -> None:
    info = {"version": 4, "stage": "Production", "stage_history": [], "created_at": "2026-01-01T00:00:00+00:00"}
    [event] = pages.stage_events(info)
    assert (event.stage, event.recorded, event.at) == ("Production", False, info["created_at"])
    assert pages.stage_events({"version": 1, "stage": None, "stage_history": []}) == []


def test_history_page_merges_every_versions_transitions_newest_first(demo: CustomModelRegistry) -> None:
    page = pages.history_page(demo, "churn")
    assert [(e.version, e.previous, e.stage) for e in page.events][-1] == (1, None, "Production")
    assert (1, "Production", "Archived") in [(e.version, e.previous, e.stage) for e in page.events]
    assert [e.at for e in page.events] == sorted((e.at for e in page.events), reverse=True)


def test_example_table_reads_frames_and_arrays() -> None:
    columns, rows, total = details.example_table(pd.DataFrame({"a": [1, 2], "b": ["x", None]}))
    assert (columns, rows, total) == (["a", "b"], [["1", "x"], ["2", ""]], 2)
    columns, rows, total = details.example_table(np.arange(6).reshape(3, 2))
    assert (columns, rows[0], total) == (["0", "1"], ["0", "1"], 3)
    assert details.example_table(None) == ([], [], 0)


# -- escaping ------------------------------------------------------------------------------------


class _Audit(HTMLParser):
    """Collects what a browser would run: script elements and on* handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.urls: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [(tag, name) for name, _ in attrs if name.startswith("on")]
        self.urls += [
            (tag, name, value or "")
            for name, value in attrs
            if name in ("href", "src", "srcset", "action", "formaction", "data", "poster", "xlink:href")
        ]
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def _audit(html: str) -> _Audit:
    audit = _Audit()
    audit.feed(html)
    audit.close()
    return audit


def _all_pages(registry: CustomModelRegistry) -> dict[str, str]:
    root = str(registry.root)
    links = Links()
    out = {"models": render.models_page(pages.models_page(registry), links)}
    for name in ("churn", "price-forecast"):
        out[name] = render.model_page(pages.model_page(registry, name), links, root=root)
        out[f"{name} history"] = render.history_page(pages.history_page(registry, name), links, root=root)
        for v in pages.model_page(registry, name).versions:
            page = pages.version_page(registry, name, v.version)
            out[f"{name}/{v.version}"] = render.version_page(page, links, root=root)
    return out


def test_no_user_written_value_becomes_markup_on_any_page(demo: CustomModelRegistry) -> None:
    for where, html in _all_pages(demo).items():
        audit = _audit(html)
        assert audit.scripts == [assets.SCRIPT], where  # only the page's own script
        assert audit.handlers == [], where
        for hostile in (HOSTILE_TAG, HOSTILE_SCRIPT, HOSTILE_IMG, HOSTILE_METRIC, HOSTILE_COLUMN):
            assert hostile not in html, (where, hostile)


def test_hostile_values_are_shown_as_text(demo: CustomModelRegistry) -> None:
    html = _all_pages(demo)
    text = {where: "".join(_audit(page).text) for where, page in html.items()}
    assert HOSTILE_TAG in text["churn/3"] and HOSTILE_IMG in text["churn/3"]
    assert f"note={HOSTILE_TAG}" in text["models"] and MODEL_DESCRIPTION in text["models"]
    assert HOSTILE_METRIC in text["churn"]
    assert HOSTILE_COLUMN in text["price-forecast/1"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html["churn/3"]


def test_every_page_loads_nothing_from_anywhere(demo: CustomModelRegistry) -> None:
    for where, html in _all_pages(demo).items():
        audit = _audit(html)
        assert not [a for a in audit.urls if a[1] != "href"], where  # no src=, action=, ...
        for tag, _, url in audit.urls:
            assert url == "data:," if tag == "link" else url.startswith("/") and not url.startswith("//"), url
        assert assets.CONTENT_SECURITY_POLICY.replace("'", "&#x27;") in html, where


def test_markup_helpers_escape_everything_but_safe_markup() -> None:
    assert esc('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert esc(Safe("<b>ok</b>")) == "<b>ok</b>"
    assert esc(None) == ""
    assert (
        element("span", "<i>", title='"q"', data_x=1, hidden=True, class_=None)
        == '<span title="&quot;q&quot;" data-x="1" hidden>&lt;i&gt;</span>'
    )
    assert join(["<", Safe("<br>")]) == "&lt;<br>"
    cells = table(["<h>"], [["<c>"]])
    assert "&lt;h&gt;" in cells and "&lt;c&gt;" in cells and "<c>" not in cells
    assert "Nothing recorded." in table(["a"], [])


def test_small_formatters() -> None:
    assert size(None) == "—" and size(512) == "512 B" and size(1536) == "1.5 KiB" and size(3 * 1024**3) == "3.0 GiB"
    assert ">2026-01-02 03:04:05 UTC<" in when("2026-01-02T03:04:05.123+00:00")
    assert when("not a time").endswith(">not a time</time>")


def test_chart_has_one_point_per_version_and_marks_production() -> None:
    series = data.MetricSeries("<m>", [(1, 0.5), (2, 0.7), (5, 0.6)], production=2)
    svg = metric_chart(series)
    assert svg.count("<circle") == 3
    assert 'data-version="2"' in svg and svg.count("point production") == 1
    assert "<m>" not in svg and "&lt;m&gt;" in svg
    flat = metric_chart(data.MetricSeries("flat", [(1, 1.0)]))
    assert flat.count("<circle") == 1 and "nan" not in flat
    assert metric_chart(data.MetricSeries("none", [])) == ""


def test_page_data_is_json_friendly(demo: CustomModelRegistry) -> None:
    """Page data is plain values (a later JSON endpoint or CLI output can reuse it)."""
    from dataclasses import asdict

    page: Any = pages.version_page(demo, "churn", 2)
    json.dumps(asdict(page))
    json.dumps(asdict(pages.models_page(demo)))
