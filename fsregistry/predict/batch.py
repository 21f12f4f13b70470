"""Out-of-core input and output for ``ModelPredictor.predict_batch``.

Inputs become a stream of chunks of at most ``batch_size`` rows, so memory is bounded by
the batch size, not by the input:

* a DataFrame or 2-D array is sliced (views, no copy);
* an iterable of DataFrames is consumed lazily, each frame split if it is too large;
* a CSV path is read with ``pandas.read_csv(chunksize=...)``; a Parquet path with
  ``pyarrow.parquet.ParquetFile.iter_batches(batch_size=...)`` (memory is then bounded by
  the larger of the batch size and the file's row-group size).

Only the columns the model needs (plus the caller's id columns) are read from files, and
text columns are read as text, so a CSV category such as ``"07"`` is never guessed to be
a number.

A file that lacks columns the model needs is refused before anything is read or
written, naming every missing column.

Predictions are written as they are produced, to a temporary file beside the target that
is renamed over it only when every chunk succeeded: a failed run leaves no half-written
output, and an existing file at the target is replaced only then.  An output path that is
the input file itself is refused before anything is read.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import numpy as np
import pandas as pd

from ..errors import OutputExistsError, PredictorError, SchemaError
from ..storage import processes

Chunk: TypeAlias = "pd.DataFrame | np.ndarray"

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".csv.zip")
_PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class ReadPlan:
    """Which columns to read from a file (``None``: all), which to read as text, and which
    a file must have: the model's (``required``) and the caller's id columns (``ids``)."""

    columns: tuple[str, ...] | None = None
    text_columns: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    #: columns copied to the output, never computed with (id columns that are not
    #: features): a CSV's cells are kept as written, ``NA`` and ``null`` included
    verbatim: tuple[str, ...] = ()


#: what ``pandas.read_csv`` reads as missing by default (its documented ``na_values``),
#: kept for every column but the verbatim ones
CSV_NA_VALUES = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip


def distinct_ids(id_columns: Sequence[str] | str | None) -> list[str]:
    """The id columns as a list of names, each once (a name given twice would be written
    twice, or refused by Parquet, or dropped: it is refused here, the same way for every
    output)."""
    ids = [id_columns] if isinstance(id_columns, str) else [str(c) for c in id_columns or ()]
    twice = sorted({c for c in ids if ids.count(c) > 1})
    if twice:
        raise PredictorError(f"id_columns names {', '.join(map(repr, twice))} more than once; name each column once")
    return ids


@dataclass
class Source:
    """A lazy stream of non-empty chunks, and the total row count when it is known."""

    chunks: Iterator[Chunk]
    total_rows: int | None


# -- reading ----------------------------------------------------------------------------


def open_source(X: Any, batch_size: int, plan: ReadPlan) -> Source:
    """Chunks of at most ``batch_size`` rows from any input ``predict_batch`` accepts."""
    if isinstance(X, (str, os.PathLike)):
        return _file_source(Path(X), batch_size, plan)
    if isinstance(X, (pd.DataFrame, np.ndarray)):
        return Source(_split(X, batch_size), len(X) if np.ndim(X) else None)
    if isinstance(X, (dict, pd.Series)) or _is_table_list(X):
        from .schema import as_table

        return open_source(as_table(X, None), batch_size, plan)
    if isinstance(X, Iterable):
        return Source(_from_iterable(X, batch_size), None)
    raise PredictorError(f"cannot predict on a {type(X).__name__}; pass a DataFrame, array, iterable or file path")


def _is_table_list(X: Any) -> bool:
    """A list/tuple that is one table (rows), rather than a sequence of DataFrames."""
    return isinstance(X, (list, tuple)) and not all(isinstance(x, (pd.DataFrame, np.ndarray)) for x in X)


def _split(table: Chunk, batch_size: int) -> Iterator[Chunk]:
    if np.ndim(table) == 0:
        raise PredictorError("expected a table of rows, got a scalar array")
    for start in range(0, len(table), batch_size):
        stop = start + batch_size
        yield table.iloc[start:stop] if isinstance(table, pd.DataFrame) else table[start:stop]


def _from_iterable(items: Iterable[Any], batch_size: int) -> Iterator[Chunk]:
    for item in items:
        if not isinstance(item, (pd.DataFrame, np.ndarray)):
            raise PredictorError(f"an iterable input must yield DataFrames or arrays, got a {type(item).__name__}")
        yield from _split(item, batch_size)


def _file_source(path: Path, batch_size: int, plan: ReadPlan) -> Source:
    if not path.is_file():
        raise PredictorError(f"input file {path} does not exist", path=str(path))
    name = path.name.lower()
    if name.endswith(_CSV_SUFFIXES):
        header = _csv_header(path)
        _require_columns(path, header, plan)
        return Source(_csv_chunks(path, header, batch_size, plan), None)
    if name.endswith(_PARQUET_SUFFIXES):
        return _parquet_source(path, batch_size, plan)
    raise PredictorError(f"cannot tell the format of {path}: use a .csv or .parquet suffix", path=str(path))


def _require_columns(path: Path, available: Sequence[str], plan: ReadPlan) -> None:
    """Refuse a file that lacks model or id columns, listing them all, before reading it
    (a file with none of them would otherwise look like a file with no rows)."""
    present = set(available)
    missing = [c for c in plan.required if c not in present]
    missing_ids = [c for c in plan.ids if c not in present]
    problems = [f"missing required columns: {missing}"] if missing else []
    problems += [f"id columns not in the input file: {missing_ids}"] if missing_ids else []
    if problems:
        raise SchemaError(
            f"input file {path.name} does not match the model's schema: {'; '.join(problems)}", path=str(path)
        )


def _wanted(available: Sequence[str], plan: ReadPlan) -> list[str] | None:
    """The file's columns to read: all, or those the plan names (in file order)."""
    if plan.columns is None:
        return None
    wanted = set(plan.columns)
    return [c for c in available if c in wanted]


