"""Scoring on Dask: ``ModelPredictor.predict_batch`` past one process.

``predict_batch`` hands its work to this module when ``X`` is a Dask DataFrame, or when it
is called with ``dask=`` (``True``, a ``dask.distributed.Client``, a scheduler address, or
a local scheduler name).  Every partition goes through the predictor's own ``predict``
(schema enforcement, preprocessor, model, class labels), so the results are bit-identical
to in-memory ``predict`` on the same rows.

What travels in the task graph is a :class:`VersionPin` (the registry root, the resolved
name and version, the SHA-256 of the version's files, the registry's ``allow_pickle`` and
``verify`` settings and the load options), never the model: a model pickled into the graph
would need pickle where the registry refuses it, and could differ from what the registry
holds.  Each worker process loads the pinned version once, checking the files' hashes
against the pin (and verifying the files, as every load does), keeps it in a small
per-process cache (:func:`worker_cache`) and reuses it for every partition.  The stage or
alias was resolved when the predictor loaded the version, so a promotion while a job runs
never mixes two versions in one output.

A Parquet data set (a file, a folder, or a glob) is split into partitions of whole row
groups, up to ``batch_size`` rows each (at least one row group), so a worker holds one
partition at a time, never the data set.  Every file's footer is checked against the
model's schema before anything runs: a file without a needed column is a
:class:`~fsregistry.errors.SchemaError` naming the file and the columns.  An error inside a
partition names the partition and its file.  Output is a folder of Parquet parts
(``part-00000.parquet``, ...), written into a temporary folder beside the destination and
renamed into place only when every partition succeeded.

Dask is an optional extra (``pip install "fsregistry[dask]"``), imported only inside the
functions that use it: importing this module imports no Dask.
"""

from __future__ import annotations

import copy
import glob
import hashlib
import logging
import os
import re
import shutil
import sys
import threading
import time
import uuid
import warnings
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import IntegrityError, InvalidArgumentError, OutputExistsError, PredictorError, RegistryError, SchemaError
from ..storage import files, hashing
from . import batch

if TYPE_CHECKING:
    from .loaded import LoadedModel
    from .predictor import ModelPredictor

#: names accepted by ``dask=`` for Dask's local schedulers (no cluster)
LOCAL_SCHEDULERS = ("threads", "processes", "synchronous", "sync", "single-threaded")
#: how many versions one worker process keeps loaded (least recently used ones go first)
CACHE_SIZE = 4

_PART_RE = re.compile(r"part-\d+\.parquet")
_SAMPLE_ROWS = 16
_SILENT = logging.Logger("fsregistry.distributed.probe", logging.CRITICAL + 1)  # not registered: logs nothing


# == the version a job is pinned to =============================================================


@dataclass(frozen=True)
class VersionPin:
    """Everything a worker needs to load exactly the version a job was built with.

    ``key`` identifies the pin (root, name, version, hashes, settings) in the per-worker
    cache; it is computed once, where the job is built.
    """

    root: str
    name: str
    version: int
    hashes: tuple[tuple[str, str], ...]
    allow_pickle: bool
    verify: hashing.Verify
    load_options: tuple[tuple[str, Any], ...]
    key: str

    @property
    def label(self) -> str:
        return f"{self.name}/{self.version}"


def pin_version(predictor: ModelPredictor) -> VersionPin:
    """The pin of the version ``predictor`` has loaded (refused for a registry that is not a
    folder the workers can open)."""
    from ..registry import CustomModelRegistry

    registry = predictor.registry
    if not isinstance(registry, CustomModelRegistry):
        raise PredictorError(
            "scoring on Dask loads the model on every worker from a registry folder they can read; "
            f"this predictor's registry is a {type(registry).__name__}: use a CustomModelRegistry"
        )
    record = predictor._require().record
    name, version, stored = record.get("name"), record.get("version"), record.get("files")
    if not isinstance(name, str) or not isinstance(version, int) or not isinstance(stored, Mapping):
        raise PredictorError("the loaded model's record lacks its name, version or file hashes")
    hashes = _hashes(stored)
    options = tuple(sorted(predictor._load_options.items()))
    root = registry.root if isinstance(registry.root, str) else str(Path(registry.root).resolve())
    settings = (root, name, version, hashes, registry.allow_pickle, registry.verify)
    described = [(k, _describe(v)) for k, v in options]
    key = hashlib.sha256(repr((*settings, described)).encode()).hexdigest()
    return VersionPin(root, name, version, hashes, registry.allow_pickle, registry.verify, options, key)


