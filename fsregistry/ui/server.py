"""The live model browser: a read-only HTTP server from the standard library.

Why this shape:

* ``http.server.ThreadingHTTPServer`` keeps the core install free of a web framework;
  the pages are small and rendered per request, so it is ample for one user's browser.
* Read-only: GET and HEAD only; every other method is 405.
* Every request reads the registry afresh (the registry caches nothing), so saves,
  promotions and deletes by other processes show on the next reload, without a restart.
* Bound to loopback unless the caller explicitly allows another address.  On loopback,
  a request whose ``Host`` is not a loopback name is refused, so a web page elsewhere
  cannot read the registry through DNS rebinding.
* URL path parts are checked with :mod:`fsregistry.names` before any file is touched;
  anything that is not a page of this registry is a 404.
* A model's version listing and page are kept between requests while the model's summary
  is unchanged (:mod:`.cache`): a 2,000-version model's page is then as quick as a small
  one's, and any change by anyone still shows on the next reload.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

from ..errors import InvalidArgumentError, InvalidNameError, RegistryError, UnsafeHostError
from ..names import validate_model_name
from . import assets, compare, pages, render
from .cache import CachedReader, SummaryCache, token
from .data import RegistryReader
from .links import Links

log = logging.getLogger("fsregistry.ui")

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_VERSION_RE = re.compile(r"[1-9][0-9]{0,17}")
MAX_PORT = 65535
#: query fields of a URL that are read; more are ignored
_MAX_QUERY_FIELDS = 64


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_host_text(host: object) -> bool:
    """Whether ``host`` can be handed to the socket layer at all (a name or an address)."""
    if not isinstance(host, str) or "\x00" in host:
        return False
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


def host_name(header: str) -> str:
    """The host part of a ``Host`` header (``127.0.0.1:8000`` -> ``127.0.0.1``,
    ``[::1]:8000`` -> ``::1``); ``""``, which fails the check, for anything that is not a
    host and an optional port (``127.0.0.1:80@evil.example``, ``[::1``, an unbracketed
    ``::1``)."""
    match = _HOST_HEADER.fullmatch(header.strip())
    if match is None:
        return ""
    return match.group("v6") or match.group("name") or ""


#: ``name[:port]`` or ``[IPv6][:port]``, as RFC 9110 has them in a Host header
_HOST_HEADER = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))(?::[0-9]{1,5})?")


@dataclass(frozen=True)
class Route:
    """A page of the site: ``kind`` is ``models``, ``search``, ``model``, ``history``,
    ``compare`` or ``version``; ``versions`` are the compare page's ``?v=`` numbers."""

    kind: str
    name: str | None = None
    version: int | None = None
    versions: tuple[int, ...] = ()


def route(path: str) -> Route | None:
    """The page a URL path asks for, or ``None`` (a 404).  Names are validated here,
    before anything reads the disk."""
    # split by hand: urlsplit would read "//models/x" as a host name
    bare, _, query = path.split("#", 1)[0].partition("?")
    if not bare.startswith("/"):
        return None
    parts = [unquote(p) for p in bare[1:].removesuffix("/").split("/")]
    if parts in ([""], ["index.html"]):
        return Route("models")
    if parts in (["search"], ["search.html"]):
        return Route("search")
    if "" in parts:  # "//x", "/models//x": not a page
        return None
    if parts[0] != "models" or len(parts) < 2:
        return None
    try:
        name = validate_model_name(parts[1])
    except InvalidNameError:
        return None
    rest = parts[2:]
    if not rest or rest == ["index.html"]:
        return Route("model", name)
    if rest in (["history"], ["history.html"]):
        return Route("history", name)
    if rest in (["compare"], ["compare.html"]):
        return Route("compare", name, versions=_compare_versions(query))
    if len(rest) == 2 and rest[0] == "versions":
        number = rest[1].removesuffix(".html")
        if _VERSION_RE.fullmatch(number):
            return Route("version", name, int(number))
    return None


def _compare_versions(query: str) -> tuple[int, ...]:
    """The well-formed ``v=N`` of a compare URL, first ones first, at most what one
    comparison shows (the page reports the rest)."""
    fields = "&".join(query.split("&")[:_MAX_QUERY_FIELDS])  # the rest is ignored, as malformed v= are
    wanted = [v for v in parse_qs(fields).get("v", []) if _VERSION_RE.fullmatch(v)]
    return tuple(dict.fromkeys(int(v) for v in wanted))[: compare.MAX_VERSIONS]


def render_route(
    registry: RegistryReader,
    where: Route,
    links: Links,
    *,
    verify_files: bool = True,
    cache: SummaryCache | None = None,
) -> str:
    """The HTML of one page (``LookupError`` when the model or version does not exist).
    With ``cache``, model pages are kept while the model's summary is unchanged (and
    ``registry`` should be a :class:`~fsregistry.ui.cache.CachedReader` on the same cache)."""
    root = str(registry.root)
    if where.kind == "models":
        return render.models_page(pages.models_page(registry), links)
    if where.kind == "search":
        return render.search_page(pages.search_page(registry), links, root=root)
    assert where.name is not None
    name = where.name
    if where.kind == "model":
        summary = registry.get_model(name)

        def build() -> str:
            return render.model_page(pages.model_page(registry, name, summary), links, root=root)

        return cache.get_or_build("model-page", name, token(summary), build) if cache is not None else build()
    if where.kind == "history":
        return render.history_page(pages.history_page(registry, name), links, root=root)
    if where.kind == "compare":
        return render.compare_page(pages.compare_page(registry, name, where.versions), links, root=root)
    assert where.version is not None
    page = pages.version_page(registry, name, where.version, verify_files=verify_files)
    return render.version_page(page, links, root=root)


class UIServer(ThreadingHTTPServer):
    """The browser's HTTP server; ``url`` is where it listens (port 0 becomes a real port)."""

    daemon_threads = True

    def __init__(self, registry: RegistryReader, host: str, port: int, *, verify_files: bool = True) -> None:
        self.registry = registry
        self.cache = SummaryCache()
        self.reader = CachedReader(registry, self.cache)
        self.verify_files = verify_files
        self.loopback_only = is_loopback(host)
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host.strip("[]"), port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        text = str(host)
        return f"http://[{text}]:{port}/" if ":" in text else f"http://{text}:{port}/"


def make_server(
    registry: RegistryReader,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    allow_remote: bool = False,
    verify_files: bool = True,
) -> UIServer:
    """Bind the server (without serving yet).  A non-loopback ``host`` is refused with
    :class:`~fsregistry.errors.UnsafeHostError` unless ``allow_remote=True``: the pages
    show everything in the registry, to anyone who can reach the port; a ``port`` outside
    0-65535 is an :class:`~fsregistry.errors.InvalidArgumentError`."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= MAX_PORT:
        raise InvalidArgumentError(f"port must be a whole number from 0 to {MAX_PORT} (0: any free port), not {port!r}")
    if not _is_host_text(host):
        raise InvalidArgumentError(f"{host!r} is not a host name or an IP address")
    if not is_loopback(host) and not allow_remote:
        raise UnsafeHostError(
            f"refusing to serve the registry on {host or 'all interfaces'!r}: anyone who can reach it could "
            "read every model's metadata; use 127.0.0.1, or pass allow_remote=True (--allow-remote) to mean it"
        )
    return UIServer(registry, host, port, verify_files=verify_files)


class _Handler(BaseHTTPRequestHandler):
    server: UIServer
    server_version = "fsregistry-ui"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # headers and body are two writes: with Nagle's algorithm on, a kept-alive connection
    # waits for the client's delayed ACK (40 ms on Linux) before sending a small body
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _refuse_method(self) -> None:
        self.close_connection = True  # a request body may follow that is never read
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "Read-only: only GET and HEAD are allowed.",
            head=False,
            extra={"Allow": "GET, HEAD", "Connection": "close"},
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse_method

    def _respond(self, *, head: bool) -> None:
        if self.server.loopback_only and not self._host_is_loopback():
            self._send(HTTPStatus.BAD_REQUEST, "This browser answers only to a loopback host name.", head=head)
            return
        where = route(self.path)
        if where is None:
            self._send(HTTPStatus.NOT_FOUND, "No such page in this registry.", head=head)
            return
        try:
            page = render_route(
                self.server.reader, where, Links(), verify_files=self.server.verify_files, cache=self.server.cache
            )
        except (LookupError, FileNotFoundError) as exc:  # no such model or version (or deleted just now)
            self._send(HTTPStatus.NOT_FOUND, str(exc) or "Not found.", head=head)
        except RegistryError as exc:  # e.g. a corrupt or newer-format registry: say what is wrong
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc), head=head)
        except Exception:
            log.exception("error rendering %s", self.path)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal error; see the server's log.", head=head)
        else:
            self._write(HTTPStatus.OK, page, head=head)

    def _host_is_loopback(self) -> bool:
        hosts = self.headers.get_all("Host") or []
        if not hosts:  # HTTP/1.0 clients may omit it
            return True
        return len(hosts) == 1 and is_loopback(host_name(hosts[0]))  # two Host headers: refused

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a method it has no handler for, a request
        line or header too long, a malformed request) as this site's pages, with its
        headers: a method is 405, as for every method but GET and HEAD."""
        if code == HTTPStatus.NOT_IMPLEMENTED:  # "do_" + a method no handler defines
            self._refuse_method()
            return
        self.close_connection = True
        status = HTTPStatus(code)
        self._send(status, message or status.phrase, head=self.command == "HEAD", extra={"Connection": "close"})

    def _send(self, status: HTTPStatus, message: str, *, head: bool, extra: dict[str, str] | None = None) -> None:
        html = render.error_page(int(status), message, Links(), root=str(self.server.registry.root))
        self._write(status, html, head=head, extra=extra)

    def _write(self, status: HTTPStatus, html: str, *, head: bool, extra: dict[str, str] | None = None) -> None:
        body = html.encode("utf-8")
        self.send_response(status)
        for key, value in {**_HEADERS, **(extra or {}), "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": assets.CONTENT_SECURITY_POLICY + "; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