def _csv_header(path: Path) -> list[str]:
    try:
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except pd.errors.EmptyDataError as exc:
        raise PredictorError(f"input file {path} is empty (not even a header line)", path=str(path)) from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise PredictorError(f"cannot read {path} as CSV: {exc}", path=str(path)) from exc


def _csv_chunks(path: Path, header: list[str], batch_size: int, plan: ReadPlan) -> Iterator[pd.DataFrame]:
    text = {c: str for c in plan.text_columns if c in header}
    wanted = _wanted(header, plan)
    missing: dict[str, Any] = {}
    if any(c in header for c in plan.verbatim):  # every other column reads missing values as pandas does
        kept = [c for c in (wanted or header) if c not in plan.verbatim]
        missing = {"keep_default_na": False, "na_values": {c: list(CSV_NA_VALUES) for c in kept}}
    try:
        with pd.read_csv(path, chunksize=batch_size, usecols=wanted, dtype=text or None, **missing) as reader:
            for chunk in reader:
                if len(chunk):
                    yield chunk
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise PredictorError(f"cannot read {path} as CSV: {exc}", path=str(path)) from exc


def _parquet_source(path: Path, batch_size: int, plan: ReadPlan) -> Source:
    pq = _pyarrow_parquet()
    handle = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering caches every row group read (grows with the file)
    try:
        _require_columns(path, handle.schema_arrow.names, plan)
    except SchemaError:
        handle.close()
        raise
    columns = _wanted(handle.schema_arrow.names, plan)
    return Source(_parquet_chunks(handle, batch_size, columns), handle.metadata.num_rows)


def _parquet_chunks(handle: Any, batch_size: int, columns: list[str] | None) -> Iterator[pd.DataFrame]:
    try:
        for record_batch in handle.iter_batches(batch_size=batch_size, columns=columns):
            if record_batch.num_rows:
                yield record_batch.to_pandas()
    finally:
        handle.close()


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise PredictorError("Parquet needs pyarrow: pip install 'fsregistry[parquet]'") from exc
    return pq


def with_progress(source: Source, enabled: bool) -> Iterator[Chunk]:
    """The source's chunks, counted on a tqdm bar when ``enabled`` (tqdm is an optional extra)."""
    if not enabled:
        return source.chunks
    try:
        from tqdm import tqdm
    except ImportError as exc:
        raise PredictorError("progress=True needs tqdm: pip install 'fsregistry[progress]'") from exc
    return _counted(source.chunks, tqdm(total=source.total_rows, unit="rows", desc="predict_batch"))


def _counted(chunks: Iterator[Chunk], bar: Any) -> Iterator[Chunk]:
    try:
        for chunk in chunks:
            yield chunk
            bar.update(len(chunk))
    finally:
        bar.close()


# -- the prediction table ---------------------------------------------------------------


def prediction_columns(predictions: np.ndarray, kind: str, classes: Sequence[Any] | None) -> list[str]:
    """Output column names: ``probability`` (binary), ``probability_<class>`` (multiclass),
    ``prediction`` (labels, values) or ``prediction_<i>`` (several regression targets)."""
    width = 1 if predictions.ndim == 1 else predictions.shape[1]
    stem = "probability" if kind == "probabilities" else "prediction"
    if width == 1:
        return [stem]
    if kind == "probabilities" and classes is not None and len(classes) == width:
        return [f"{stem}_{c}" for c in classes]
    return [f"{stem}_{i}" for i in range(width)]


def id_frame(chunk: Chunk, id_columns: Sequence[str]) -> pd.DataFrame | None:
    """The passthrough id columns of one raw input chunk (``None`` when none were asked)."""
    if not id_columns:
        return None
    if not isinstance(chunk, pd.DataFrame):
        raise SchemaError(f"id_columns {list(id_columns)} need named columns; the input is an array")
    missing = [c for c in id_columns if c not in chunk.columns]
    if missing:
        raise SchemaError(f"id columns not in the input: {missing}")
    return chunk.loc[:, list(id_columns)].reset_index(drop=True)


