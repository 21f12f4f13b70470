"""Unit tests of fsregistry.identifiers: parsing every accepted form, no I/O."""

from __future__ import annotations

import dataclasses

import pytest

from fsregistry.errors import InvalidIdentifierError
from fsregistry.identifiers import ACCEPTED_FORMS, MAX_VERSION_DIGITS, ModelRef, model_uri, parse_identifier

ACCEPTED = {
    "models:/m/3": ModelRef("m", "version", 3),
    "models:/m/Production": ModelRef("m", "stage", "Production"),
    "models:/m/staging": ModelRef("m", "stage", "Staging"),
    "models:/m/latest": ModelRef("m", "latest", "latest"),
    "models:/m@champ": ModelRef("m", "alias", "champ"),
    "models:/m": ModelRef("m", "model"),
    "runs:/ABCDEF12/model": ModelRef(None, "run", "abcdef12"),
    "runs:/abcdef12": ModelRef(None, "run", "abcdef12"),
    f"runs:/{'f' * 64}/model/": ModelRef(None, "run", "f" * 64),
    "m/3": ModelRef("m", "version", 3),
    "m/ARCHIVED": ModelRef("m", "stage", "Archived"),
    "m/LATEST": ModelRef("m", "latest", "latest"),
    "m@champ": ModelRef("m", "alias", "champ"),
    "m": ModelRef("m", "model"),
    "my.model-2/10": ModelRef("my.model-2", "version", 10),
}


@pytest.mark.parametrize(("identifier", "expected"), ACCEPTED.items(), ids=list(ACCEPTED))
def test_every_accepted_form_parses(identifier: str, expected: ModelRef) -> None:
    assert parse_identifier(identifier) == expected


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("  m/3  ", ModelRef("m", "version", 3)),
        ("models:/m/3/", ModelRef("m", "version", 3)),
        ("MODELS:/m/1", ModelRef("m", "version", 1)),
        ("Runs:/abcdef12/model", ModelRef(None, "run", "abcdef12")),
        ("m/007", ModelRef("m", "version", 7)),
    ],
)
def test_spacing_trailing_slashes_scheme_case_and_leading_zeros_are_tolerated(
    identifier: str, expected: ModelRef
) -> None:
    assert parse_identifier(identifier) == expected


@pytest.mark.parametrize("identifier", list(ACCEPTED))
def test_the_canonical_text_parses_back_to_the_same_reference(identifier: str) -> None:
    ref = parse_identifier(identifier)
    assert parse_identifier(str(ref)) == ref


def test_canonical_text_of_each_kind() -> None:
    assert str(ModelRef("m", "version", 3)) == "models:/m/3"
    assert str(ModelRef("m", "stage", "Production")) == "models:/m/Production"
    assert str(ModelRef("m", "alias", "champ")) == "models:/m@champ"
    assert str(ModelRef("m", "model")) == "models:/m"
    assert str(ModelRef(None, "run", "abcdef12")) == "runs:/abcdef12/model"
    assert model_uri("m", 12) == "models:/m/12"


def test_only_a_bare_model_names_no_version() -> None:
    assert not parse_identifier("m").names_a_version
    assert all(parse_identifier(i).names_a_version for i in ("m/1", "m/latest", "m/Staging", "m@a", "runs:/abcdef12"))


def test_references_are_immutable() -> None:
    ref = parse_identifier("m/1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.value = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("identifier", "reason"),
    [
        (None, "expected a non-empty string"),
        (42, "expected a non-empty string"),
        (b"m/1", "expected a non-empty string"),
        ("   ", "expected a non-empty string"),
        ("runs:/xyz/model", "hexadecimal RUN_ID"),
        ("runs:/abc1234/model", "hexadecimal RUN_ID"),  # 7 digits: too short
        (f"runs:/{'a' * 65}/model", "hexadecimal RUN_ID"),
        ("runs:/abcdef12/other", "hexadecimal RUN_ID"),
        ("models:m/1", "starts with 'models:/'"),
        ("m/0", "is not a version number"),
        ("m/-1", "is not a version number"),
        ("m/²", "is not a version number"),
        ("m/notastage", "is not a version number"),
        ("m/Development", "is not a version number"),
        ("m/1/2", "3 path parts"),
        ("m@latest", "reserved"),
        ("m@3", "reserved"),
        ("m@", "alias must not be empty"),
        ("@champ", "model name must not be empty"),
        ("../m/1", "3 path parts"),
        ("../1", "invalid model name"),
        ("a..b@x", "invalid model name"),
        ("/abs/1", "3 path parts"),
        ("con/1", "reserved device name"),
    ],
)
def test_bad_identifiers_say_why_and_list_the_accepted_forms(identifier: object, reason: str) -> None:
    with pytest.raises(InvalidIdentifierError) as info:
        parse_identifier(identifier)
    message = str(info.value)
    assert reason in message
    assert message.endswith(f"accepted forms: {ACCEPTED_FORMS}")
    assert isinstance(info.value, ValueError)


def test_the_largest_version_number_parses() -> None:
    digits = "9" * MAX_VERSION_DIGITS
    assert parse_identifier(f"m/{digits}") == ModelRef("m", "version", int(digits))


def test_a_version_with_too_many_digits_is_refused_before_int_conversion() -> None:
    with pytest.raises(
        InvalidIdentifierError, match=f"at most {MAX_VERSION_DIGITS} digits, not {MAX_VERSION_DIGITS + 1}"
    ):
        parse_identifier("m/" + "9" * (MAX_VERSION_DIGITS + 1))


def test_a_huge_identifier_is_shortened_in_the_error() -> None:
    identifier = "m/" + "1" * 5000
    with pytest.raises(InvalidIdentifierError, match=r"\(5002 characters\)") as info:
        parse_identifier(identifier)
    assert "1" * 100 not in str(info.value)
    assert "at most 18 digits, not 5000" in str(info.value)
