"""Parsing of model identifiers into :class:`ModelRef` values.

Accepted everywhere a model is named::

    models:/NAME/VERSION     models:/NAME/STAGE     models:/NAME/latest
    models:/NAME@ALIAS       runs:/RUN_ID/model
    NAME/VERSION   NAME/STAGE   NAME/latest   NAME@ALIAS   NAME (the model itself)

Stages are case-insensitive.  Parsing does no I/O; resolving a reference to a version
number is the registry's job.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from .errors import InvalidIdentifierError, InvalidNameError
from .names import is_stage_word, normalize_stage, validate_alias, validate_model_name

RefKind = Literal["model", "version", "stage", "latest", "alias", "run"]

ACCEPTED_FORMS = (
    "models:/NAME/VERSION, models:/NAME/STAGE, models:/NAME/latest, models:/NAME@ALIAS, "
    "runs:/RUN_ID/model, NAME/VERSION, NAME/STAGE, NAME/latest, NAME@ALIAS"
)
_RUN_RE = re.compile(r"runs:/([0-9a-fA-F]{8,64})(?:/model)?/?")
#: a version number has at most this many digits (far beyond any registry; the browser's
#: routes use the same bound): longer text is not read as a number at all
MAX_VERSION_DIGITS = 18
#: identifiers longer than this are shortened in error messages
_SHOWN = 60


@dataclass(frozen=True)
class ModelRef:
    """A parsed identifier: which model, and how to pick a version of it.

    ``kind`` says how ``value`` is read: a version number, a canonical stage, an alias,
    a run id, ``latest``, or nothing (``model``: the model as a whole).
    """

    name: str | None
    kind: RefKind
    value: int | str | None = None

    @property
    def names_a_version(self) -> bool:
        return self.kind != "model"

    def __str__(self) -> str:
        if self.kind == "run":
            return f"runs:/{self.value}/model"
        if self.kind == "alias":
            return f"models:/{self.name}@{self.value}"
        if self.kind == "model":
            return f"models:/{self.name}"
        return f"models:/{self.name}/{self.value}"


def _bad(identifier: object, why: str) -> InvalidIdentifierError:
    return InvalidIdentifierError(
        f"invalid model identifier {_shortened(identifier)}: {why}; accepted forms: {ACCEPTED_FORMS}"
    )


def _shortened(value: object) -> str:
    """``repr(value)``, cut short when long (an identifier of 5,000 characters is not echoed)."""
    if isinstance(value, str) and len(value) > _SHOWN:
        return f"{value[:_SHOWN]!r}... ({len(value)} characters)"
    return repr(value)


def parse_identifier(identifier: object) -> ModelRef:
    """Parse any accepted identifier form; raise :class:`InvalidIdentifierError` otherwise."""
    if not isinstance(identifier, str):
        raise _bad(identifier, "expected a non-empty string")
    return _parse_text(identifier)


@functools.lru_cache(maxsize=1024)
def _parse_text(identifier: str) -> ModelRef:
    """:func:`parse_identifier` of a string, remembered (a ``ModelRef`` is immutable, and a
    process names the same few versions again and again; errors are not remembered)."""
    if not identifier.strip():
        raise _bad(identifier, "expected a non-empty string")
    text = identifier.strip()
    scheme, colon, rest = text.partition(":")
    if colon and scheme.lower() in ("runs", "models"):  # URI schemes are case-insensitive
        text = f"{scheme.lower()}:{rest}"
    if text.startswith("runs:"):
        match = _RUN_RE.fullmatch(text)
        if not match:
            raise _bad(identifier, "a run identifier is runs:/RUN_ID/model with a hexadecimal RUN_ID")
        return ModelRef(None, "run", match.group(1).lower())
    if text.startswith("models:"):
        if not text.startswith("models:/"):
            raise _bad(identifier, "a models: URI starts with 'models:/'")
        text = text[len("models:/") :]
    try:
        return _parse_path(text.rstrip("/"))
    except InvalidNameError as exc:
        raise _bad(identifier, str(exc)) from None


def _parse_path(text: str) -> ModelRef:
    if "@" in text:
        name, _, alias = text.partition("@")
        return ModelRef(validate_model_name(name), "alias", validate_alias(alias))
    parts = text.split("/")
    if len(parts) == 1:
        return ModelRef(validate_model_name(parts[0]), "model")
    if len(parts) != 2:
        raise InvalidNameError(f"expected NAME/VERSION, NAME/STAGE or NAME/latest, got {len(parts)} path parts")
    name, selector = validate_model_name(parts[0]), parts[1]
    if selector.isascii() and selector.isdigit():
        if len(selector) > MAX_VERSION_DIGITS:
            raise InvalidNameError(f"a version number has at most {MAX_VERSION_DIGITS} digits, not {len(selector)}")
        if int(selector) > 0:
            return ModelRef(name, "version", int(selector))
    if selector.lower() == "latest":
        return ModelRef(name, "latest", "latest")
    if is_stage_word(selector):
        return ModelRef(name, "stage", normalize_stage(selector))
    raise InvalidNameError(f"{selector!r} is not a version number (1, 2, ...), a stage or 'latest'")


def model_uri(name: str, version: int) -> str:
    """The canonical identifier of one version: ``models:/NAME/VERSION``."""
    return f"models:/{name}/{version}"