def _hashes(stored: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(f), str((info or {}).get("sha256"))) for f, info in stored.items()))


def _describe(value: Any) -> str:
    """A process-independent description of a load option (a factory by its import path)."""
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}"
    return repr(value)


# == the per-worker cache =======================================================================

_CACHE: OrderedDict[str, ModelPredictor] = OrderedDict()
_PINS: dict[str, VersionPin] = {}
_LOADS: Counter[str] = Counter()
_CACHE_LOCK = threading.Lock()


def predictor_for(pin: VersionPin) -> ModelPredictor:
    """A predictor holding the pinned version, loaded at most once per process while it
    stays among the :data:`CACHE_SIZE` most recently used (threads of one worker share it)."""
    with _CACHE_LOCK:
        cached = _CACHE.get(pin.key)
        if cached is not None:
            _CACHE.move_to_end(pin.key)
            return cached
        cached = _load(pin)
        _CACHE[pin.key], _PINS[pin.key] = cached, pin
        _LOADS[pin.key] += 1
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return cached


def _load(pin: VersionPin) -> ModelPredictor:
    """Open the registry with the caller's settings, check the version's hashes against the
    pin, then load it (the load verifies the files against those hashes)."""
    from ..registry import CustomModelRegistry
    from .predictor import ModelPredictor

    try:
        registry = CustomModelRegistry(pin.root, allow_pickle=pin.allow_pickle, verify=pin.verify, create=False)
    except RegistryError as exc:
        raise PredictorError(
            f"this worker cannot open the registry at {pin.root} ({exc}); every Dask worker must see the "
            "registry at the same path",
            name=pin.name,
            version=pin.version,
            path=pin.root,
        ) from exc
    info = registry.get_model_version(f"{pin.name}/{pin.version}")
    found = _hashes(info.get("files") or {})
    if found != pin.hashes:
        differ = sorted({f for f, _ in set(found) ^ set(pin.hashes)})
        raise IntegrityError(
            f"{pin.label} in the registry at {pin.root}, as this worker sees it, is not the version the job "
            f"was built with: the SHA-256 of {differ} differ (a registry recreated at the same path, or "
            "workers that see another copy of it); build the job again",
            name=pin.name,
            version=pin.version,
            path=pin.root,
        )
    return ModelPredictor(registry).load_model(f"models:/{pin.name}/{pin.version}", **dict(pin.load_options))


def preload(client: Any, predictor: ModelPredictor) -> dict[str, float]:
    """Load the version ``predictor`` holds on every worker of ``client`` now, rather than
    in each worker's first task; returns the seconds each worker spent (microseconds where
    it was already loaded).  Workers that join later load it in their first task."""
    pin = pin_version(predictor)
    return dict(client.run(_timed_load, pin))


def _timed_load(pin: VersionPin) -> float:
    start = time.perf_counter()
    predictor_for(pin)
    return time.perf_counter() - start


def worker_cache() -> list[dict[str, Any]]:
    """What this process loaded for Dask scoring: one dict per version loaded since the
    last :func:`clear_worker_cache` (root, name, version, allow_pickle, verify, how many
    times it was loaded, whether it is still cached).  Run it on every worker with
    ``client.run(fsregistry.predict.distributed.worker_cache)``."""
    with _CACHE_LOCK:
        return [
            {
                "root": pin.root,
                "name": pin.name,
                "version": pin.version,
                "allow_pickle": pin.allow_pickle,
                "verify": pin.verify,
                "loads": _LOADS[key],
                "cached": key in _CACHE,
            }
            for key, pin in _PINS.items()
        ]


