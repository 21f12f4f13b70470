"""Unit tests of fsregistry.names: every user-chosen name is checked here, before any I/O."""

from __future__ import annotations

import numpy as np
import pytest

from fsregistry.errors import InvalidArgumentError, InvalidNameError, InvalidStageError
from fsregistry.names import (
    MAX_NAME_LENGTH,
    MAX_TAG_KEY_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    is_stage_word,
    normalize_stage,
    require_aliases,
    require_flag,
    validate_alias,
    validate_model_name,
    validate_tag,
    validate_tags,
)

# -- model names --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["m", "Model_1", "a.b-c", "9lives", "x" * MAX_NAME_LENGTH, "com10", "nul_x"])
def test_portable_names_are_returned_unchanged(name: str) -> None:
    assert validate_model_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["a/b", "a\\b", "..", "a..b", "../up", "/abs", "C:\\x", ".hidden", "trailing.", "-dash", "_under", "sp ace", "a@b",
     "é", "tab\t", "a\x00b"],
)  # fmt: skip
def test_names_that_could_leave_the_root_or_hide_are_refused(name: str) -> None:
    with pytest.raises(InvalidNameError, match="invalid model name") as info:
        validate_model_name(name)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", ["con", "CON", "nul.txt", "Aux.tar.gz", "prn", "com1", "LPT9"])
def test_windows_device_names_are_refused_in_any_case_and_with_any_extension(name: str) -> None:
    with pytest.raises(InvalidNameError, match="reserved device name on Windows"):
        validate_model_name(name)


def test_a_name_over_the_limit_is_refused_without_echoing_it_whole() -> None:
    name = "x" * (MAX_NAME_LENGTH + 1)
    with pytest.raises(InvalidNameError, match=f"is {MAX_NAME_LENGTH + 1} characters; the limit is {MAX_NAME_LENGTH}"):
        validate_model_name(name)
    with pytest.raises(InvalidNameError) as info:
        validate_model_name("y" * 5000)
    assert "y" * 41 not in str(info.value)


@pytest.mark.parametrize(("value", "kind"), [(None, "NoneType"), (7, "int"), (b"m", "bytes"), (["m"], "list")])
def test_a_name_that_is_not_a_string_says_what_it_is(value: object, kind: str) -> None:
    with pytest.raises(InvalidNameError, match=f"model name must be a string, got {kind}"):
        validate_model_name(value)


def test_an_empty_name_is_refused() -> None:
    with pytest.raises(InvalidNameError, match="must not be empty"):
        validate_model_name("")


def test_names_differing_only_by_case_are_each_valid_names() -> None:
    """Case clashes are the store's to refuse (it sees the folders); the rule is pure."""
    assert [validate_model_name(n) for n in ("Model", "model", "MODEL")] == ["Model", "model", "MODEL"]


# -- aliases ------------------------------------------------------------------------------------


@pytest.mark.parametrize("alias", ["champion", "v2-rc.1", "prod2", "Latest2"])
def test_aliases_that_mean_nothing_else_are_accepted(alias: str) -> None:
    assert validate_alias(alias) == alias


@pytest.mark.parametrize(
    "alias", ["12", "latest", "LATEST", "production", "Staging", "archived", "none", "dev", "Development"]
)
def test_numbers_stages_and_latest_are_reserved(alias: str) -> None:
    with pytest.raises(InvalidNameError, match="reserved"):
        validate_alias(alias)


@pytest.mark.parametrize("alias", ["a/b", "..", "", "con", 3])
def test_aliases_follow_the_name_rules(alias: object) -> None:
    with pytest.raises(InvalidNameError, match="alias"):
        validate_alias(alias)


# -- tags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "stored"), [("v", "v"), (3, "3"), (True, "True"), (0.5, "0.5"), ("", "")])
def test_tag_values_are_stored_as_strings(value: object, stored: str) -> None:
    assert validate_tag("k", value) == ("k", stored)


@pytest.mark.parametrize("key", ["", 5, None, "k" * (MAX_TAG_KEY_LENGTH + 1)])
def test_tag_keys_must_be_short_non_empty_strings(key: object) -> None:
    with pytest.raises(InvalidNameError, match="tag key must be a non-empty string"):
        validate_tag(key, "v")


