"""``fsregistry``: the command-line interface (also ``python -m fsregistry``).

A thin shell over the library: every command parses its arguments, makes one library
call, and prints the answer, as a table for people or, with ``--json``, as JSON for
scripts.  The registry root comes from ``--root`` or ``$FSREGISTRY_ROOT``.

Exit codes: 0 success; 1 ``check`` found problems (that remain after ``--repair``);
2 an error (bad usage, or the library refused), reported as one line on stderr, never a
traceback (set ``FSREGISTRY_TRACEBACK=1`` to see one when debugging); 130 interrupted.
With ``--json``, an error also prints one JSON object on stdout,
``{"error": {"type", "message", "name", "version", "path"}}``, so that stdout always holds
one JSON document.
A reader that closes the pipe early (``fsregistry versions m | head -1``) is not an error:
the rest of the output is dropped quietly and the command's own exit code stands.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO

from . import cli_format as fmt
from .config import ENV_ROOT
from .errors import BundleNotFoundError, InvalidArgumentError, ProtectedVersionError, RegistryError
from .identifiers import parse_identifier
from .maintenance.repair import REPAIRABLE
from .names import EXCLUSIVE_STAGES
from .registry import CustomModelRegistry

PROG = "fsregistry"
EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_PORT = 65535


@dataclass
class Outcome:
    """What a command produced: ``data`` for ``--json``, ``text`` for people, an exit code."""

    data: Any
    text: str
    code: int = EXIT_OK


class CliError(InvalidArgumentError):
    """A usage problem found after parsing (e.g. no registry root); printed, exit code 2."""


class UsageError(Exception):
    """A command line argparse could not parse; ``usage`` is the command's usage line."""

    def __init__(self, message: str, prog: str, usage: str) -> None:
        super().__init__(message)
        self.prog = prog
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    """argparse, raising :class:`UsageError` instead of exiting, so that ``main`` reports a
    usage error as it reports every other one (as JSON too, with ``--json``)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog, self.format_usage())


# == commands: one library call each ===========================================================


def cmd_models(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    models = registry.list_models(tags=_tags(args.tag))
    rows = [
        (
            m["name"],
            m["versions"],
            m["latest_version"],
            m["stages"].get("Production"),
            m["stages"].get("Staging"),
            fmt.pairs(m["aliases"]),
            fmt.pairs(m["tags"]),
        )
        for m in models
    ]
    text = fmt.table(["name", "versions", "latest", "production", "staging", "aliases", "tags"], rows)
    return Outcome(models, text if models else f"no models in {registry.root}")


def cmd_versions(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    versions = registry.list_versions(args.name, tags=_tags(args.tag))
    rows = [
        (
            v["version"],
            v["stage"] or "None",
            fmt.listing(v["aliases"]),
            fmt.when(v["created_at"]),
            fmt.human_size(v["size"]),
            fmt.pairs(v["metrics"], numbers=True),
            fmt.pairs(v["tags"]),
        )
        for v in versions
    ]
    text = fmt.table(["version", "stage", "aliases", "created", "size", "metrics", "tags"], rows)
    return Outcome(versions, text if versions else f"model {args.name!r} has no versions")


def cmd_show(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    info = registry.get_model_version(args.identifier)
    return Outcome(info, fmt.describe_version(info))


def cmd_stage(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    info = registry.transition_model_stage(args.identifier, args.stage, archive_existing=not args.keep_existing)
    return Outcome(info, f"{info['name']}/{info['version']} is now in stage {info['stage'] or 'None'}")


def cmd_alias(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    if args.action == "set":
        # a bare "3", "latest" or "Production" means that version of NAME
        target = args.version if any(c in args.version for c in "/@:") else f"{args.name}/{args.version}"
        registry.set_alias(args.name, args.alias, target)
        version = registry.get_model_version(f"{args.name}@{args.alias}")["version"]
        return Outcome(
            {"name": args.name, "alias": args.alias, "version": version},
            f"{args.name}@{args.alias} -> {args.name}/{version}",
        )
    registry.delete_alias(args.name, args.alias)
    return Outcome({"name": args.name, "alias": args.alias, "deleted": True}, f"deleted alias {args.name}@{args.alias}")


def cmd_tag(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    if args.action == "set":
        registry.set_tag(args.identifier, args.key, args.value)
        return Outcome(
            {"target": args.identifier, "key": args.key, "value": args.value},
            f"{args.identifier}: {args.key}={args.value}",
        )
    registry.delete_tag(args.identifier, args.key)
    return Outcome(
        {"target": args.identifier, "key": args.key, "deleted": True}, f"{args.identifier}: deleted tag {args.key}"
    )


def cmd_delete(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    ref = parse_identifier(args.identifier)
    if ref.kind == "model" and ref.name is not None:
        versions = registry.list_versions(ref.name)
        if not args.force:
            _refuse_protected(ref.name, versions)  # refused anyway: say so before asking
        if not args.yes:
            _confirm_model_delete(ref.name, versions)
    registry.delete_model(args.identifier, force=args.force)
    return Outcome({"deleted": args.identifier}, f"deleted {args.identifier}")


def _refuse_protected(name: str, versions: Sequence[dict[str, Any]]) -> None:
    protected = [f"{name}/{v['version']}" for v in versions if v["stage"] in EXCLUSIVE_STAGES or v["aliases"]]
    if protected:
        raise ProtectedVersionError(
            f"model {name!r} has versions holding a stage or an alias ({', '.join(protected)}); "
            "pass --force to delete them too",
            name=name,
        )


def _confirm_model_delete(name: str, versions: Sequence[dict[str, Any]]) -> None:
    """Ask for the model's name before deleting every version of it (issue 13, item 3);
    without a terminal to ask on, refuse: a script says ``--yes``."""
    what = f"model {name!r} and all {len(versions)} of its version(s)"
    if not _stdin_is_terminal():
        raise CliError(f"deleting {what} asks for its name, and stdin is not a terminal: pass --yes to confirm")
    size = fmt.human_size(sum(int(v.get("size") or 0) for v in versions))
    print(f"{PROG}: this deletes {what} ({size}); it cannot be undone.", file=sys.stderr)
    print(f"Type the model's name ({name}) to confirm: ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip() != name:
        raise CliError(f"not confirmed: the name typed is not {name!r}; nothing was deleted")


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):  # closed or detached
        return False


def cmd_predict(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    from .predict.distributed import dask_client
    from .predict.predictor import ModelPredictor

    predictor = ModelPredictor(registry).load_model(args.identifier)
    with dask_client(workers=args.workers) as client:  # None: in this process, or on --dask-scheduler
        written = predictor.predict_batch(
            args.input,
            batch_size=args.batch_size,
            return_probabilities=False if args.labels else None,
            output_path=args.output,
            id_columns=args.id_column or None,
            progress=args.progress,
            dask=client if client is not None else args.dask_scheduler,
        )
    data = {"model": args.identifier, "input": args.input, "output": str(written)}
    return Outcome(data, f"wrote predictions of {args.identifier} for {args.input} to {written}")


def cmd_export(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    path = registry.export_model(args.identifiers, args.path, overwrite=args.force)
    data = {"bundle": str(path), "identifiers": args.identifiers, "size": os.path.getsize(path)}
    return Outcome(data, f"exported {', '.join(args.identifiers)} to {path} ({fmt.human_size(data['size'])})")


def cmd_import(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    results = registry.import_model(args.path, as_new_version=args.as_new_version, keep_stages=args.keep_stages)
    rows = [(r.name, r.original_version, r.version, r.status, r.uri) for r in results]
    text = fmt.table(["name", "bundle version", "version here", "status", "uri"], rows)
    kept = {r.name: r.kept_model_fields for r in results if r.kept_model_fields}
    notes = [
        f"note: model {name!r} kept this registry's {' and '.join(fields)} (the bundle's differ)"
        for name, fields in kept.items()
    ]
    notes += [
        f"note: loading {r.name}/{r.version} imports and calls {', '.join(r.recorded_code)}, named in its "
        "meta.json; only a registry that allows pickle runs it (with pickle refused, pass the factory at load)"
        for r in results
        if r.recorded_code
    ]
    return Outcome([r.to_dict() for r in results], "\n".join([text, *notes]))


def cmd_check(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    report = registry.check(repair=args.repair, older_than=args.older_than)
    code = EXIT_OK if report.ok else EXIT_PROBLEMS
    if not report.problems:
        return Outcome(report.to_dict(), f"ok: no problems in {registry.root}", code)
    rows = [(p.kind, _where(p), p.detail, "yes" if p.fixed else "no") for p in report.problems]
    text = fmt.table(["problem", "where", "detail", "fixed"], rows, wrap=2, width=_terminal_width())
    return Outcome(report.to_dict(), "\n".join([text, *_check_summary(report.problems, args.repair)]), code)


def _terminal_width() -> int | None:
    """The terminal's width when stdout is one; ``None`` (no wrapping) for a pipe or a file,
    whose reader may search whole lines."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def _check_summary(problems: Sequence[Any], repaired: bool) -> list[str]:
    """What was fixed, what ``--repair`` would fix, and what only a person can."""
    fixed = sum(1 for p in problems if p.fixed)
    fixable = [p for p in problems if not p.fixed and p.kind in REPAIRABLE]
    manual = [p for p in problems if not p.fixed and p.kind not in REPAIRABLE]
    line = f"repaired {fixed} of {len(problems)} problem(s)" if repaired else f"{len(problems)} problem(s) found"
    if fixable:
        line += f"; run `{PROG} check --repair` to fix {len(fixable)} of them"
    lines = [line]
    if manual:
        kinds = ", ".join(dict.fromkeys(p.kind for p in manual))
        lines.append(f"{len(manual)} cannot be fixed by --repair ({kinds}); DETAIL says what to do")
    return lines