def clear_worker_cache() -> None:
    """Forget every loaded version in this process (``client.run(clear_worker_cache)``
    frees the workers' memory; the next job loads again)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _PINS.clear()
        _LOADS.clear()


# == scoring one partition ======================================================================


def output_table(
    predictions: np.ndarray, frame: pd.DataFrame, ids: Sequence[str], columns: Sequence[str], series: bool
) -> pd.Series | pd.DataFrame:
    """One partition's output, on ``frame``'s index: the id columns copied from the input,
    then the prediction columns (a Series when ``series``), each keeping the predictions'
    dtype."""
    values = predictions.reshape(len(predictions), -1)
    if values.shape[1] != len(columns):
        raise PredictorError(
            f"the model gave {values.shape[1]} output column(s) here but {len(columns)} on the first rows "
            f"({list(columns)}); every partition must give the same outputs"
        )
    predicted = {
        name: pd.Series(values[:, i], dtype=values.dtype, name=name, copy=False) for i, name in enumerate(columns)
    }
    if series:
        return predicted[columns[0]].set_axis(frame.index)
    passed = {c: frame[c].reset_index(drop=True) for c in ids}  # by position: an index may repeat labels
    return pd.DataFrame({**passed, **predicted}).set_axis(frame.index)


@dataclass(frozen=True, eq=False)
class _Scoring:
    """What every partition's task carries: the pin and the output's shape, no model."""

    pin: VersionPin
    return_probabilities: bool | None
    ids: tuple[str, ...]
    columns: tuple[str, ...]
    series: bool
    meta: Any  # the empty output (pandas), returned for an empty partition

    def score(self, frame: pd.DataFrame, where: str, path: str | None = None) -> pd.Series | pd.DataFrame:
        if len(frame) == 0:
            return self.meta
        predictor = predictor_for(self.pin)
        try:
            predictions = predictor.predict(frame, self.return_probabilities)
            return output_table(predictions, frame, self.ids, self.columns, self.series)
        except RegistryError as exc:
            raise _located(exc, where, path) from exc


def _located(exc: RegistryError, where: str, path: str | None) -> RegistryError:
    """``exc`` again, its message prefixed with the partition it happened in."""
    message = f"{where}: {exc.message}"
    try:
        return type(exc)(message, name=exc.name, version=exc.version, path=path or exc.path)
    except TypeError:  # a subclass with its own constructor
        return PredictorError(message, name=exc.name, version=exc.version, path=path or exc.path)


@dataclass(frozen=True, eq=False)
class _ScoreFrame:
    """``map_partitions`` function over a Dask DataFrame."""

    scoring: _Scoring

    def __call__(self, frame: pd.DataFrame, partition_info: dict[str, Any] | None = None) -> Any:
        number = partition_info["number"] if partition_info else "?"
        return self.scoring.score(frame, f"partition {number} of the Dask DataFrame")


@dataclass(frozen=True)
class Piece:
    """One partition of a Parquet data set: whole row groups of one file."""

    path: str
    row_groups: tuple[int, ...]
    rows: int
    number: int
    columns: tuple[str, ...] | None  # the file's columns to read (None: all)

    def where(self) -> str:
        groups = self.row_groups
        span = f"row group {groups[0]}" if len(groups) == 1 else f"row groups {groups[0]}-{groups[-1]}"
        return f"partition {self.number} (input file {Path(self.path).name}, {span})"


@dataclass(frozen=True, eq=False)
class _ScorePiece:
    """``from_map`` function over Parquet pieces: read, then score."""

    scoring: _Scoring

    def __call__(self, piece: Piece) -> Any:
        return self.scoring.score(read_piece(piece), piece.where(), piece.path)


def read_piece(piece: Piece) -> pd.DataFrame:
    """The piece's rows, as ``predict_batch`` reads a Parquet file in one process."""
    pq = batch._pyarrow_parquet()
    try:
        handle = pq.ParquetFile(piece.path, pre_buffer=False)
        try:
            columns = list(piece.columns) if piece.columns is not None else None
            table = handle.read_row_groups(list(piece.row_groups), columns=columns)
        finally:
            handle.close()
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise PredictorError(f"{piece.where()}: cannot read it: {exc}", path=piece.path) from exc
    frame: pd.DataFrame = table.to_pandas()
    return frame


# == the input: a Parquet data set, a Dask DataFrame, a DataFrame ================================


def is_dask_dataframe(X: Any) -> bool:
    """True for a Dask DataFrame, decided without importing Dask."""
    return "dask" in sys.modules and any(
        cls.__module__.startswith("dask.") and cls.__name__ == "DataFrame" for cls in type(X).__mro__
    )


