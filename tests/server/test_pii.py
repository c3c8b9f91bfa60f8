"""PII at rest: AES-GCM with the purpose bound in, blind index for lookups."""
from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag

from server.pii import PiiCipher


@pytest.fixture
def cipher():
    return PiiCipher(os.urandom(32), os.urandom(32))


def test_round_trip_and_randomised(cipher):
    a = cipher.encrypt("440106199003153018", "id_number")
    b = cipher.encrypt("440106199003153018", "id_number")
    assert a != b and "440106" not in a
    assert cipher.decrypt(a, "id_number") == "440106199003153018"


def test_ciphertext_bound_to_its_purpose(cipher):
    token = cipher.encrypt("13800138000", "phone")
    with pytest.raises(InvalidTag):
        cipher.decrypt(token, "id_number")


def test_tampered_ciphertext_fails(cipher):
    token = cipher.encrypt("13800138000", "phone")
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises((InvalidTag, ValueError)):
        cipher.decrypt(flipped, "phone")


def test_blind_index_is_deterministic_keyed_and_purpose_specific(cipher):
    assert cipher.blind_index("31011520001208204x", "id_number") == cipher.blind_index("31011520001208204X", "id_number")
    assert cipher.blind_index("13800138000", "phone") != cipher.blind_index("13800138000", "id_number")
    other = PiiCipher(os.urandom(32), os.urandom(32))
    assert other.blind_index("13800138000", "phone") != cipher.blind_index("13800138000", "phone")


def test_rejects_short_keys():
    with pytest.raises(ValueError):
        PiiCipher(b"short", os.urandom(32))
