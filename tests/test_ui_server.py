"""The model browser's HTTP server (routing, read-only, 404s, live changes) and its static
export, without a browser; tests/test_ui_browser.py drives both in Chromium."""

from __future__ import annotations

import http.client
import json
import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from ui_demo import HOSTILE_TAG, build_demo_registry, running

from fsregistry import CustomModelRegistry
from fsregistry.errors import OutputExistsError, UnsafeHostError
from fsregistry.ui import SITE_MARKER, UIServer, export_site, make_server
from fsregistry.ui.server import Route, host_name, is_loopback, route


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> CustomModelRegistry:
    return build_demo_registry(tmp_path_factory.mktemp("ui-server") / "registry")


def fetch(server: UIServer, path: str, method: str = "GET", host: str | None = None) -> tuple[int, dict[str, str], str]:
    """One request straight to the server (http.client: no proxy is ever consulted)."""
    address, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(address), port, timeout=10)
    try:
        headers = {"Host": host} if host else {}
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


# -- routing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", Route("models")),
        ("/index.html?q=x", Route("models")),
        ("/models/churn", Route("model", "churn")),
        ("/models/churn/", Route("model", "churn")),
        ("/models/churn/index.html", Route("model", "churn")),
        ("/models/churn/history", Route("history", "churn")),
        ("/models/churn/versions/3", Route("version", "churn", 3)),
        ("/models/churn/versions/3.html", Route("version", "churn", 3)),
        ("/search", Route("search")),
        ("/search.html?q=auc%3E0.8", Route("search")),
        ("/models/churn/compare", Route("compare", "churn")),
        ("/models/churn/compare?v=3&v=2", Route("compare", "churn", versions=(3, 2))),
        ("/models/churn/compare.html?v=x&v=2&v=02&v=2&v=-1", Route("compare", "churn", versions=(2,))),
    ],
)
def test_route_accepts_the_pages_of_the_site(path: str, expected: Route) -> None:
    assert route(path) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "/models",
        "/models/../x",
        "/models/%2e%2e/versions/1",
        "/models/a%2Fb",
        "/models/.lock",
        "/models/churn/versions/0",
        "/models/churn/versions/01",
        "/models/churn/versions/-1",
        "/models/churn/versions/1/meta.json",
        "/models/churn/1",
        "/models/churn/model.bin",
        "//models/churn",
        "/models/con",
        "/models/churn/versions/" + "9" * 40,
        "/models/churn/compare/x",
        "/search/x",
        "/models/../search",
    ],
)
def test_route_refuses_anything_else(path: str) -> None:
    assert route(path) is None


def test_loopback_checks() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.1.2.3") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("192.168.1.4")
    assert not is_loopback("evil.example")
    assert host_name("127.0.0.1:8000") == "127.0.0.1" and host_name("[::1]:80") == "::1"
    assert not is_loopback(host_name("evil.example@127.0.0.1"))
    for malformed in ("127.0.0.1:80@evil.example", "[::1", "::1", "127.0.0.1:80:80", "localhost/x"):
        assert not is_loopback(host_name(malformed)), malformed


def test_a_non_loopback_address_is_refused_unless_allowed(demo: CustomModelRegistry) -> None:
    for host in ("0.0.0.0", "", "192.0.2.1"):
        with pytest.raises(UnsafeHostError, match="allow_remote"):
            make_server(demo, host, 0)


# -- the live server -----------------------------------------------------------------------------


def test_serves_every_kind_of_page(demo: CustomModelRegistry, capsys: pytest.CaptureFixture[str]) -> None:
    with running(demo) as server:
        assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith(":0/")
        for path, needle in [
            ("/", "price-forecast"),
            ("/models/churn/", "Metrics across versions"),
            ("/models/churn/history", "stage history"),
            ("/models/churn/versions/2", "@champion"),
            ("/models/churn/compare?v=2&v=3", "compare versions"),
            ("/search", "Search versions"),
        ]:
            status, headers, body = fetch(server, path)
            assert status == 200, path
            assert needle in body, path
            assert headers["Content-Type"] == "text/html; charset=utf-8"
            assert "default-src 'none'" in headers["Content-Security-Policy"]
            assert headers["Cache-Control"] == "no-store"
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fetch(server, "/models/churn/versions/3")[2]
        assert HOSTILE_TAG not in fetch(server, "/models/churn/versions/3")[2]
    assert server.url in capsys.readouterr().out  # the URL is printed


def test_anything_outside_the_registry_is_404(demo: CustomModelRegistry) -> None:
    with running(demo) as server:
        for path in (
            "/nope",
            "/models/../../etc/passwd",
            "/models/ghost/",
            "/models/churn/versions/99",
            "/models/churn/versions/1/model.bin",
            "/models/churn/history/x",
            "/.fsregistry.json",
        ):
            status, _, body = fetch(server, path)
            assert status == 404, path
            assert "404" in body