def _is_dask_collection(X: Any) -> bool:
    return "dask" in sys.modules and any(cls.__module__.startswith("dask.") for cls in type(X).__mro__)


def wants_dask(X: Any, dask: Any) -> bool:
    """Whether ``predict_batch(X, dask=dask)`` runs on Dask: when asked, and always for a
    Dask collection (which ``dask=False`` cannot score in one process)."""
    if _is_dask_collection(X):
        if dask is False:
            raise InvalidArgumentError("a Dask DataFrame is scored on Dask; drop dask=False")
        return True
    return dask is not None and dask is not False


def parquet_files(source: str | os.PathLike[str]) -> list[Path]:
    """The files of a Parquet data set: a file, a folder (its ``*.parquet``/``*.pq`` files
    at any depth, skipping names that start with ``.`` or ``_``) or a glob, in natural order."""
    text = os.fspath(source)
    if any(c in text for c in "*?["):
        matches = [Path(p) for p in glob.glob(text, recursive=True) if os.path.isfile(p)]
        if not matches:
            raise PredictorError(f"no files match {text}", path=text)
        return sorted(matches, key=_natural)
    path = Path(text)
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file() and _is_parquet(p) and not _hidden(p.relative_to(path))]
        if not files:
            raise PredictorError(f"folder {path} holds no Parquet files (*.parquet, *.pq)", path=text)
        return sorted(files, key=_natural)
    if not path.is_file():
        raise PredictorError(f"input {path} does not exist", path=text)
    if not _is_parquet(path):
        raise PredictorError(
            f"on Dask, files are read as Parquet; {path.name} is not a .parquet or .pq file "
            "(for CSV, pass dask.dataframe.read_csv(...) as X)",
            path=text,
        )
    return [path]


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)


def _natural(path: Path) -> list[Any]:
    """Sort key: ``part-2`` before ``part-10``."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(path))]


def plan_pieces(files: Sequence[Path], batch_size: int, plan: batch.ReadPlan) -> list[Piece]:
    """Partitions of whole row groups, up to ``batch_size`` rows each (at least one row
    group), after checking every file's columns from its footer (nothing else is read)."""
    pq = batch._pyarrow_parquet()
    pieces: list[Piece] = []
    for path in files:
        try:
            metadata = pq.read_metadata(path)
        except (OSError, ValueError) as exc:
            raise PredictorError(f"cannot read {path} as Parquet: {exc}", path=str(path)) from exc
        names = metadata.schema.to_arrow_schema().names
        batch._require_columns(path, names, plan)
        wanted = batch._wanted(names, plan)
        columns = tuple(wanted) if wanted is not None else None
        for groups, rows in _row_group_runs(metadata, batch_size):
            pieces.append(Piece(str(path), groups, rows, len(pieces), columns))
    return pieces


def _row_group_runs(metadata: Any, batch_size: int) -> Iterator[tuple[tuple[int, ...], int]]:
    groups: list[int] = []
    rows = 0
    for i in range(metadata.num_row_groups):
        n = metadata.row_group(i).num_rows
        if n == 0:
            continue
        if groups and rows + n > batch_size:
            yield tuple(groups), rows
            groups, rows = [], 0
        groups.append(i)
        rows += n
    if groups:
        yield tuple(groups), rows


# == building the job ===========================================================================


def predict_batch(
    predictor: ModelPredictor,
    loaded: LoadedModel,
    X: Any,
    *,
    batch_size: int,
    return_probabilities: bool | None,
    output_path: str | os.PathLike[str] | None,
    id_columns: Sequence[str] | str | None,
    progress: bool,
    dask: Any,
) -> Any:
    """The Dask side of :meth:`ModelPredictor.predict_batch` (see its docstring)."""
    ids = batch.distinct_ids(id_columns)
    lazy = is_dask_dataframe(X) and output_path is None
    if ids and output_path is None and not lazy:
        raise PredictorError("id_columns are written next to the predictions; they need output_path")
    if lazy and isinstance(dask, str):
        raise InvalidArgumentError(
            f"dask={dask!r} runs jobs that end here; a Dask DataFrame without output_path gives a lazy result: "
            "compute it with your own client (client.compute(result)), or pass a Client or True"
        )
    pin = pin_version(predictor)
    if output_path is not None:
        _check_destination(Path(os.path.abspath(output_path)), X)
    with _scheduler(dask) as runner:
        scored = _build(predictor, loaded, pin, X, return_probabilities, ids, batch_size, output_path is None, runner)
        if lazy:
            return scored
        if output_path is None:
            return _as_array(runner.compute(scored, progress))
        written, rows = write_dataset(scored, Path(output_path), runner, progress)
    predictor.logger.info("wrote %d predictions of %s on Dask to %s", rows, pin.label, written)
    return Path(output_path)