def prediction_frame(ids: pd.DataFrame | None, predictions: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """One output chunk: the id columns, then the prediction column(s)."""
    values = predictions.reshape(len(predictions), -1)
    preds = pd.DataFrame({name: values[:, i] for i, name in enumerate(columns)})
    if ids is None:
        return preds
    clash = [c for c in columns if c in ids.columns]
    if clash:
        raise PredictorError(f"id columns {clash} clash with the prediction column names {columns}")
    return pd.concat([ids, preds], axis=1)


# -- writing ----------------------------------------------------------------------------


class PredictionWriter(Protocol):
    """Appends prediction chunks to one file."""

    def write(self, frame: pd.DataFrame) -> None: ...

    def close(self) -> None: ...


class CsvWriter:
    """CSV with one header line, appended chunk by chunk."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._header = True

    def write(self, frame: pd.DataFrame) -> None:
        frame.to_csv(self._fh, header=self._header, index=False)
        self._header = False

    def close(self) -> None:
        self._fh.close()


class ParquetSink:
    """Parquet, one row group per chunk; later chunks are cast to the first chunk's schema."""

    def __init__(self, path: Path) -> None:
        self._pq = _pyarrow_parquet()
        self._path = path
        self._writer: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(self._path, table.schema)
        elif table.schema != self._writer.schema:
            table = self._conform(table)
        self._writer.write_table(table)

    def _conform(self, table: Any) -> Any:
        """Cast a later chunk to the first chunk's column types, or say which column differs."""
        import pyarrow as pa

        try:
            return table.cast(self._writer.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
            changed = [
                f"{f.name} ({self._writer.schema.field(f.name).type} -> {f.type})"
                for f in table.schema
                if f.name in self._writer.schema.names and self._writer.schema.field(f.name).type != f.type
            ]
            raise PredictorError(
                f"cannot append to {self._path.name}: column types changed between batches: "
                f"{', '.join(changed) or exc}; write CSV, or make the column's type consistent"
            ) from exc

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def writer_for(path: Path) -> type[CsvWriter] | type[ParquetSink]:
    """The writer class for ``path``'s suffix (``.csv`` or ``.parquet``/``.pq``)."""
    name = path.name.lower()
    if name.endswith(".csv"):
        return CsvWriter
    if name.endswith(_PARQUET_SUFFIXES):
        return ParquetSink
    raise PredictorError(f"cannot write predictions to {path}: use a .csv or .parquet suffix", path=str(path))


def refuse_input_as_output(source: Any, output: Path) -> None:
    """Refuse an ``output`` that is the input file itself (also through a link or another
    spelling of its path): replacing it would destroy the input."""
    if not isinstance(source, (str, os.PathLike)):
        return
    if _same_file(Path(source), output):
        raise OutputExistsError(
            f"output_path {output} is the input file {source}; writing the predictions there would "
            "replace the input. Choose another output path",
            path=str(output),
        )


def _temp_name(path: Path) -> Path:
    """Where a write of ``path`` goes first: named after ``path``, this machine and this
    process (a cleanup can then tell which temporary files are whose)."""
    return path.with_name(f".{path.name}.{_host_tag()}-{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")


def _host_tag() -> str:
    import hashlib
    import socket

    return hashlib.blake2b(socket.gethostname().encode(), digest_size=4).hexdigest()


def _remove_abandoned_temps(path: Path) -> None:
    """Remove the temporary files that earlier writes of ``path`` on this machine left
    when their process was killed (``kill -9`` skips every cleanup): those of a process
    that no longer runs.  A write in flight keeps its own, and so does every write from
    another machine sharing the folder (its processes cannot be asked)."""
    own = re.compile(rf"\.{re.escape(path.name)}\.{_host_tag()}-(\d+)\.[0-9a-f]{{8}}\.partial")
    for entry in os.scandir(path.parent):
        match = own.fullmatch(entry.name)
        if match and not processes.alive(int(match.group(1))) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()


@contextmanager
def atomic_output(path: Path) -> Iterator[PredictionWriter]:
    """A writer on a temporary file beside ``path``, renamed over ``path`` on success only
    (an existing file at ``path`` is replaced then, and only then)."""
    writer_cls = writer_for(path)
    if not path.parent.is_dir():
        raise PredictorError(f"output folder {path.parent} does not exist", path=str(path))
    if path.is_dir():
        raise PredictorError(f"output_path {path} is a folder; name a .csv or .parquet file", path=str(path))
    _remove_abandoned_temps(path)
    temp = _temp_name(path)
    writer = writer_cls(temp)
    try:
        yield writer
        writer.close()
        os.replace(temp, path)
    finally:
        writer.close()
        temp.unlink(missing_ok=True)
