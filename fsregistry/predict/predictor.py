"""``ModelPredictor``: load a version from any registry and predict with it.

The seed's inference path, ``input -> schema -> preprocessor.transform -> model ->
predictions``, on top of nothing but :class:`~fsregistry.base.BaseModelRegistry`, so it
works with :class:`~fsregistry.CustomModelRegistry`, an in-memory test registry or any
other implementation.

Every failure is an :class:`~fsregistry.errors.RegistryError`: input that does not fit
the model's schema is a :class:`~fsregistry.errors.SchemaError`; anything else the
predictor cannot serve (no model loaded, empty input, a framework that fails on the data)
is a :class:`~fsregistry.errors.PredictorError` chained to the framework's own exception.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, overload

import numpy as np
import pandas as pd

from ..base import BaseModelRegistry
from ..errors import ClassOrderWarning, InvalidArgumentError, PredictorError, RegistryError
from . import batch
from .loaded import LoadedModel, build_loaded, feature_names_out
from .schema import (
    Findings,
    InputSchema,
    ValidationReport,
    as_table,
    enforce,
    inspect,
    inspect_unschematized,
    reads_as_text,
    refuse_infinite,
)

if TYPE_CHECKING:
    import dask.dataframe as dd

R = TypeVar("R")


class ModelInfo(TypedDict):
    """What :meth:`ModelPredictor.get_model_info` returns (a plain dict, typed for checkers
    and editors)."""

    model_type: str
    model_class: str
    flavor: str | None
    has_preprocessor: bool
    preprocessor_type: str | None
    name: str | None
    version: int | None
    stage: str | None
    aliases: list[str]
    run_id: str | None
    uri: str | None
    feature_names: dict[str, Any]
    signature: dict[str, Any] | None
    schema: dict[str, Any] | None
    task: str
    classes: Any
    output_kind: str | None
    metrics: dict[str, Any]
    params: dict[str, Any]
    tags: dict[str, Any]
    environment: Any


class ModelPredictor:
    """Predict with a model version from any :class:`BaseModelRegistry`.

    Two constructor forms, as in the seed: ``ModelPredictor(registry)`` and
    ``ModelPredictor(config, app_logger, error_handler, registry)`` (``registry=`` works
    as a keyword in both).  ``app_logger`` defaults to the ``fsregistry.predictor``
    logger; ``error_handler`` (an object with ``handle_error(exc, context)``, or a
    callable) is told about every :class:`PredictorError` / :class:`SchemaError` before
    it is raised.
    """

    def __init__(
        self,
        config: Any = None,
        app_logger: Any = None,
        error_handler: Any = None,
        registry: BaseModelRegistry | None = None,
    ) -> None:
        if registry is None and isinstance(config, BaseModelRegistry):
            config, registry = None, config
        if not isinstance(registry, BaseModelRegistry):
            raise PredictorError(_registry_required(config, registry))
        self.registry = registry
        self.config = config
        self.logger: Any = app_logger if app_logger is not None else logging.getLogger("fsregistry.predictor")
        self.error_handler = error_handler
        self._loaded: LoadedModel | None = None
        self._last_extras: tuple[str, ...] = ()
        self._told_unseen: set[str] = set()
        self._load_options: dict[str, Any] = {}  # what load_model got: Dask workers load the same way

    # -- loading ------------------------------------------------------------------------

    def load_model(self, model_identifier: str, **options: Any) -> ModelPredictor:
        """Load the version ``model_identifier`` names (any form the registry resolves).

        ``options`` go to the registry's ``load_model`` (e.g. ``device="cuda:0"`` to put a
        PyTorch model on a GPU with ``CustomModelRegistry``).  The previously loaded model
        stays in place if this load fails.  Returns ``self``.
        """
        record = self.registry.load_model(model_identifier, **options)
        with self._reporting("load_model"):
            self._loaded = build_loaded(record)
        self._told_unseen = set()
        self._load_options = dict(options)
        label = record.get("uri") or model_identifier
        self.logger.info("loaded %s (%s)", label, type(self._loaded.model).__name__)
        note = self._loaded.adapter.note
        if note:  # e.g. class indexes decoded in assumed (sorted) label order
            warnings.warn(f"{label}: {note}", ClassOrderWarning, stacklevel=2)
        return self

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    @property
    def model(self) -> Any:
        """The loaded model object."""
        return self._require().model

    @property
    def preprocessor(self) -> Any:
        """The loaded fitted preprocessor, or ``None``."""
        return self._require().preprocessor

    def _require(self) -> LoadedModel:
        if self._loaded is None:
            raise PredictorError("no model loaded; call load_model(identifier) first")
        return self._loaded

    # -- predicting ---------------------------------------------------------------------

    def predict(self, X: Any, return_probabilities: bool | None = None) -> np.ndarray:
        """Predictions for ``X`` (DataFrame, array, dict of columns, list of row dicts).

        Classifiers: ``return_probabilities`` ``None`` (default) or ``True`` gives the
        positive-class probability ``(n,)`` for two classes, ``(n, k)`` for more;
        ``False`` gives the original class labels.  Regressors: values (``None`` or
        ``False``); asking them for probabilities is a :class:`PredictorError`.  Any
        other value than ``None``, ``True`` or ``False`` (numpy booleans included) is an
        :class:`InvalidArgumentError`.
        """
        with self._reporting("predict"):
            flag = _probability_flag(return_probabilities)
            return self._predict_table(self._require(), X, flag)

    def _predict_table(self, loaded: LoadedModel, X: Any, return_probabilities: bool | None) -> np.ndarray:
        features = self._features(loaded, X)
        transformed = self._transform(loaded, features)
        return _guarded("the model's predict", lambda: _output(loaded, transformed, return_probabilities))

    def _features(self, loaded: LoadedModel, X: Any) -> pd.DataFrame | np.ndarray:
        table = as_table(X, loaded.schema)
        if loaded.schema is None or isinstance(table, np.ndarray):
            refuse_infinite(inspect_unschematized(table))
            return table
        frame, findings = enforce(table, loaded.schema)
        self._log_extras(findings.extra)
        self._log_unseen(findings.unseen)
        return frame.to_numpy() if loaded.schema.input_type == "ndarray" else frame

    def _transform(self, loaded: LoadedModel, features: pd.DataFrame | np.ndarray) -> Any:
        if loaded.preprocessor is None:
            return features
        return _guarded("the preprocessor's transform", lambda: loaded.preprocessor.transform(features))

    def _log_extras(self, extras: Sequence[str]) -> None:
        """Log dropped columns once per distinct set (not once per batch)."""
        if extras and tuple(extras) != self._last_extras:
            self.logger.info("dropping columns the model was not trained on: %s", list(extras))
        self._last_extras = tuple(extras)

    def _log_unseen(self, unseen: Mapping[str, Sequence[Any]]) -> None:
        """Warn once per column (per loaded model) about values outside the training
        categories, which are given to the model as missing values."""
        for column, examples in unseen.items():
            if column not in self._told_unseen:
                self._told_unseen.add(column)
                self.logger.warning(
                    "column %r has values that are not among the training categories (e.g. %s); "
                    "they are given to the model as missing values",
                    column,
                    list(examples),
                )

    @overload
    def predict_batch(
        self,
        X: dd.DataFrame,
        batch_size: int = ...,
        return_probabilities: bool | None = ...,
        output_path: None = ...,
        id_columns: Sequence[str] | None = ...,
        progress: bool = ...,
        *,
        dask: Any = ...,
    ) -> Any: ...

    @overload
    def predict_batch(
        self,
        X: Any,
        batch_size: int = ...,
        return_probabilities: bool | None = ...,
        output_path: None = ...,
        id_columns: Sequence[str] | None = ...,
        progress: bool = ...,
        *,
        dask: Any = ...,
    ) -> np.ndarray: ...

    @overload
    def predict_batch(
        self,
        X: Any,
        batch_size: int = ...,
        return_probabilities: bool | None = ...,
        *,
        output_path: str | Path,
        id_columns: Sequence[str] | None = ...,
        progress: bool = ...,
        dask: Any = ...,
    ) -> Path: ...

    @overload
    def predict_batch(
        self,
        X: Any,
        batch_size: int,
        return_probabilities: bool | None,
        output_path: str | Path,
        id_columns: Sequence[str] | None = ...,
        progress: bool = ...,
        *,
        dask: Any = ...,
    ) -> Path: ...

    def predict_batch(
        self,
        X: Any,
        batch_size: int = 1000,
        return_probabilities: bool | None = None,
        output_path: str | Path | None = None,
        id_columns: Sequence[str] | None = None,
        progress: bool = False,
        *,
        dask: Any = None,
    ) -> Any:
        """``predict`` over ``X`` in chunks of ``batch_size`` rows, with bounded memory.

        ``X`` may also be an iterable of DataFrames or a CSV/Parquet path (read in
        chunks).  Without ``output_path`` the predictions are returned as one array (equal
        to ``predict(X)``); with it they are written chunk by chunk (CSV or Parquet by
        suffix, after the ``id_columns`` passed through from the input) and the output
        path is returned.  ``progress=True`` shows a tqdm bar (``fsregistry[progress]``).

        On Dask (:mod:`fsregistry.predict.distributed`, ``fsregistry[dask]``): a Dask DataFrame
        ``X`` gives a lazy Dask Series (a DataFrame for several prediction columns or with
        ``id_columns``), or with ``output_path`` is written as a folder of Parquet parts.
        ``dask=`` (``True``, a ``dask.distributed.Client``, a scheduler address, or
        ``"threads"``/``"processes"``/``"synchronous"``) also runs a Parquet data set (a
        file, folder or glob, in partitions of whole row groups up to ``batch_size`` rows)
        or a DataFrame there.  Workers load the version this predictor holds from the
        registry, by name, version and file hashes; the model is never in the task graph.
        """
        with self._reporting("predict_batch"):
            loaded = self._require()
            flag = _probability_flag(return_probabilities)
            from . import distributed

            if distributed.wants_dask(X, dask):
                return distributed.predict_batch(
                    self,
                    loaded,
                    X,
                    batch_size=_batch_size(batch_size),
                    return_probabilities=flag,
                    output_path=output_path,
                    id_columns=id_columns,
                    progress=progress,
                    dask=dask,
                )
            ids = _id_list(id_columns, output_path)
            if output_path is not None:
                batch.refuse_input_as_output(X, Path(output_path))
            source = batch.open_source(X, _batch_size(batch_size), _read_plan(loaded.schema, ids))
            chunks = batch.with_progress(source, progress)
            if output_path is None:
                return self._collect(loaded, chunks, flag)
            return self._stream(loaded, chunks, flag, Path(output_path), ids)

    def _collect(self, loaded: LoadedModel, chunks: Any, return_probabilities: bool | None) -> np.ndarray:
        parts = [self._predict_table(loaded, chunk, return_probabilities) for chunk in chunks]
        if not parts:
            raise PredictorError("input has no rows; nothing to predict")
        return np.concatenate(parts)

    def _stream(
        self, loaded: LoadedModel, chunks: Any, return_probabilities: bool | None, path: Path, ids: list[str]
    ) -> Path:
        kind = _output_name(loaded, return_probabilities)
        rows = 0
        with batch.atomic_output(path) as sink:
            for chunk in chunks:
                predictions = self._predict_table(loaded, chunk, return_probabilities)
                columns = batch.prediction_columns(predictions, kind, loaded.adapter.classes)
                sink.write(batch.prediction_frame(batch.id_frame(chunk, ids), predictions, columns))
                rows += len(predictions)
            if rows == 0:
                raise PredictorError("input has no rows; nothing to predict")
        self.logger.info("wrote %d predictions to %s", rows, path)
        return path

    # -- validating and describing ------------------------------------------------------

    def validate_input(self, X: Any) -> ValidationReport:
        """Check ``X`` against the loaded model's schema without predicting; never raises
        for bad data.  Returns ``valid``, ``n_rows``, ``missing_features``,
        ``extra_features``, ``duplicate_features``, ``dtype_errors``, ``coercions``,
        ``errors``, ``unseen_categories`` (values of category columns that are not among
        the training categories, which predict treats as missing), ``infinite_values``
        (columns holding ``inf`` or ``-inf``, which predict refuses) and ``schema_source``."""
        with self._reporting("validate_input"):
            loaded = self._require()
        report = _findings(loaded.schema, X).to_dict()
        report["schema_source"] = loaded.schema.source if loaded.schema is not None else None
        return report

    def get_model_info(self) -> ModelInfo:
        """What is loaded: type, flavor, identity, stage, features, signature, metrics."""
        with self._reporting("get_model_info"):
            loaded = self._require()
        record = loaded.record
        metadata = record.get("metadata") or {}
        return {
            "model_type": type(loaded.model).__name__,
            "model_class": f"{type(loaded.model).__module__}.{type(loaded.model).__qualname__}",
            "flavor": record.get("flavor"),
            "has_preprocessor": loaded.preprocessor is not None,
            "preprocessor_type": type(loaded.preprocessor).__name__ if loaded.preprocessor is not None else None,
            "name": record.get("name"),
            "version": record.get("version"),
            "stage": record.get("stage"),
            "aliases": list(record.get("aliases") or []),
            "run_id": record.get("run_id"),
            "uri": record.get("uri"),
            "feature_names": {"in": loaded.feature_names_in, "out": feature_names_out(loaded)},
            "signature": loaded.signature.to_dict() if loaded.signature is not None else None,
            "schema": loaded.schema.to_dict() if loaded.schema is not None else None,
            "task": loaded.adapter.task,
            "classes": loaded.adapter.classes,
            "output_kind": loaded.output_kind,
            "metrics": dict(metadata.get("metrics") or {}),
            "params": dict(metadata.get("params") or {}),
            "tags": dict(metadata.get("tags") or {}),
            "environment": record.get("environment"),
        }

    @contextmanager
    def _reporting(self, context: str) -> Iterator[None]:
        """Tell the seed-style error handler about every error the predictor itself raises
        (registry errors were already reported by the registry's own handler: no registry
        call runs inside this block)."""
        try:
            yield
        except RegistryError as exc:
            self._notify(exc, context)
            raise

    def _notify(self, exc: BaseException, context: str) -> None:
        """Hand ``exc`` to the error handler; a broken handler never hides the error."""
        handler = self.error_handler
        hook = getattr(handler, "handle_error", None)
        target = hook if callable(hook) else handler if callable(handler) else None
        if target is None:
            return
        try:
            target(exc, f"ModelPredictor.{context}")
        except Exception:
            self.logger.exception("error_handler failed while handling %r", exc)


# -- prediction helpers -------------------------------------------------------------------


def _guarded(what: str, call: Callable[[], R]) -> R:
    """Run a framework call; its unexpected exceptions become a chained PredictorError."""
    try:
        return call()
    except (RegistryError, MemoryError):
        raise
    except Exception as exc:
        raise PredictorError(f"{what} failed: {type(exc).__name__}: {exc}") from exc


def _output(loaded: LoadedModel, transformed: Any, return_probabilities: bool | None) -> np.ndarray:
    adapter = loaded.adapter
    if adapter.task == "unknown":
        raise PredictorError(
            "the torch model does not declare its output: set model.output_kind (or the version tag "
            "output_kind) to 'logits', 'probabilities' or 'values'"
        )
    if adapter.task == "regressor":
        if return_probabilities:
            raise PredictorError(
                f"{type(loaded.model).__name__} is a regressor; it has no probabilities. "
                "Call predict(X) or predict(X, return_probabilities=False)"
            )
        return adapter.values(transformed)
    if return_probabilities is False:
        return adapter.labels(transformed)
    proba = adapter.probabilities(transformed)
    return proba[:, -1] if proba.shape[1] <= 2 else proba


def _output_name(loaded: LoadedModel, return_probabilities: bool | None) -> str:
    """``probabilities`` or ``predictions``: what the output columns hold."""
    wants_proba = loaded.adapter.task == "classifier" and return_probabilities is not False
    return "probabilities" if wants_proba else "predictions"


def _findings(schema: InputSchema | None, X: Any) -> Findings:
    try:
        table = as_table(X, schema)
    except RegistryError as exc:
        return Findings(n_rows=_row_count(X), problems=[str(exc)])
    if schema is None or isinstance(table, np.ndarray):
        return inspect_unschematized(table)
    return inspect(table, schema)


def _row_count(X: Any) -> int:
    if isinstance(X, (str, bytes)):
        return 0
    try:
        return len(X)
    except TypeError:
        return 0


def _probability_flag(value: Any) -> bool | None:
    """``return_probabilities`` as ``None``, ``True`` or ``False``; ``0``, ``"yes"``... are
    refused rather than guessed (``0`` is not ``False`` here)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise InvalidArgumentError(f"return_probabilities must be None, True or False, got {value!r}")


