"""Pickle, in the one place where the registry's pickle policy is enforced.

Unpickling runs code chosen by whoever wrote the bytes.  A registry opened with
``allow_pickle=False`` (or ``FSREGISTRY_ALLOW_PICKLE=0``) calls :func:`refuse_if`
*before* opening a pickle file, so a refused load never reads, let alone unpickles, a byte.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any

from ..errors import InvalidArgumentError, PickleRefusedError

ENV_ALLOW_PICKLE = "FSREGISTRY_ALLOW_PICKLE"
_FALSE = {"0", "false", "no", "off"}
_TRUE = {"1", "true", "yes", "on", ""}


def allow_pickle_default(explicit: bool | None = None) -> bool:
    """The effective policy: the explicit argument, else the environment, else allowed.
    A value of the variable that is neither on nor off is refused: it is a security
    switch, and a typo (``nope``, ``flase``) must not be read as "allow"."""
    if explicit is not None:
        return explicit
    value = os.environ.get(ENV_ALLOW_PICKLE, "").strip().lower()
    if value not in _FALSE | _TRUE:
        raise InvalidArgumentError(
            f"{ENV_ALLOW_PICKLE}={os.environ[ENV_ALLOW_PICKLE]!r} is neither off (0, false, no, off) nor on "
            "(1, true, yes, on): set one of those, or unset it (pickle is then allowed)"
        )
    return value not in _FALSE


def refuse_if(refused: bool, what: str, path: Path | str, name: str | None = None) -> None:
    """Raise :class:`PickleRefusedError` naming ``what`` when pickle loading is refused."""
    if refused:
        raise PickleRefusedError(
            f"refusing to unpickle {what} at {path}: this registry was opened with "
            f"allow_pickle=False (or {ENV_ALLOW_PICKLE}=0); only native formats load. "
            "Open it with allow_pickle=True if you trust the files.",
            name=name,
            path=str(path),
        )


def dump(obj: Any, path: Path) -> None:
    """cloudpickle ``obj`` to ``path`` (see :func:`write`)."""
    with open(path, "wb") as fh:
        write(obj, fh)


def write(obj: Any, stream: IO[bytes] | io.RawIOBase) -> None:
    """cloudpickle ``obj`` to a binary stream (protocol 5, so large buffers are written fast)."""
    import pickle

    import cloudpickle

    cloudpickle.dump(obj, stream, protocol=pickle.HIGHEST_PROTOCOL)


def load(path: Path) -> Any:
    """Unpickle ``path``; the caller has already applied the pickle policy."""
    import pickle  # here, not at the top: starting the registry unpickles nothing

    with open(path, "rb") as fh:
        return pickle.load(fh)