def _build(
    predictor: ModelPredictor,
    loaded: LoadedModel,
    pin: VersionPin,
    X: Any,
    flag: bool | None,
    ids: list[str],
    batch_size: int,
    may_be_series: bool,
    runner: _Runner,
) -> Any:
    """The lazy output: a Dask Series or DataFrame scoring ``X`` partition by partition."""
    from .predictor import _output_name, _read_plan

    dd = _dask_dataframe()
    kind = _output_name(loaded, flag)

    def scoring_for(sample: pd.DataFrame) -> _Scoring:
        predictions = _probe(predictor, sample, flag)
        columns = batch.prediction_columns(predictions, kind, loaded.adapter.classes)
        clash = [c for c in columns if c in ids]
        if clash:
            raise PredictorError(f"id columns {clash} clash with the prediction column names {columns}")
        series = may_be_series and not ids and len(columns) == 1
        meta = output_table(predictions, sample, ids, columns, series).iloc[:0]
        return _Scoring(pin, flag, tuple(ids), tuple(columns), series, meta)

    with _plain_strings():
        if isinstance(X, (str, os.PathLike)):
            pieces = plan_pieces(parquet_files(X), batch_size, _read_plan(loaded.schema, ids))
            if not pieces:
                raise PredictorError("input has no rows; nothing to predict")
            scoring = scoring_for(read_piece(pieces[0]).head(_SAMPLE_ROWS))
            return dd.from_map(_ScorePiece(scoring), pieces, meta=scoring.meta, label="fsregistry-score")
        if is_dask_dataframe(X):
            frame = _project(X, loaded, ids)
            scoring = _scoring_of(frame, scoring_for, runner)
            return frame.map_partitions(_ScoreFrame(scoring), meta=scoring.meta)
        if isinstance(X, pd.DataFrame):
            if len(X) == 0:
                raise PredictorError("input has no rows; nothing to predict")
            frame = dd.from_pandas(X, chunksize=batch_size, sort=False)
            scoring = scoring_for(X.head(_SAMPLE_ROWS))
            return frame.map_partitions(_ScoreFrame(scoring), meta=scoring.meta)
    raise PredictorError(
        f"on Dask, X must be a Dask DataFrame, a pandas DataFrame or a Parquet data set (a file, folder or "
        f"glob); got a {type(X).__name__}"
    )


def _scoring_of(frame: Any, scoring_for: Callable[[pd.DataFrame], _Scoring], runner: _Runner) -> _Scoring:
    """The scoring of a Dask DataFrame, its output types found on Dask's made-up sample rows
    (nothing is computed), else, if the model refuses those, on the first real rows."""
    try:
        return scoring_for(frame._meta_nonempty)
    except RegistryError as made_up_failed:
        head = runner.compute(frame.head(_SAMPLE_ROWS, npartitions=1, compute=False))
        if len(head) == 0:
            raise made_up_failed from None
        return scoring_for(head)


def _probe(predictor: ModelPredictor, sample: pd.DataFrame, flag: bool | None) -> np.ndarray:
    """Predictions for a few rows, to learn the output's columns and types: the predictor's
    own model, quietly (its logs and error handler belong to the job, not to this probe)."""
    probe = copy.copy(predictor)
    probe.logger, probe.error_handler, probe._told_unseen = _SILENT, None, set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return probe.predict(sample, flag)


