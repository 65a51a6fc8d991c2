"""Targets files: every format, and every way one can be wrong."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alchemiser_cli.core.targets import parse_targets
from alchemiser_cli.errors import InputError


def test_toml_weights_and_percents_normalise_symbols() -> None:
    t = parse_targets('[targets]\nvti = 0.6\nBND = "30%"\n"brk.b" = "5%"', where="t.toml")
    assert t.weights == {"BND": Decimal("0.3"), "BRK.B": Decimal("0.05"), "VTI": Decimal("0.6")}
    assert t.cash_weight == Decimal("0.05")
    assert t.source == "t.toml"


def test_json_plain_and_wrapped_objects() -> None:
    plain = parse_targets('{"VTI": 0.6, "BND": "40%"}', where="t.json", fmt="json")
    wrapped = parse_targets('{"targets": {"VTI": 0.6, "BND": 0.4}}', where="t.json")
    assert plain.weights == wrapped.weights == {"BND": Decimal("0.4"), "VTI": Decimal("0.6")}


def test_csv_with_header_comments_and_blank_lines() -> None:
    text = "symbol,weight\n# core\nvti, 60%\n\nBND,0.4\n"
    assert parse_targets(text, where="t.csv", fmt="csv").weights == {
        "BND": Decimal("0.4"),
        "VTI": Decimal("0.6"),
    }


def test_empty_toml_table_means_all_cash() -> None:
    assert parse_targets("[targets]\n", where="t.toml").weights == {}


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("[targets]\nVTI = -0.1", "toml", "t: VTI: weight -0.1 is negative"),
        ("[targets]\nVTI = 60", "toml", 't: VTI: weight 60 is above 100% (write 0.6 or "60%")'),
        ('[targets]\nVTI = "150%"', "toml", "t: VTI: weight 150% is above 100%"),
        ("[targets]\nVTI = 250", "toml", "t: VTI: weight 250 is above 100%"),
        ("[targets]\nVTI = 0.7\nBND = 0.4", "toml", "t: weights add up to 110%, more than 100%"),
        ("[targets]\nVTI = 0.5\nvti = 0.1", "toml", "t: VTI is listed twice"),
        ('[targets]\nVTI = "lots"', "toml", "t: VTI: weight 'lots' is not a number"),
        ("[targets]\nVTI = true", "toml", "t: VTI: weight true is not a number"),
        ("[targets]\nVTI = nan", "toml", "t: VTI: weight NaN is not a finite number"),
        ('{"VTI": NaN}', "json", "t: VTI: weight nan is not a finite number"),
        ('{"VTI": [0.5]}', "json", "t: VTI: weight [0.5] is not a number"),
        (
            '[targets]\nVTI = "33.34%"\nBND = "33.34%"\nVXUS = "33.34%"',
            "toml",
            "t: weights add up to 100.02%, more than 100%",
        ),
        ('[targets]\nVTI = "nan"', "toml", "t: VTI: weight 'nan' is not a finite number"),
        ('[targets]\n"BAD SYMBOL" = 0.1', "toml", "t: 'BAD SYMBOL' is not a valid symbol"),
        ("VTI = 0.6", "toml", "t: no [targets] table (write `[targets]` then `VTI = 0.6`)"),
        ("[targets\nVTI = 1", "toml", "t: not valid TOML"),
        ('{"VTI": 0.5, "VTI": 0.2}', "json", "t: VTI is listed twice"),
        ('{"VTI": 0.5,', "json", "t: not valid JSON"),
        ("[1, 2]", "json", 't: expected an object like {"targets": {"VTI": 0.6}}'),
        ("VTI,0.5\nvti,0.1", "csv", "t: line 2: VTI is listed twice"),
        (
            "VTI,0.5,extra",
            "csv",
            "t: line 1: expected `symbol,weight`, got 3 cells: VTI, 0.5, extra",
        ),
        ("VTI,abc", "csv", "t: line 1: VTI: weight 'abc' is not a number"),
        ("x", "yaml", "t: unknown targets format 'yaml'"),
    ],
)
def test_invalid_targets_name_the_file_and_entry(text: str, fmt: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_targets(text, where="t", fmt=fmt)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"VTI": 1}', "json"),
        ("[targets]\nVTI = 1", "toml"),
        ("VTI = 1", "toml"),
        ("VTI,1", "csv"),
    ],
)
def test_format_is_sniffed_for_stdin(text: str, expected: str) -> None:
    if expected == "toml" and not text.startswith("["):
        with pytest.raises(InputError, match="no \\[targets\\] table"):
            parse_targets(text, where="<stdin>")
    else:
        assert parse_targets(text, where="<stdin>").weights == {"VTI": Decimal(1)}
