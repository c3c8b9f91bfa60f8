"""GB 32100 unified social credit codes: property tests (hypothesis) and examples."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.idnumber import region_codes
from identity.uscc import ALPHABET, InvalidUscc, check_char, organisation_check, parse_uscc

REGIONS = sorted(region_codes())


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    authority_type = draw(st.sampled_from(["91", "92", "93", "11", "12", "51", "52", "Y1"]))
    region = draw(st.sampled_from(REGIONS + ["100000"]))
    body = draw(st.text(alphabet=ALPHABET, min_size=8, max_size=8))
    first17 = authority_type + region + body + organisation_check(body)
    return first17 + check_char(first17)


@settings(max_examples=500)
@given(valid_usccs())
def test_codes_with_correct_check_characters_pass(code):
    assert parse_uscc(code).value == code


@settings(max_examples=1500)
@given(valid_usccs(), st.integers(0, 17), st.sampled_from(ALPHABET + "IOZSV"))
def test_any_single_character_change_fails(code, position, replacement):
    if code[position] == replacement:
        replacement = "0" if replacement != "0" else "1"
    changed = code[:position] + replacement + code[position + 1:]
    with pytest.raises(InvalidUscc):
        parse_uscc(changed)


@pytest.mark.parametrize(
    "code, reason",
    [
        ("91350100M000100Y43", None),       # a widely published example
        ("11100000000013338W", None),       # a national body (region 100000)
        ("91440106MA5D8K3L71", None),       # demo enterprise
        ("91440106ma5d8k3l71", None),       # lower case is normalised
        ("91350100M000100Y44", "check_character"),
        ("91350100M000100Y4", "format"),
        ("91350100M000100I43", "format"),   # I is not in the alphabet
        ("Z1350100M000100Y43", "format"),
    ],
)
def test_examples(code, reason):
    if reason is None:
        assert parse_uscc(code).value == code.upper()
    else:
        with pytest.raises(InvalidUscc) as info:
            parse_uscc(code)
        assert info.value.reason == reason


def test_organisation_code_check_inside_the_code_is_enforced():
    body = "MA5D8K3L"
    wrong_org = "91440106" + body + ("0" if organisation_check(body) != "0" else "1")
    code = wrong_org + check_char(wrong_org)  # the outer check is right, the inner one is not
    with pytest.raises(InvalidUscc) as info:
        parse_uscc(code)
    assert info.value.reason == "organisation_code"


def test_unknown_region_and_authority():
    bad_region = "91000001" + "MA5D8K3L" + organisation_check("MA5D8K3L")
    with pytest.raises(InvalidUscc) as info:
        parse_uscc(bad_region + check_char(bad_region))
    assert info.value.reason == "region"
    bad_auth = "X1440106" + "MA5D8K3L" + organisation_check("MA5D8K3L")
    with pytest.raises(InvalidUscc) as info:
        parse_uscc(bad_auth + check_char(bad_auth))
    assert info.value.reason == "authority"