def test_read_only_methods_and_head(demo: CustomModelRegistry) -> None:
    with running(demo) as server:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            status, headers, _ = fetch(server, "/", method)
            assert status == 405 and headers["Allow"] == "GET, HEAD"
        status, headers, body = fetch(server, "/models/churn/", "HEAD")
        assert status == 200 and body == "" and int(headers["Content-Length"]) > 1000


def test_a_foreign_host_header_is_refused(demo: CustomModelRegistry) -> None:
    with running(demo) as server:
        assert fetch(server, "/", host="attacker.example")[0] == 400
        assert fetch(server, "/", host="localhost:1234")[0] == 200
        two_hosts = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        assert raw_request(server, two_hosts)[0] == 400


def raw_request(server: UIServer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Bytes that http.client would not send; the status and headers of the reply."""
    address, port = server.server_address[:2]
    with socket.create_connection((str(address), port), timeout=10) as conn:
        conn.sendall(request)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines if ": " in line)
    return int(status_line.split()[1]), headers, body


def test_the_standard_librarys_refusals_are_pages_of_the_site(demo: CustomModelRegistry) -> None:
    """A method no handler defines is a 405 like the others; a request line or headers too
    long carry the site's security headers as every page does."""
    with running(demo) as server:
        for method in (b"PROPFIND", b"get", b"FOO"):
            status, headers, _ = raw_request(server, method + b" / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert status == 405 and headers["Allow"] == "GET, HEAD", method
            assert "Content-Security-Policy" in headers and headers["X-Frame-Options"] == "DENY"
        status, headers, _ = raw_request(server, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
        assert status == 414 and "Content-Security-Policy" in headers


def test_a_query_with_many_fields_is_a_page_not_a_dropped_connection(demo: CustomModelRegistry) -> None:
    with running(demo) as server:
        status, _, body = fetch(server, "/models/churn/compare?" + "&".join(["v=2"] * 200 + ["v=3"]))
        assert status == 200  # the first fields are read, the rest ignored
        data = json.loads(body.split('id="page-data">', 1)[1].split("</script>", 1)[0])
        assert [e["version"] for e in data["entries"]] == [2]
        assert fetch(server, "/?" + "&".join(f"x{i}=1" for i in range(100)))[0] == 200


def test_changes_by_others_show_without_a_restart(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "r")
    registry.save_model({"w": 1}, "live", metrics={"loss": 0.5})
    with running(registry) as server:
        assert '"production":null' in fetch(server, "/models/live/")[2]
        other = CustomModelRegistry(tmp_path / "r")  # another writer, as another process would be
        other.save_model({"w": 2}, "live", metrics={"loss": 0.4})
        other.transition_model_stage("live/2", "Production")
        other.save_model({"w": 3}, "fresh")
        body = fetch(server, "/models/live/")[2]
        assert '"production":2' in body and body.count("<circle") == 2
        assert re.search(r'<circle class="point production"[^>]*data-version="2"', body)
        assert "fresh" in fetch(server, "/")[2]
        other.delete_model("fresh")
        assert fetch(server, "/models/fresh/")[0] == 404


def test_kept_pages_follow_every_kind_of_change_by_others(tmp_path: Path) -> None:
    """The server keeps a model's listing and page while its summary is unchanged: each
    change another process makes must still show on the next reload, on every page that
    shows it (the model page, the models list, the search across models)."""
    registry = CustomModelRegistry(tmp_path / "r")
    for i in range(3):
        registry.save_model({"w": i}, "live", metrics={"loss": 0.5 - i / 10}, tags={"run": f"r{i}"})
    other = CustomModelRegistry(tmp_path / "r")  # another writer, as another process would be
    model, home, search = "/models/live/", "/", "/search"
    changes: list[tuple[Callable[[], object], dict[str, str]]] = [
        (lambda: other.set_tag("live/2", "reviewed", "yes-by-alice"), dict.fromkeys((model, search), "yes-by-alice")),
        (lambda: other.set_description("live/1", "first-notes"), dict.fromkeys((model, home, search), "first-notes")),
        (lambda: other.set_alias("live", "shadow-pick", 3), dict.fromkeys((model, home, search), "shadow-pick")),
        (
            lambda: other.transition_model_stage("live/2", "Staging"),
            {model: '"Staging"', search: '"Staging"', home: "stage=staging"},
        ),
        (lambda: other.set_tag("live", "owner", "team-blue"), dict.fromkeys((model, home), "team-blue")),
        (lambda: other.save_model({"w": 9}, "live", metrics={"loss": 0.123}), dict.fromkeys((model, search), "0.123")),
    ]
    with running(registry) as server:
        for change, needles in changes:
            for path, needle in needles.items():
                assert needle not in fetch(server, path)[2], (needle, path)
            change()
            for path, needle in needles.items():
                assert needle in fetch(server, path)[2], (needle, path)
        assert server.cache.hits > 0  # unchanged listings were served from what was kept
        other.delete_model("live/1", force=True)
        body = fetch(server, model)[2]
        assert '"rows":[[4,' in body and "first-notes" not in body


def test_compare_page_carries_only_the_versions_asked_for(demo: CustomModelRegistry) -> None:
    with running(demo) as server:
        status, _, body = fetch(server, "/models/churn/compare?v=2&v=3&v=99&v=junk")
        assert status == 200
        data = json.loads(body.split('id="page-data">', 1)[1].split("</script>", 1)[0])
        assert [e["version"] for e in data["entries"]] == [2, 3]
        assert [v[0] for v in data["versions"]] == [3, 2, 1]
        assert fetch(server, "/models/ghost/compare?v=1")[0] == 404


def test_a_corrupt_version_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "r")
    registry.save_model({"w": 1}, "m")
    (registry.version_path("m/1") / "meta.json").write_text("{not json")
    with running(registry) as server:
        status, _, body = fetch(server, "/models/m/versions/1")
        assert status == 500 and "meta.json" in body
        assert fetch(server, "/")[0] in (200, 500)  # the listing is read from the index


# -- static export -------------------------------------------------------------------------------


def test_export_writes_every_page_with_relative_links(demo: CustomModelRegistry, tmp_path: Path) -> None:
    site = export_site(demo, tmp_path / "site")
    assert site == (tmp_path / "site").absolute()
    written = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert written == sorted(
        [
            SITE_MARKER,
            "index.html",
            "search.html",
            "models/churn/index.html",
            "models/churn/history.html",
            "models/churn/compare.html",
            *(f"models/churn/versions/{v}.html" for v in (1, 2, 3)),
            "models/price-forecast/index.html",
            "models/price-forecast/history.html",
            "models/price-forecast/compare.html",
            *(f"models/price-forecast/versions/{v}.html" for v in (1, 2)),
        ]
    )
    for page in site.rglob("*.html"):
        html = page.read_text()
        for link in re.findall(r'href="([^"]*)"', html):
            if link == "data:,":
                continue
            assert not link.startswith(("/", "http")), (page, link)
            target = link.split("?", 1)[0]  # compare links carry ?v=...
            assert (page.parent / target).resolve().is_file(), (page, link)  # every link lands on a page
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no staging folder left behind


def test_export_leaves_out_where_the_registry_is_unless_asked(demo: CustomModelRegistry, tmp_path: Path) -> None:
    site = export_site(demo, tmp_path / "site")
    root = str(demo.root)
    for page in site.rglob("*"):
        if page.is_file():
            assert root not in page.read_text(), page
    assert "registry" not in json.loads((site / SITE_MARKER).read_text())
    shown = export_site(demo, tmp_path / "shown", include_paths=True)
    assert root in (shown / "index.html").read_text() and root in (shown / "models/churn/versions/3.html").read_text()
    assert json.loads((shown / SITE_MARKER).read_text())["registry"] == root


def test_export_replaces_an_earlier_export_but_never_a_foreign_folder(
    demo: CustomModelRegistry, tmp_path: Path
) -> None:
    site = export_site(demo, tmp_path / "site")
    (site / "stale.html").write_text("old")
    export_site(demo, site)
    assert not (site / "stale.html").exists() and (site / "index.html").is_file()

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(OutputExistsError, match="not empty"):
        export_site(demo, foreign)
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]

    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputExistsError, match="not a folder"):
        export_site(demo, tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (export_site(demo, empty) / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "file", "mine", "site"]


def test_an_export_replaces_only_a_real_earlier_export(demo: CustomModelRegistry, tmp_path: Path) -> None:
    """A marker that is a link, or a file of that name that an export did not write, does
    not make a folder an earlier export; a target that is a link is refused; ``..`` in the
    target makes no folder on the way."""
    site = export_site(demo, tmp_path / "site")
    for marker in ("link", "empty", "other"):
        folder = tmp_path / f"user-{marker}"
        folder.mkdir()
        (folder / "precious.txt").write_text("mine")
        if marker == "link":
            (folder / SITE_MARKER).symlink_to(site / SITE_MARKER)
        else:
            (folder / SITE_MARKER).write_text("" if marker == "empty" else '{"kind": "something-else"}')
        with pytest.raises(OutputExistsError, match="not an earlier export"):
            export_site(demo, folder)
        assert (folder / "precious.txt").read_text() == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "link").symlink_to(empty, target_is_directory=True)
    with pytest.raises(OutputExistsError, match="symbolic link"):
        export_site(demo, tmp_path / "link")
    assert (tmp_path / "link").is_symlink() and list(empty.iterdir()) == []
    site3 = export_site(demo, tmp_path / "missing" / ".." / "site3")
    assert site3 == tmp_path / "site3" and (site3 / "index.html").is_file()
    assert not (tmp_path / "missing").exists()


def test_an_export_names_who_changed_a_stage_without_the_host(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "r")
    registry.save_model({"w": 1}, "m", stage="Production")
    host = registry.get_model_version("m/1")["stage_history"][-1]["by"]["host"]
    assert host
    site = export_site(registry, tmp_path / "site")
    for page in ("models/m/history.html", "models/m/versions/1.html"):
        assert f"@{host}" not in (site / page).read_text(), page
    shown = export_site(registry, tmp_path / "shown", include_paths=True)
    assert f"@{host}" in (shown / "models/m/history.html").read_text()
