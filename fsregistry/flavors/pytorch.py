"""PyTorch flavor: three formats, chosen per save (``torch_format=``), documented in docs/flavors.md.

``torchscript``
    ``torch.jit.save`` of a ``ScriptModule`` (a plain module is scripted first).  Code and
    weights in one file, loaded without the model's Python class and without pickle.
    The default for ``ScriptModule`` objects.
``state_dict``
    ``torch.save(model.state_dict())``, loaded with ``weights_only=True`` (tensors only, no
    code), so it loads in a registry that refuses pickle.  Needs a ``model_factory``: a
    zero-argument callable returning the empty module.  When that callable is importable
    (a module-level function or class, not from ``__main__``) its import path is recorded.
    On load the factory comes, in this order, from ``model_factory=`` given to
    ``load_model``, from :func:`register_model_factory` in this process, or - only where
    pickle is allowed, since importing and calling a stored name runs code as unpickling
    does - from the recorded import path.  The default when ``model_factory`` is given.
``module``
    ``torch.save`` of the whole ``nn.Module``, loaded with ``weights_only=False``: pickle,
    refused when pickle is refused; the module's classes must be importable where it loads.
    The default otherwise.

Tensors are always written from the CPU (a module on a GPU is copied to the CPU first, the
caller's module is left untouched), so a model trained on a GPU loads on a CPU-only box.
Loading maps tensors to ``LoadOptions.device`` (``"cpu"`` by default) and returns the
module in eval mode.
"""

from __future__ import annotations

import copy
import errno
import importlib
import sys
import types
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, cast

from ..errors import FlavorError, ModelFactoryWarning, PickleRefusedError, PredictorError
from ..storage import files
from . import _common
from .base import LoadOptions, ModelOutputs, SavedModel, StreamSave, class_path, type_paths
from .predicting import sigmoid, softmax

#: ``torch_format`` value -> format string recorded in ``meta.json``
FORMATS = {"torchscript": "torchscript", "state_dict": "torch-state-dict", "module": "torch-module"}
_OPTIONS = ("torch_format", "model_factory")
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins", "__main__"}

#: factories trusted in this process for ``state_dict`` loads, by recorded ``module:qualname``
_trusted_factories: dict[str, Callable[[], Any]] = {}


def register_model_factory(factory: Callable[[], Any], name: str | None = None) -> str:
    """Trust ``factory`` to build the empty module of ``state_dict`` versions that recorded
    ``name`` (by default the factory's own ``module:qualname``, which is what a save records).

    A registry that refuses pickle never imports a recorded name; registering the factory
    once (at the top of a scoring service, say) lets such a registry load those versions
    without ``model_factory=`` on every call.  Returns the name it is registered under.
    """
    if not callable(factory):
        raise FlavorError(f"model_factory must be a zero-argument callable returning the module, not {factory!r}")
    key = name if name is not None else declared_name(factory)
    if not isinstance(key, str) or ":" not in key:
        raise FlavorError(
            f"{factory!r} has no module:qualname a save would record (a lambda or a local function); "
            "pass name='module:qualname' as recorded in meta.json"
        )
    _trusted_factories[key] = factory
    return key


def unregister_model_factory(name: str) -> None:
    """Forget a factory added with :func:`register_model_factory` (a missing name is fine)."""
    _trusted_factories.pop(name, None)