def cmd_copy(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    from .copying import copy_registry

    results = copy_registry(registry, CustomModelRegistry(args.destination))
    copied = sum(1 for r in results if r.status == "imported")
    text = f"copied {copied} version(s) of {len({r.name for r in results})} model(s) to {args.destination}"
    if copied < len(results):
        text += f"; {len(results) - copied} were there already"
    return Outcome([r.to_dict() for r in results], text)


def cmd_prune(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    pruned = registry.prune(args.name, keep_last=args.keep_last, older_than=args.older_than, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    if not pruned:
        return Outcome(pruned, f"nothing to prune in {args.name!r}")
    reclaimed = fmt.human_size(sum(int(v.get("size") or 0) for v in pruned))
    rows = [(v["version"], v["stage"] or "None", fmt.when(v["created_at"]), fmt.human_size(v["size"])) for v in pruned]
    text = fmt.table(["version", "stage", "created", "size"], rows)
    return Outcome(pruned, f"{text}\n{verb} {len(pruned)} version(s) of {args.name!r}, {reclaimed}")


def cmd_ui(registry: CustomModelRegistry, args: argparse.Namespace) -> Outcome:
    ui = importlib.import_module("fsregistry.ui")
    if args.export:
        site = ui.export_site(registry, args.export, include_paths=args.include_paths)
        return Outcome({"site": str(site)}, f"exported the registry's pages to {site}")
    remote = {"allow_remote": True} if args.allow_remote else {}
    try:
        ui.serve(registry, host=args.host, port=args.port, **remote)  # blocks until interrupted
    except OSError as exc:  # binding: a name that does not resolve, a port in use or reserved
        raise CliError(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    return Outcome({"served": True}, "")


def _tags(pairs: Sequence[str] | None) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep:
            raise CliError(f"--tag expects KEY=VALUE, got {pair!r}")
        out[key] = value
    return out or None


def _where(problem: Any) -> str:
    if problem.name and problem.version is not None:
        return f"{problem.name}/{problem.version}"
    return str(problem.name or problem.path or "-")


# == the parser ================================================================================

Command = Callable[[CustomModelRegistry, argparse.Namespace], Outcome]
#: commands allowed to create a registry root that does not exist yet (the first import)
CREATES_ROOT = frozenset({"import"})


def _common() -> _Parser:
    """Options accepted before or after the command name."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--root",
        default=argparse.SUPPRESS,
        metavar="ROOT",
        help=f"registry root: a folder or s3://BUCKET/PREFIX (default: ${ENV_ROOT})",
    )
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON instead of tables")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The full ``fsregistry`` argument parser."""
    from ._version import __version__

    common = _common()
    parser = _Parser(
        prog=PROG,
        parents=[common],
        description="A file-system model registry: list, promote, predict, export/import, check and prune models.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = command("models", cmd_models, "list models")
    p.add_argument("--tag", action="append", metavar="KEY=VALUE", help="only models with this tag (repeatable)")
    p = command("versions", cmd_versions, "list the versions of a model, newest first")
    p.add_argument("name", help="the model whose versions to list")
    p.add_argument("--tag", action="append", metavar="KEY=VALUE", help="only versions with this tag (repeatable)")
    p = command("show", cmd_show, "show one version: metadata, signature, environment")
    p.add_argument("identifier", help="NAME/VERSION, NAME/STAGE, NAME@ALIAS, models:/..., runs:/ID/model")
    p = command("stage", cmd_stage, "move a version to a stage (None, Staging, Production, Archived)")
    p.add_argument("identifier", help="the version to move: NAME/VERSION, NAME@ALIAS, models:/...")
    p.add_argument("stage", help="None (or Development), Staging, Production or Archived; any case")
    p.add_argument(
        "--keep-existing",
        action="store_true",
        help="move the version that held the stage back to None instead of Archived",
    )
    _add_alias(command("alias", cmd_alias, "set or delete an alias"), common)
    _add_tag(command("tag", cmd_tag, "set or delete a tag on a model or a version"), common)
    p = command(
        "delete",
        cmd_delete,
        "delete a version (NAME/VERSION) or a whole model (NAME: asks you to type the name, unless --yes)",
    )
    p.add_argument("identifier", help="a version (NAME/3, NAME@ALIAS...) or a model NAME for all its versions")
    p.add_argument("--force", action="store_true", help="also delete staged or aliased versions")
    p.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="delete a whole model without asking for its name (needed when stdin is not a terminal)",
    )
    _add_predict(command("predict", cmd_predict, "predict a CSV or Parquet file into an output file"))
    p = command("export", cmd_export, "write versions (or whole models) to one bundle file")
    p.add_argument("identifiers", nargs="+", metavar="IDENT", help="versions, or model names for every version")
    p.add_argument("path", metavar="BUNDLE", help="output file (.tar.gz, or .tar for no compression)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p = command("import", cmd_import, "verify and import a bundle (creates the root if needed)")
    p.add_argument("path", metavar="BUNDLE", help="the bundle file to verify and import")
    p.add_argument(
        "--as-new-version",
        action="store_true",
        help="import a conflicting version under the next free number instead of failing",
    )
    p.add_argument("--keep-stages", action="store_true", help="also apply the bundle's stages and aliases")
    p = command("check", cmd_check, "verify every file and index; exit code 1 if problems remain")
    p.add_argument("--repair", action="store_true", help="fix what can be fixed")
    p.add_argument(
        "--older-than",
        type=_seconds,
        metavar="SECONDS",
        help="keep what an unfinished write left while it is younger than this "
        "(default: 0 for a folder, 3600 for s3://; 0 takes everything unreferenced)",
    )
    p = command("copy", cmd_copy, "copy every model, with its versions, stages and aliases, to another root")
    p.add_argument("destination", metavar="DEST", help="the root to copy to (a folder or s3://BUCKET/PREFIX)")
    _add_prune(command("prune", cmd_prune, "delete old versions (never staged, aliased or latest ones)"))
    _add_ui(command("ui", cmd_ui, "browse the registry in a web browser, or export it as static pages"))
    return parser


def _add_alias(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = actions.add_parser("set", parents=[common], help="point ALIAS at VERSION")
    s.add_argument("name", help="the model")
    s.add_argument("alias", help="the alias (champion, shadow...)")
    s.add_argument("version", help="a version number, latest, a stage, or any identifier of that model")
    d = actions.add_parser("delete", parents=[common], help="remove ALIAS")
    d.add_argument("name", help="the model")
    d.add_argument("alias", help="the alias to remove")


def _add_tag(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = actions.add_parser("set", parents=[common], help="set KEY=VALUE on NAME or a version")
    s.add_argument("identifier", help="NAME (the model) or a version identifier")
    s.add_argument("key", help="the tag's name")
    s.add_argument("value", help="its value (stored as text)")
    d = actions.add_parser("delete", parents=[common], help="remove KEY")
    d.add_argument("identifier", help="NAME (the model) or a version identifier")
    d.add_argument("key", help="the tag to remove")


def _add_predict(p: argparse.ArgumentParser) -> None:
    p.add_argument("identifier", help="the version to predict with: NAME/STAGE, NAME@ALIAS, models:/...")
    p.add_argument("input", help="CSV or Parquet file")
    p.add_argument("output", help="output file; CSV or Parquet by suffix")
    p.add_argument(
        "--id-column",
        action="append",
        metavar="COLUMN",
        help="input column copied to the output (repeatable), e.g. game_id",
    )
    p.add_argument(
        "--batch-size", type=_positive_int, default=10_000, metavar="N", help="rows per batch (default: 10000)"
    )
    p.add_argument("--progress", action="store_true", help="show a progress bar (needs tqdm)")
    p.add_argument("--labels", action="store_true", help="write class labels instead of probabilities")
    on_dask = p.add_mutually_exclusive_group()
    on_dask.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="score on Dask: this scheduler (tcp://host:8786) or a local one (threads, processes, synchronous); "
        "INPUT may then be a Parquet folder or glob, and OUTPUT is a folder of Parquet parts",
    )
    on_dask.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="score on a local Dask cluster of N worker processes (as --dask-scheduler for INPUT and OUTPUT)",
    )


def _add_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="the model to prune")
    p.add_argument("--keep-last", type=_non_negative_int, metavar="N", help="keep the N newest versions")
    p.add_argument("--older-than", metavar="AGE", help="only versions created more than AGE ago (30d, 12h, 2w)")
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")


def _add_ui(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port, 0 for any free one (default: 8000)")
    p.add_argument("--allow-remote", action="store_true", help="allow a --host other than loopback")
    p.add_argument("--export", metavar="DIR", help="write static pages to DIR instead of serving")
    p.add_argument(
        "--include-paths",
        action="store_true",
        help="keep this machine's registry path, and the hosts and folders imported versions came from, "
        "in --export's pages (left out by default)",
    )


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > MAX_PORT:
        raise argparse.ArgumentTypeError(f"a port is at most {MAX_PORT}")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        shown = repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text)} characters)"
        raise argparse.ArgumentTypeError(f"{shown} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        shown = repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text)} characters)"
        raise argparse.ArgumentTypeError(f"{shown} is not a number of seconds >= 0")
    return value


# == running ===================================================================================


def open_registry(args: argparse.Namespace) -> CustomModelRegistry:
    """The registry ``--root``/``$FSREGISTRY_ROOT`` names; only ``import`` may create one."""
    root = getattr(args, "root", None) or os.environ.get(ENV_ROOT)
    if not root:
        raise CliError(f"no registry root: pass --root ROOT (a folder or s3://BUCKET/PREFIX) or set {ENV_ROOT}")
    if args.command == "import" and not os.path.isfile(args.path):  # before a root is created for it
        raise BundleNotFoundError(f"no bundle file at {args.path}", path=str(args.path))
    return CustomModelRegistry(root, create=args.command in CREATES_ROOT)


def run(args: argparse.Namespace, stdout: TextIO) -> int:
    """Run a parsed command and print its outcome."""
    outcome: Outcome = args.func(open_registry(args), args)
    try:
        if getattr(args, "json", False):
            print(fmt.to_json(outcome.data), file=stdout)
        elif outcome.text:
            print(outcome.text, file=stdout)
        stdout.flush()  # here, not at exit, so that a reader that left is caught below
    except BrokenPipeError:  # `fsregistry versions m | head -1`: the reader got what it asked for
        _silence_stdout(stdout)
    return outcome.code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fsregistry`` script; returns the exit code (see the module doc)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in argv  # known before parsing succeeds, for usage errors too
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:  # as argparse prints it: the usage line, then the error
        print(exc.usage, end="", file=sys.stderr)
        print(f"{exc.prog}: error: {exc}", file=sys.stderr)
        _print_json_error(exc, str(exc), as_json)
        return EXIT_ERROR
    except SystemExit as exc:  # --help, --version: argparse has printed them
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return run(args, sys.stdout)
        except KeyboardInterrupt as exc:
            print(f"{PROG}: interrupted", file=sys.stderr)
            _print_json_error(exc, "interrupted", as_json)
            return EXIT_INTERRUPTED
        except (RegistryError, OSError) as exc:
            return _fail(exc, as_json=as_json)
        except Exception as exc:  # a bug or a framework error: still one line, never a traceback
            return _fail(exc, prefix=f"unexpected {type(exc).__name__}: ", as_json=as_json)


def _silence_stdout(stdout: TextIO) -> None:
    """Point stdout at /dev/null so that the interpreter's flush at exit, which would write
    what is still buffered, cannot fail again (as Python's documentation of SIGPIPE advises)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, stdout.fileno())
    except (OSError, ValueError):  # not a real file (tests capture it): nothing to flush
        pass
    finally:
        os.close(devnull)


#: the library's advice in its own terms -> the same advice in the command line's terms
_CLI_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"pass \w+=True \(CLI: (--[\w-]+)\)"), r"pass \1"),
    (re.compile(r"\bcheck\(repair=True\)"), "fsregistry check --repair"),
    (re.compile(r"\bcheck\(\)"), "fsregistry check"),
    (re.compile(r"\bkeep_last=N\b"), "--keep-last N"),
    (re.compile(r"\bolder_than=AGE\b"), "--older-than AGE"),
    (re.compile(r"\bprogress=True\b"), "--progress"),
    (re.compile(r"Open it with allow_pickle=True"), "Unset FSREGISTRY_ALLOW_PICKLE (or set it to 1)"),
    (re.compile(r" \(pass with_preprocessor=False to skip it\)"), " (which the command line always loads)"),
)


def cli_words(message: str) -> str:
    """An error message with the library's advice (``force=True``, ``check(repair=True)``)
    put in the flags and commands a command-line user types."""
    for pattern, replacement in _CLI_WORDS:
        message = pattern.sub(replacement, message)
    return message


def _fail(exc: BaseException, prefix: str = "", *, as_json: bool = False) -> int:
    if os.environ.get("FSREGISTRY_TRACEBACK"):
        raise exc
    one_line = " ".join((str(exc) or type(exc).__name__).split())  # one line, always
    message = _shortened(prefix + cli_words(one_line))
    print(f"{PROG}: error: {message}", file=sys.stderr)
    _print_json_error(exc, message, as_json)
    return EXIT_ERROR


#: an error message longer than this (one that echoes absurd input) keeps its start and end
MAX_MESSAGE = 1000


def _shortened(message: str) -> str:
    if len(message) <= MAX_MESSAGE:
        return message
    head, tail = message[: MAX_MESSAGE * 2 // 3], message[-MAX_MESSAGE // 4 :]
    return f"{head} [... {len(message) - len(head) - len(tail)} characters ...] {tail}"


def _print_json_error(exc: BaseException, message: str, as_json: bool) -> None:
    """With ``--json``, the error as one JSON object on stdout (the one line is on stderr too)."""
    if not as_json:
        return
    error: dict[str, Any] = {"type": type(exc).__name__, "message": message, "name": None, "version": None}
    if isinstance(exc, RegistryError):
        error.update(name=exc.name, version=exc.version, path=exc.path)
    else:
        filename = getattr(exc, "filename", None)  # an OSError names its path
        error["path"] = os.fsdecode(filename) if isinstance(filename, (str, bytes)) else None
    try:
        print(fmt.to_json({"error": error}), file=sys.stdout, flush=True)
    except (OSError, ValueError):  # the reader has gone (or stdout is closed): stderr has it
        _silence_stdout(sys.stdout)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings (e.g. EnvironmentMismatchWarning) as one line on stderr, without source lines."""
    print(f"{PROG}: warning: {category.__name__}: {message}", file=file or sys.stderr)
