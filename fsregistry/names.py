"""Validation of every user-chosen name, done before any file system call.

Model names become directory names under the root, so they are held to a strict
portable alphabet: no separators, no ``..``, nothing that could leave the root, nothing
that collides with the registry's own dot-files.  Stages are normalised here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from .errors import InvalidArgumentError, InvalidNameError, InvalidStageError

MAX_NAME_LENGTH = 128
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 5000

# A leading letter or digit keeps names clear of the registry's own dot-files.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}

#: canonical stage names; ``None`` is the seed's "Development"
STAGES = ("Staging", "Production", "Archived")
#: a stage as callers write it, for type checkers (any case is accepted at run time; these
#: are the spellings a checker knows, so that ``"Prodution"`` is caught before it runs)
StageName = Literal[
    "Staging",
    "Production",
    "Archived",
    "None",
    "Development",
    "staging",
    "production",
    "archived",
    "none",
    "development",
    "STAGING",
    "PRODUCTION",
    "ARCHIVED",
    "NONE",
    "DEVELOPMENT",
]
#: stages that at most one version of a model may hold at a time
EXCLUSIVE_STAGES = ("Staging", "Production")
_STAGE_LOOKUP = {s.lower(): s for s in STAGES}
_NONE_STAGES = {"none", "development", "dev", ""}
#: words that may not be aliases because they already mean something in identifiers
_RESERVED_ALIASES = {"latest", *(_STAGE_LOOKUP), *_NONE_STAGES}


def _check_token(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidNameError(f"{what} must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidNameError(f"{what} must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidNameError(f"{what} {value[:40]!r}... is {len(value)} characters; the limit is {MAX_NAME_LENGTH}")
    if not _NAME_RE.fullmatch(value) or ".." in value or value.endswith("."):
        raise InvalidNameError(
            f"invalid {what} {value!r}: use letters, digits, '.', '_' and '-', starting with a letter "
            "or digit, with no '..', no trailing '.', and no path separators"
        )
    if value.split(".")[0].lower() in _WINDOWS_RESERVED:
        raise InvalidNameError(f"invalid {what} {value!r}: reserved device name on Windows")
    return value


def validate_model_name(name: Any) -> str:
    """Return ``name`` if it may name a model directory, else raise :class:`InvalidNameError`."""
    return _check_token(name, "model name")


def validate_alias(alias: Any) -> str:
    """Return ``alias`` if it may be used as an alias (not a number, stage or ``latest``)."""
    _check_token(alias, "alias")
    if alias.isdigit() or alias.lower() in _RESERVED_ALIASES:
        raise InvalidNameError(f"invalid alias {alias!r}: numbers, stage names and 'latest' are reserved")
    return str(alias)


def case_twin(name: str, existing: Iterable[str]) -> str | None:
    """The first of ``existing`` that differs from ``name`` only by case (``Champion`` for
    ``champion``), or ``None``: model names, and a model's aliases, may not have one."""
    folded = name.casefold()
    return next((other for other in existing if other != name and other.casefold() == folded), None)


def refuse_alias_twin(model: str, alias: str, held: Iterable[str]) -> None:
    """Refuse (:class:`InvalidNameError`) ``alias`` when one of ``held`` (the model's
    aliases) differs from it only by case: ``@Champion`` beside ``@champion`` would be two
    pointers a reader takes for one.  Checked where the alias is claimed, under the lock
    or inside the compare-and-swap, so two writers cannot each add one of a pair."""
    twin = case_twin(alias, held)
    if twin is not None:
        raise InvalidNameError(
            f"alias {alias!r} differs only by case from {model}@{twin}: use {twin!r}, or delete that alias first",
            name=model,
        )


def validate_tag(key: Any, value: Any) -> tuple[str, str]:
    """Check a tag and return it as ``(key, str(value))``; tags are stored as strings."""
    if not isinstance(key, str) or not key or len(key) > MAX_TAG_KEY_LENGTH:
        raise InvalidNameError(
            f"tag key must be a non-empty string of at most {MAX_TAG_KEY_LENGTH} characters, got {key!r}"
        )
    if any(ord(ch) < 32 for ch in key):
        raise InvalidNameError(f"tag key {key!r} contains control characters")
    if value is None:
        raise InvalidNameError(f"tag {key!r}: the value is None; use delete_tag to remove a tag")
    if isinstance(value, (dict, list, tuple, set, frozenset, bytes, bytearray)):
        raise InvalidNameError(
            f"tag {key!r}: the value is a {type(value).__name__}, not text or a number; tags are stored as "
            "strings, so a structured value belongs in params= or metadata="
        )
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidNameError(f"tag {key!r}: value is {len(text)} characters; the limit is {MAX_TAG_VALUE_LENGTH}")
    for what, item in (("key", key), ("value", text)):
        if not _encodes(item):  # e.g. bytes a terminal sent that are not UTF-8 (lone surrogates)
            raise InvalidNameError(f"tag {key!r}: the {what} is not valid Unicode text (it cannot be stored as UTF-8)")
    return key, text


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate_tags(tags: Any) -> dict[str, str]:
    """Validate a mapping of tags; ``None`` is an empty mapping."""
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise InvalidNameError(f"tags must be a dict, got {type(tags).__name__}")
    return dict(validate_tag(k, v) for k, v in tags.items())


def normalize_stage(stage: Any) -> str | None:
    """Canonical stage for any accepted spelling: ``None``/``"Development"`` -> ``None``,
    ``"production"`` -> ``"Production"``...; anything else is :class:`InvalidStageError`."""
    if stage is None:
        return None
    if isinstance(stage, str):
        key = stage.strip().lower()
        if key in _NONE_STAGES:
            return None
        if key in _STAGE_LOOKUP:
            return _STAGE_LOOKUP[key]
    raise InvalidStageError(
        f"unknown stage {stage!r}: use None (or 'Development'), 'Staging', 'Production' or 'Archived'"
    )


def is_stage_word(text: str) -> bool:
    """True when ``text`` names a stage that a version can be looked up by."""
    return text.lower() in _STAGE_LOOKUP


def require_flag(value: Any, what: str) -> bool:
    """``value`` as a bool; anything but ``True``/``False`` (numpy's too) is refused, so
    that ``force="no"`` cannot mean yes."""
    numpy_bool = type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")
    if isinstance(value, bool) or numpy_bool:
        return bool(value)
    raise InvalidArgumentError(f"{what} must be True or False, got {value!r}")


def require_aliases(aliases: Any) -> list[str]:
    """Validated alias names from ``None``, one name, or a list/tuple/set of names."""
    if aliases is None:
        return []
    if isinstance(aliases, str):
        aliases = [aliases]
    if not isinstance(aliases, (list, tuple, set, frozenset)):
        raise InvalidArgumentError(f"aliases must be a name or a list of names, got {type(aliases).__name__}")
    return [validate_alias(a) for a in aliases]