def test_tag_keys_may_not_hold_control_characters() -> None:
    with pytest.raises(InvalidNameError, match="control characters"):
        validate_tag("a\nb", "v")
    assert validate_tag("k" * MAX_TAG_KEY_LENGTH, "v")[0] == "k" * MAX_TAG_KEY_LENGTH


@pytest.mark.parametrize("value", [{"b": 1}, [1, 2], (1,), {1}, b"x"])
def test_a_structured_tag_value_is_refused_not_stored_as_its_repr(value: object) -> None:
    with pytest.raises(InvalidNameError, match=f"the value is a {type(value).__name__}, not text or a number"):
        validate_tag("k", value)


def test_a_none_tag_value_points_to_delete_tag() -> None:
    with pytest.raises(InvalidNameError, match="use delete_tag"):
        validate_tag("owner", None)


def test_tag_values_have_a_length_limit() -> None:
    assert validate_tag("k", "v" * MAX_TAG_VALUE_LENGTH)[1] == "v" * MAX_TAG_VALUE_LENGTH
    with pytest.raises(InvalidNameError, match=f"{MAX_TAG_VALUE_LENGTH + 1} characters"):
        validate_tag("k", "v" * (MAX_TAG_VALUE_LENGTH + 1))


@pytest.mark.parametrize(("key", "value", "what"), [("bad\ud800", "v", "key"), ("k", "bad\udcff", "value")])
def test_tags_that_cannot_be_utf8_are_refused(key: str, value: str, what: str) -> None:
    with pytest.raises(InvalidNameError, match=f"the {what} is not valid Unicode"):
        validate_tag(key, value)


def test_validate_tags_checks_every_entry() -> None:
    assert validate_tags(None) == {}
    assert validate_tags({"a": 1, "b": "x"}) == {"a": "1", "b": "x"}
    with pytest.raises(InvalidNameError, match="tags must be a dict, got list"):
        validate_tags([("a", "1")])
    with pytest.raises(InvalidNameError, match="delete_tag"):
        validate_tags({"a": "1", "b": None})


# -- stages, flags, alias lists ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "stage"),
    [(None, None), ("Development", None), ("dev", None), ("none", None), ("", None), ("  production ", "Production"),
     ("STAGING", "Staging"), ("archived", "Archived")],
)  # fmt: skip
def test_every_accepted_stage_spelling_is_normalised(spelling: str | None, stage: str | None) -> None:
    assert normalize_stage(spelling) == stage


@pytest.mark.parametrize("stage", ["prod", "Productions", 1, True, ["Production"]])
def test_unknown_stages_are_an_invalid_stage_error(stage: object) -> None:
    with pytest.raises(InvalidStageError, match="unknown stage") as info:
        normalize_stage(stage)
    assert isinstance(info.value, InvalidNameError)


def test_stage_words_are_the_canonical_stages_only() -> None:
    assert [is_stage_word(w) for w in ("production", "Staging", "ARCHIVED")] == [True, True, True]
    assert [is_stage_word(w) for w in ("development", "none", "latest", "")] == [False, False, False, False]


def test_flags_accept_python_and_numpy_booleans_only() -> None:
    assert require_flag(True, "force") is True
    assert require_flag(np.bool_(False), "verify") is False
    for value in ("no", 0, 1, None, "True"):
        with pytest.raises(InvalidArgumentError, match="force must be True or False"):
            require_flag(value, "force")


def test_aliases_may_be_none_one_name_or_a_collection() -> None:
    assert require_aliases(None) == []
    assert require_aliases("champ") == ["champ"]
    assert require_aliases(("a", "b")) == ["a", "b"]
    assert require_aliases(frozenset({"a"})) == ["a"]
    with pytest.raises(InvalidArgumentError, match="got int"):
        require_aliases(5)
    with pytest.raises(InvalidArgumentError, match="got dict"):
        require_aliases({"a": 1})
    with pytest.raises(InvalidNameError, match="reserved"):
        require_aliases(["ok", "latest"])
