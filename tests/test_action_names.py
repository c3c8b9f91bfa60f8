"""Every action a domain writes to a trail a person reads has words in that domain's table
(the H5 and the mini-program show ``action_name`` from the server, never the code): the
literal actions found in the code, and the families built from a lifecycle's states."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from card_wallet.audit_names import AUDIT_ACTIONS as WALLET
from card_wallet.issuing.service import IssuingService
from identity.audit_names import AUDIT_ACTIONS as IDENTITY
from matters.audit_names import AUDIT_ACTIONS as MATTERS
from matters.lifecycle import STATE_NAMES as APPLICATION_STATES
from server.audit import ActionNames
from tickets.audit_names import AUDIT_ACTIONS as TICKETS
from halls.audit_names import AUDIT_ACTIONS as HALLS
from proxies.audit_names import AUDIT_ACTIONS as PROXIES
from policies.audit_names import AUDIT_ACTIONS as POLICIES
from payments.audit_names import AUDIT_ACTIONS as PAYMENTS
from tickets.lifecycle import EVENT_NAMES, STATE_NAMES as TICKET_STATES

ROOT = Path(__file__).resolve().parent.parent
NAMES = ActionNames(IDENTITY, WALLET, MATTERS, TICKETS, HALLS, PROXIES, POLICIES, PAYMENTS)
RECORDERS = {"record", "_record", "_record_issuer_action", "Entry"}
ACTION = re.compile(r"^(login|logout|[a-z_]+\.[a-z_]+)$")
NOT_A_PERSONS_TRAIL = ("device.", "issuer.")  # a kiosk's or an issuer's own trail, read by staff


def recorded_literals() -> set[str]:
    found = set()
    for pkg in ("identity", "card_wallet", "matters", "tickets", "halls", "proxies", "policies", "payments",
                "notifications"):
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name not in RECORDERS:
                    continue
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and ACTION.match(arg.value):
                        found.add(arg.value)
    return found


def test_every_literal_action_has_words():
    literals = recorded_literals()
    assert {"login", "account.created", "certificate.issued", "ticket.reporter_viewed"} <= literals
    missing = sorted(a for a in literals if not a.startswith(NOT_A_PERSONS_TRAIL) and not NAMES.known(a))
    assert missing == []


def test_every_state_a_lifecycle_records_has_words():
    families = ([f"application.{s}" for s in APPLICATION_STATES]
                + [f"ticket.{s}" for s in (*TICKET_STATES, *EVENT_NAMES)]
                + [f"consent.{s}" for s in ("approved", "partially_approved", "rejected")]
                + [f"certificate.{to}" for _, to in IssuingService._TRANSITIONS.values()])
    assert [a for a in families if not NAMES.known(a)] == []
    assert NAMES.name("ticket.rectified") == "12345：差评整改办结"
    assert NAMES.name("no.such") == "其他操作"