def _project(frame: Any, loaded: LoadedModel, ids: Sequence[str]) -> Any:
    """Only the columns the model and the output need (Dask then reads no others)."""
    present = [str(c) for c in frame.columns]
    missing_ids = [c for c in ids if c not in present]
    if missing_ids:
        raise SchemaError(f"id columns not in the Dask DataFrame: {missing_ids}")
    schema = loaded.schema
    if schema is None or not set(schema.names) <= set(present):
        return frame  # predict names what is missing, on the sample, before anything runs
    wanted = set(schema.names) | set(ids)
    return frame[[c for c in frame.columns if str(c) in wanted]]


@contextmanager
def _plain_strings() -> Iterator[None]:
    """Build collections without Dask's conversion of text columns to pyarrow strings, so
    that every partition reaches the model exactly as pandas reads it in one process."""
    import dask

    with dask.config.set({"dataframe.convert-string": False}):
        yield


def _as_array(result: Any) -> np.ndarray:
    values: np.ndarray = result.to_numpy()
    return values


# == running: a client, an address, or Dask's local scheduler ===================================


@dataclass
class _Runner:
    """Where a job's collections are computed: a ``dask.distributed`` client, or Dask's
    local scheduler (``scheduler`` names one; ``None`` is Dask's default)."""

    client: Any
    scheduler: str | None = None

    def compute(self, collection: Any, progress: bool = False) -> Any:
        if self.client is not None:
            from dask.distributed import progress as progress_bar

            future = self.client.compute(collection)
            try:
                if progress:  # on stderr, as tqdm's bar in one process: stdout may be the data (--json)
                    with redirect_stdout(sys.stderr):
                        progress_bar(future, scheduler=self.client.scheduler.address)  # not the default client's
                return future.result()
            except BaseException:
                future.cancel()
                raise
        import dask

        with _local_progress(progress):
            return dask.compute(collection, scheduler=self.scheduler)[0]