def declared_name(factory: Any) -> str | None:
    """``"module:qualname"`` as ``factory`` declares it, importing nothing; ``None`` for a
    lambda, a local function or an object without those attributes."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    return f"{module}:{qualname}"


class TorchFlavor:
    """``torch.nn.Module`` (and ``ScriptModule``) as TorchScript, state_dict or whole module."""

    name = "torch"
    extra = "torch"
    packages: tuple[str, ...] = ("torch",)

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        """Any subclass of ``torch.nn.Module``, scripted and traced modules included."""
        return any(p.startswith("torch.") and p.rsplit(".", 1)[-1] == "Module" for p in type_paths)

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        """Save in ``torch_format`` (or the default for this model; see the module docs)."""
        return _saver(model, kwargs)(path)

    def stream_saver(self, model: Any, **kwargs: Any) -> StreamSave | None:
        """``state_dict`` and ``module`` go to the stream (``torch.save`` writes one as fast
        as a file); TorchScript to a path (``torch.jit.save`` to a stream first builds the
        whole archive in memory, several times slower)."""
        save_to = _saver(model, kwargs)
        return None if save_to.format == "torchscript" else save_to

    def loads_with_pickle(self, saved: SavedModel) -> bool:
        """Only ``module`` unpickles; ``state_dict`` loads with ``weights_only=True`` and
        TorchScript is not pickle (the load path is chosen by the same recorded format)."""
        return saved.options.get("torch_format") not in ("torchscript", "state_dict")

    def recorded_code(self, saved: SavedModel) -> tuple[str, ...]:
        """The import path a ``state_dict`` version records as its factory, if any: code
        that a load would import and call where pickle is allowed."""
        factory = saved.options.get("factory")
        if saved.options.get("torch_format") == "state_dict" and isinstance(factory, str) and factory:
            return (f"model_factory {factory}",)
        return ()

    def outputs(self, model: Any, declared_output_kind: Callable[[], str | None]) -> ModelOutputs | None:
        """A module cannot say whether its output is logits, probabilities or plain values,
        so it predicts as it declares (``output_kind``); undeclared, its task is unknown."""
        if _MODULE_PATH not in type_paths(model):
            return None
        return TorchOutputs(model, declared_output_kind())

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        """Load onto ``options.device`` (default CPU) and switch to eval mode."""
        torch = _common.require("torch", "loading this PyTorch model")
        device = options.device or "cpu"
        fmt = saved.options.get("torch_format")
        if fmt == "torchscript":
            model = torch.jit.load(str(path), map_location=device)
        elif fmt == "state_dict":
            model = _load_state_dict(torch, path, saved, options, device)
        elif fmt == "module":
            model = _load_module(torch, path, device)
        else:
            raise FlavorError(f"unknown torch format {fmt!r} in meta.json (known: {', '.join(FORMATS)})")
        model.eval()
        return model


@dataclass(frozen=True)
class _Saver:
    """One validated save: the format chosen, and how to write it to a path or a stream."""

    torch: Any
    model: Any
    format: str
    factory: Any

    def __call__(self, target: Any) -> SavedModel:
        torch, model, fmt = self.torch, self.model, self.format
        options: dict[str, Any] = {"torch_format": fmt, "saved_from_device": _source_device(model)}
        if fmt == "torchscript":
            saved_class = _save_script(torch, model, target, options)
        elif fmt == "state_dict":
            saved_class = _save_state_dict(torch, model, target, self.factory, options)
        else:
            saved_class = _save_module(torch, model, target)
        return SavedModel(FORMATS[fmt], uses_pickle=fmt == "module", model_class=saved_class, options=options)


def _saver(model: Any, kwargs: dict[str, Any]) -> _Saver:
    """Check the save options; the module's own checks run when it is written."""
    _common.reject_unknown(kwargs, TorchFlavor.name, _OPTIONS)
    torch = _common.require("torch", "saving a PyTorch model")
    factory = kwargs.get("model_factory")
    return _Saver(torch, model, _choose_format(torch, model, kwargs.get("torch_format"), factory), factory)