def _registry_required(config: Any, registry: Any) -> str:
    forms = "ModelPredictor(registry) or ModelPredictor(config, app_logger, error_handler, registry)"
    if registry is None:
        given = "" if config is None else f" (the first argument, a {type(config).__name__}, is taken as config)"
        return (
            f"ModelPredictor needs a registry to load models from, a BaseModelRegistry such as "
            f"CustomModelRegistry(root){given}; pass {forms}"
        )
    return f"ModelPredictor needs a registry (a BaseModelRegistry), got a {type(registry).__name__}; pass {forms}"


def _batch_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise PredictorError(f"batch_size must be a positive integer, got {value!r}")
    return int(value)


def _id_list(id_columns: Sequence[str] | None, output_path: Any) -> list[str]:
    if id_columns is None:
        return []
    ids = batch.distinct_ids(id_columns)
    if output_path is None:
        raise PredictorError("id_columns are written next to the predictions; they need output_path")
    return ids


def _read_plan(schema: InputSchema | None, ids: list[str]) -> batch.ReadPlan:
    """Read only the schema's and id columns from files, text columns as text.  Id columns
    that are not features are read as text too: they are copied, not computed with, and a
    game id such as ``0022300001`` must keep its leading zeros."""
    features = set(schema.names) if schema is not None else set()
    id_text = tuple(c for c in ids if c not in features)
    if schema is None:
        return batch.ReadPlan(text_columns=id_text, ids=tuple(ids), verbatim=id_text)
    columns = tuple(dict.fromkeys([*schema.names, *ids]))
    text = tuple(c.name for c in schema.columns if reads_as_text(c)) + id_text
    return batch.ReadPlan(
        columns=columns, text_columns=text, required=tuple(schema.names), ids=tuple(ids), verbatim=id_text
    )