@contextmanager
def _local_progress(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    from dask.diagnostics import ProgressBar

    with ProgressBar(out=sys.stderr):
        yield


@contextmanager
def _scheduler(target: Any) -> Iterator[_Runner]:
    if target is None or target is True:
        yield _Runner(_current_client())
    elif _is_client(target):
        yield _Runner(target)
    elif isinstance(target, str) and target.lower() in LOCAL_SCHEDULERS:
        yield _Runner(None, target.lower())
    elif isinstance(target, str) and target:
        with dask_client(scheduler=target) as client:
            yield _Runner(client)
    else:
        raise InvalidArgumentError(
            f"dask= takes True, a dask.distributed Client, a scheduler address or one of {list(LOCAL_SCHEDULERS)}; "
            f"got {target!r}"
        )


def _is_client(obj: Any) -> bool:
    return any(f"{c.__module__}.{c.__name__}" == "distributed.client.Client" for c in type(obj).__mro__)


def _current_client() -> Any:
    """The default ``dask.distributed`` client of this process, if there is one."""
    if "distributed" not in sys.modules:
        return None
    from dask.distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A ``dask.distributed.Client`` for one job, closed afterwards: connected to the
    scheduler at ``scheduler`` (``tcp://host:8786``), or on a new ``LocalCluster`` of
    ``workers`` processes with one thread each.  Neither given: ``None`` (score in this
    process).  What the CLI's ``--dask-scheduler`` and ``--workers`` use."""
    if scheduler is not None and workers is not None:
        raise InvalidArgumentError("give a Dask scheduler address or a number of workers, not both")
    if scheduler is None and workers is None:
        yield None
        return
    Client, LocalCluster = _distributed()
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise InvalidArgumentError(f"workers must be a positive integer, got {workers!r}")
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            yield client
        return
    try:
        client = Client(scheduler, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise PredictorError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    with client:
        yield client


def _distributed() -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise PredictorError("a Dask cluster needs dask.distributed: pip install 'fsregistry[dask]'") from exc
    return Client, LocalCluster


def _dask_dataframe() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError as exc:
        raise PredictorError("scoring on Dask needs dask.dataframe: pip install 'fsregistry[dask]'") from exc
    return dd


# == writing a folder of Parquet parts ==========================================================


@dataclass(frozen=True)
class _WritePart:
    """``map_partitions`` function: one partition's output as ``part-NNNNN.parquet``."""

    folder: str

    def __call__(self, table: Any, partition_info: dict[str, Any] | None = None) -> pd.Series:
        import pyarrow as pa

        if partition_info is None:
            raise PredictorError("Dask did not say which partition this is; cannot name its output file")
        frame = table.to_frame() if isinstance(table, pd.Series) else table
        if len(frame):
            final = Path(self.folder) / f"part-{partition_info['number']:05d}.parquet"
            # written aside, then renamed: a part is whole or absent, even if its worker dies mid-write
            temp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
            batch._pyarrow_parquet().write_table(pa.Table.from_pandas(frame, preserve_index=False), temp)
            os.replace(temp, final)
        return pd.Series([len(frame)], dtype="int64", name="rows")


def write_dataset(scored: Any, destination: Path, runner: _Runner, progress: bool) -> tuple[Path, int]:
    """Compute ``scored`` into a folder of Parquet parts at ``destination`` (checked by
    :func:`_check_destination`): written into a temporary folder beside it, renamed into
    place when every partition succeeded (an earlier prediction output there is replaced
    then, and only then).  Returns the folder and the row count."""
    destination = Path(os.path.abspath(destination))
    temp = destination.with_name(f".{destination.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    temp.mkdir()
    try:
        with _plain_strings():
            counts = scored.map_partitions(_WritePart(str(temp)), meta=pd.Series([], dtype="int64", name="rows"))
        rows = int(runner.compute(counts.sum(), progress))
        if rows == 0:
            raise PredictorError("input has no rows; nothing to predict")
        for stray in temp.glob(".*.tmp"):  # a part whose writer was killed mid-write; its retry wrote it whole
            stray.unlink(missing_ok=True)
        _put_in_place(temp, destination)
    finally:
        _remove_tree(temp)
    return destination, rows


def _check_destination(destination: Path, source: Any) -> None:
    if destination.name.lower().endswith(".csv"):
        raise PredictorError(
            f"on Dask the output is a folder of Parquet parts; {destination.name} names a CSV file",
            path=str(destination),
        )
    if not destination.parent.is_dir():
        raise PredictorError(f"output folder {destination.parent} does not exist", path=str(destination))
    if destination.exists() and not destination.is_dir():
        raise OutputExistsError(
            f"output_path {destination} is a file; on Dask the output is a folder of Parquet parts",
            path=str(destination),
        )
    if destination.is_dir() and not _is_prediction_output(destination):
        raise OutputExistsError(
            f"output_path {destination} is a folder that holds other files than prediction parts; it is not "
            "replaced: remove it or choose another path",
            path=str(destination),
        )
    if isinstance(source, (str, os.PathLike)):
        _refuse_overlap(destination, source)


def _is_prediction_output(folder: Path) -> bool:
    """A folder this module wrote (only ``part-NNNNN.parquet`` files), or an empty one."""
    return all(entry.is_file() and _PART_RE.fullmatch(entry.name) for entry in folder.iterdir())


def _refuse_overlap(destination: Path, source: str | os.PathLike[str]) -> None:
    """Refuse an output that would replace the input, or land inside an input folder."""
    text = os.fspath(source)
    root = Path(text) if not any(c in text for c in "*?[") else None
    inputs = [root] if root is not None and root.is_dir() else parquet_files(source)
    target = destination.resolve()
    for item in inputs:
        item = item.resolve()
        if item == target or target in item.parents or item in target.parents:
            raise OutputExistsError(
                f"output_path {destination} overlaps the input {source}; writing there would replace or mix "
                "with the input. Choose another output path",
                path=str(destination),
            )


def _put_in_place(temp: Path, destination: Path) -> None:
    old = files.swap_dir_into_place(temp, destination)
    if old is not None:
        _remove_tree(old)


def _remove_tree(folder: Path) -> None:
    """Remove ``folder``; tried again when a task still finishing elsewhere added a file
    while it was being removed."""
    for _ in range(5):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return


__all__ = [
    "CACHE_SIZE",
    "LOCAL_SCHEDULERS",
    "Piece",
    "VersionPin",
    "clear_worker_cache",
    "dask_client",
    "is_dask_dataframe",
    "output_table",
    "parquet_files",
    "pin_version",
    "plan_pieces",
    "predict_batch",
    "predictor_for",
    "preload",
    "read_piece",
    "wants_dask",
    "worker_cache",
]