def _choose_format(torch: Any, model: Any, requested: str | None, factory: Any) -> str:
    """The caller's ``torch_format``, else TorchScript / state_dict / module (module docs)."""
    if requested is not None and requested not in FORMATS:
        raise FlavorError(f"torch_format must be one of {', '.join(FORMATS)}, not {requested!r}")
    fmt = requested or (
        "torchscript" if isinstance(model, torch.jit.ScriptModule) else "state_dict" if factory else "module"
    )
    if factory is not None and fmt != "state_dict":
        raise FlavorError(f"model_factory is used only with torch_format='state_dict', not {fmt!r}")
    if factory is not None and not callable(factory):
        raise FlavorError(f"model_factory must be a zero-argument callable returning the module, not {factory!r}")
    return fmt


def _source_device(model: Any) -> str:
    """Device of the module's first parameter or buffer (``"cpu"`` for one with none)."""
    for tensor in _tensors(model):
        return str(tensor.device)
    return "cpu"


def _tensors(model: Any) -> Any:
    yield from model.parameters()
    yield from model.buffers()


def _off_cpu(model: Any) -> bool:
    """Whether any parameter or buffer lives off the CPU (on a GPU, say)."""
    return any(t.device.type != "cpu" for t in _tensors(model))


def _on_cpu(model: Any) -> Any:
    """``model`` itself when it is on the CPU, else a CPU copy (the caller's module is not moved)."""
    return copy.deepcopy(model).to("cpu") if _off_cpu(model) else model


# -- torchscript ------------------------------------------------------------------


def _save_script(torch: Any, model: Any, path: Path, options: dict[str, Any]) -> str:
    model = _on_cpu(model)
    if not isinstance(model, torch.jit.ScriptModule):
        options["scripted_from"] = class_path(model)
        try:
            model = torch.jit.script(model)
        except Exception as exc:  # TorchScript raises several unrelated types
            raise FlavorError(
                f"cannot script {class_path(model)} for torch_format='torchscript' ({exc}); "
                "use torch_format='state_dict' with a model_factory, or 'module'"
            ) from exc
    _require_room(torch, model, path)
    torch.jit.save(model, str(path))
    return class_path(model)


#: room left for the archive's code, constants and zip headers beyond the tensors' bytes
_SCRIPT_OVERHEAD = 1024 * 1024


def _require_room(torch: Any, model: Any, path: Path) -> None:
    """``torch.jit.save`` to a path aborts the whole process (``std::terminate``) when the
    disk fills up part-way, so refuse first, with the ``OSError`` a full disk gives, when
    the free space cannot hold the module's tensors."""
    free = files.free_bytes(path.parent)
    if free is None:
        return
    storages = {}
    for tensor in model.state_dict().values():
        if isinstance(tensor, torch.Tensor):
            storage = tensor.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
    needed = sum(storages.values()) + _SCRIPT_OVERHEAD
    if needed > free:
        raise OSError(
            errno.ENOSPC,
            f"No space left on device: the TorchScript archive needs about {needed / 1e6:.1f} MB and "
            f"{free / 1e6:.1f} MB are free on {path.parent} (torch.jit.save would abort the process)",
        )


# -- state_dict -------------------------------------------------------------------


def _save_state_dict(torch: Any, model: Any, target: Any, factory: Any, options: dict[str, Any]) -> str:
    torch.save(_cpu_state_dict(model), target)
    options["factory"] = import_path(factory) if factory is not None else None
    return class_path(model)


def _cpu_state_dict(model: Any) -> Any:
    """``model.state_dict()`` with every tensor on the CPU, version metadata kept."""
    state = model.state_dict()
    if not _off_cpu(model):
        return state
    moved: OrderedDict[str, Any] = OrderedDict((k, v.to("cpu") if hasattr(v, "to") else v) for k, v in state.items())
    metadata = getattr(state, "_metadata", None)
    if metadata is not None:
        moved._metadata = metadata  # type: ignore[attr-defined]
    return moved


