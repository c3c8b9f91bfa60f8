"""GB 11643 ID numbers: full validation, and property tests (hypothesis): any number
with a correct check character passes; any single-character change fails."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.idnumber import InvalidIdNumber, check_char, parse_id_number, region_codes
from server.masking import mask_id_number, mask_name, mask_phone

REGIONS = sorted(c for c in region_codes() if not c.endswith("0000"))
TODAY = date(2026, 11, 22)


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["resident", "permit", "permanent"]))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    seq = f"{draw(st.integers(0, 999)):03d}"
    if kind == "resident":
        prefix = draw(st.sampled_from(REGIONS))
    elif kind == "permit":
        prefix = draw(st.sampled_from(["810000", "820000", "830000"]))
    else:
        prefix = "9" + draw(st.sampled_from(["11", "31", "44", "51"])) + f"{draw(st.integers(1, 999)):03d}"
    first17 = prefix + born.strftime("%Y%m%d") + seq
    return first17 + check_char(first17)


@settings(max_examples=500)
@given(valid_ids())
def test_numbers_with_a_correct_check_character_pass(value):
    parsed = parse_id_number(value, today=TODAY)
    assert parsed.value == value
    assert parsed.gender == ("男" if int(value[16]) % 2 else "女")
    assert parsed.birth_date.strftime("%Y%m%d") == value[6:14]


@settings(max_examples=1000)
@given(valid_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_character_change_fails(value, position, replacement):
    if value[position] == replacement:
        replacement = "X" if replacement != "X" else "0"
    changed = value[:position] + replacement + value[position + 1:]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(changed, today=TODAY)


@settings(max_examples=300)
@given(valid_ids())
def test_lower_case_x_and_spaces_are_normalised(value):
    assert parse_id_number(f" {value.lower()} ", today=TODAY).value == value


@pytest.mark.parametrize(
    "value, reason",
    [
        ("11010519491231002x", None),               # the standard's own example, lower-case x
        ("11010519491231002X", None),
        ("440106199003153018", None),
        ("810000199506182019", None),               # Hong Kong residence permit
        ("944840198805121235", None),               # foreigner's permanent residence card
        ("440106199003153017", "check_character"),
        ("44010619900315301", "format"),
        ("4401061990031530188", "format"),
        ("44010619900315301Y", "format"),
        ("440106199002303013", "birth_date"),       # 30 February (check character made valid below)
        ("000000199003153018", "region"),
        ("440000199003153018", "region"),           # a province is not an address code
    ],
)
def test_examples(value, reason):
    if reason == "birth_date" or reason == "region":
        value = value[:17] + check_char(value[:17])
    if reason is None:
        assert parse_id_number(value, today=TODAY).value == value.upper()
    else:
        with pytest.raises(InvalidIdNumber) as info:
            parse_id_number(value, today=TODAY)
        assert info.value.reason == reason


def test_future_and_too_old_birth_dates_fail():
    future = "440106" + "20261123" + "123"
    with pytest.raises(InvalidIdNumber, match="出生日期"):
        parse_id_number(future + check_char(future), today=TODAY)
    old = "440106" + "18991231" + "123"
    with pytest.raises(InvalidIdNumber, match="出生日期"):
        parse_id_number(old + check_char(old), today=TODAY)


def test_leap_day_only_in_leap_years():
    ok = "320102" + "19920229" + "286"
    assert parse_id_number(ok + check_char(ok), today=TODAY).birth_date == date(1992, 2, 29)
    bad = "320102" + "19930229" + "286"
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number(bad + check_char(bad), today=TODAY)
    assert info.value.reason == "birth_date"


def test_abolished_region_codes_stay_valid():
    # 440102 (东山区, merged into 越秀区 in 2005) still appears on ID cards.
    old = "440102" + "19800101" + "123"
    assert parse_id_number(old + check_char(old), today=TODAY).document == "居民身份证"


def test_masking():
    assert mask_id_number("440106199003153018") == "4401**********3018"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳振华") == "欧***"