def import_path(factory: Any) -> str | None:
    """``"module:qualname"`` when ``factory`` can be imported back by that name, else ``None``."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    try:
        found = _lookup(module, qualname)
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qualname}" if found is factory or found == factory else None


def _lookup(module: str, qualname: str) -> Any:
    obj: Any = importlib.import_module(module)
    for attr in qualname.split("."):
        obj = getattr(obj, attr)
    return obj


def _load_state_dict(torch: Any, path: Path, saved: SavedModel, options: LoadOptions, device: str) -> Any:
    import pickle  # torch has imported it by now; the registry's start does not need it

    factory = _factory(torch, saved.options.get("factory"), options)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # anything but tensors and plain containers
        raise FlavorError(f"model.bin is not a plain state_dict; the weights-only loader refused it: {exc}") from exc
    model = factory()
    if not isinstance(model, torch.nn.Module):
        raise FlavorError(f"model_factory returned {type(model).__name__}, not a torch.nn.Module")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise FlavorError(f"the saved state_dict does not fit the module model_factory built: {exc}") from exc
    return model.to(device)


def _factory(torch: Any, recorded: Any, options: LoadOptions) -> Callable[[], Any]:
    """The callable that builds the empty module: the caller's, else one registered in this
    process under the recorded name, else - only with ``run_recorded_code`` - the recorded
    name imported.  Chosen before ``model.bin`` is opened."""
    if recorded is not None and not isinstance(recorded, str):
        raise FlavorError(f"the recorded model_factory is not a 'module:qualname' string: {recorded!r}")
    if options.model_factory is not None:
        _check_same(options.model_factory, recorded)
        return cast(Callable[[], Any], options.model_factory)
    if recorded and recorded in _trusted_factories:
        return _trusted_factories[recorded]
    if recorded and not options.run_recorded_code:
        raise PickleRefusedError(
            f"this state_dict version names {recorded} as its model_factory, and this registry was opened "
            "with allow_pickle=False, which imports and calls nothing that stored data names; pass "
            "model_factory= to load_model (or ModelPredictor.load_model), or trust it in this process with "
            "fsregistry.register_model_factory"
        )
    return _recorded_factory(torch, recorded)


def _check_same(factory: Any, recorded: str | None) -> None:
    """Warn when the caller's factory is not the one the version was saved with (it may
    still build a module the weights fit: a renamed or moved factory, say)."""
    if not callable(factory):
        raise FlavorError(f"model_factory must be a zero-argument callable returning the module, not {factory!r}")
    given = declared_name(factory)
    if recorded and given is not None and given != recorded:
        warnings.warn(
            f"model_factory {given} is not the factory this version was saved with ({recorded})",
            ModelFactoryWarning,
            stacklevel=6,
        )


def _recorded_factory(torch: Any, recorded: str | None) -> Callable[[], Any]:
    """The factory named in ``meta.json``: a ``torch.nn.Module`` class or a plain Python
    function, from outside the standard library.

    Builtins, the standard library and other callables are refused, so an edited
    ``meta.json`` cannot make a load call, say, ``os.abort`` or ``pdb.set_trace``.  With
    files you do not trust, pass ``model_factory=`` explicitly: nothing recorded is then
    imported.
    """
    if not recorded:
        raise FlavorError(
            "this state_dict checkpoint has no importable model_factory recorded; "
            "pass model_factory= to load_model (a callable returning the empty module)"
        )
    module, _, qualname = recorded.partition(":")
    if module.split(".")[0] in _STDLIB:
        raise FlavorError(f"the recorded model_factory {recorded} is in the standard library; refusing to call it")
    try:
        found = _lookup(module, qualname)
    except (ImportError, AttributeError) as exc:
        raise FlavorError(
            f"the recorded model_factory {recorded} cannot be imported here ({exc}); pass model_factory= to load_model"
        ) from exc
    is_module_class = isinstance(found, type) and issubclass(found, torch.nn.Module)
    function = found.__func__ if isinstance(found, types.MethodType) else found
    if not is_module_class and not isinstance(function, types.FunctionType):
        raise FlavorError(f"the recorded model_factory {recorded} is not a function or a torch.nn.Module class")
    return found


# -- whole module (pickle) ------------------------------------------------------------


def _save_module(torch: Any, model: Any, target: Any) -> str:
    if isinstance(model, torch.jit.ScriptModule):
        raise FlavorError("a ScriptModule is saved with torch_format='torchscript' (the default for it), not 'module'")
    for sub in model.modules():
        cls = type(sub)
        if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
            raise FlavorError(
                f"torch_format='module' pickles classes by import path, and {cls.__module__}.{cls.__qualname__} "
                "cannot be imported in another process; move it to a module, or use torch_format='state_dict' "
                "with a model_factory, or 'torchscript'"
            )
    torch.save(_on_cpu(model), target)
    return class_path(model)


def _load_module(torch: Any, path: Path, device: str) -> Any:
    try:
        model = torch.load(path, map_location=device, weights_only=False)
    except ModuleNotFoundError as exc:
        raise _common.missing_module_error(exc, "loading this PyTorch module") from exc
    except AttributeError as exc:  # the class moved or was renamed since the save
        raise FlavorError(f"cannot rebuild the saved module here: {exc}") from exc
    if not isinstance(model, torch.nn.Module):
        raise FlavorError(f"model.bin holds a {type(model).__name__}, not a torch.nn.Module")
    return model


#: ``torch.nn.Module``'s type path, found in the MRO of every module, scripted ones included
_MODULE_PATH = "torch.nn.modules.module.Module"


class TorchOutputs:
    """A ``torch.nn.Module``: float32 input on the module's device, eval mode, no grad.

    ``output_kind`` says what its output is: ``"logits"`` (probabilities by sigmoid for one
    output, softmax for several), ``"probabilities"``, or ``"values"`` (a regressor).  Its
    labels are the most probable class; its classes are its ``classes_``, if it has them,
    else unknown until its first output (one output stands for two classes).
    """

    labels_from = "probabilities"
    n_classes: int | None = None
    objective: str | None = None

    def __init__(self, module: Any, output_kind: str | None) -> None:
        self.module = module
        self.output_kind = output_kind
        self.task = {"values": "regressor", None: "unknown"}.get(output_kind, "classifier")
        self.classes: Any = getattr(module, "classes_", None)

    def forward(self, X: Any) -> Any:
        """Run the module on ``X``; 2-D float output ``(n, outputs)``."""
        import torch

        batch = torch.from_numpy(_dense_float32(X)).to(_device(self.module))
        self.module.eval()
        with torch.no_grad():
            out = self.module(batch)
        if not isinstance(out, torch.Tensor):
            raise PredictorError(f"the torch model returned a {type(out).__name__}; expected one tensor")
        result = out.detach().float().cpu().numpy()
        return result.reshape(len(result), -1)

    def probabilities(self, X: Any) -> Any:
        import numpy as np

        out = self.forward(X).astype(np.float64)
        if out.shape[1] == 1:
            positive = sigmoid(out[:, 0]) if self.output_kind == "logits" else out[:, 0]
            return np.column_stack([1.0 - positive, positive])
        return softmax(out) if self.output_kind == "logits" else out

    def predict(self, X: Any) -> Any:
        out = self.forward(X)
        return out[:, 0] if out.shape[1] == 1 else out


def _dense_float32(X: Any) -> Any:
    """Preprocessed features as one contiguous float32 array (sparse output is densified)."""
    import numpy as np

    if callable(getattr(X, "toarray", None)):
        X = X.toarray()
    elif callable(getattr(X, "to_numpy", None)):
        X = X.to_numpy(dtype=np.float32)
    return np.ascontiguousarray(np.asarray(X, dtype=np.float32))


def _device(module: Any) -> Any:
    """The device of the module's first parameter (or buffer); CPU for a stateless module."""
    first = next(chain(module.parameters(), module.buffers()), None)
    return first.device if first is not None else "cpu"


FLAVOR = TorchFlavor()
