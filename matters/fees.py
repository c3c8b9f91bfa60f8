"""Fees (收费) of a matter, as the catalog gives them, and the port through which the matters
lifecycle asks the payments domain about them.

A matter's catalog entry may carry ``charges``::

    {"items": [{"name": "工本费", "amount_fen": 1000}],
     "due": "submission" | "approval",        # paid before 受理, or after 批准 and before 办结
     "collector": {"department": "gz-psb", "department_name": "…", "merchant": "gz-psb"},
     "waivers": [{"name": "年满70周岁免收", "rule": <a matters.rules rule>}]}

Amounts are integer fen. The payments domain owns the orders, the money and the ledger; the
lifecycle only asks :class:`Fees` whether an application's fee is settled before 受理 / 办结,
and hands it each state change from the outbox (a charge at submission or approval, a
refund or a closed order when an application is denied, not accepted or withdrawn), so a
change that fails half-way is retried by the outbox sweep like a notification.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from card_wallet.catalog import Catalog
from matters.rules import RuleError, validate_rule

DUE_NAMES = {"submission": "提交申请时缴纳", "approval": "审批通过后缴纳"}
SETTLED = ("paid", "waived")
# the action that needs the fee settled first, by when the fee is due
BLOCKS = {"submission": "accept", "approval": "complete"}


@dataclass(frozen=True)
class FeeCase:
    """What the payments domain learns of an application (never the application's document)."""
    application_id: str
    number: str
    matter: str
    matter_name: str
    applicant_key: str
    applicant_name: str
    person_id: str  # who acts for the applicant (the person, or the enterprise's agent)
    state: str
    form: dict[str, Any]


class Fees(Protocol):
    async def on_state(self, case: FeeCase) -> None:
        """The application reached ``case.state``: charge, refund or close as the fee requires.
        Idempotent (the outbox may hand the same state again); raises to be retried."""

    async def status(self, application_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Application id -> its fee (``state``: pending, unpaid, paying, paid, waived, refunding,
        refunded, closed; ``amount_fen``, ``due``, ``order_id``), for the ones that have one."""


class NoFees:
    """No payments domain wired (tests of matters alone): nothing is ever charged."""

    async def on_state(self, case: FeeCase) -> None:
        return None

    async def status(self, application_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {}


def check_charges(charges: Any, form_fields: set[str], certificates: Catalog, entry: dict[str, Any]) -> None:
    """The catalog's ``charges`` of a matter, checked at load (raises ValueError)."""
    if not isinstance(charges, dict):
        raise ValueError("charges: expected an object")
    if entry.get("instant_approval", {}).get("rules"):
        raise ValueError("charges: a matter approved at once (秒批) cannot wait for a fee; drop one of the two")
    if charges.get("due") == "approval" and entry.get("result"):
        raise ValueError("charges: a fee due after approval would follow the result certificate issued at "
                         "approval; charge it at submission")
    items = charges.get("items")
    if not isinstance(items, list) or not items:
        raise ValueError("charges: at least one item")
    for item in items:
        amount = item.get("amount_fen") if isinstance(item, dict) else None
        if not isinstance(item.get("name"), str) or not item["name"] or type(amount) is not int or amount <= 0:
            raise ValueError("charges: each item needs a name and a positive amount_fen (integer fen)")
    if charges.get("due") not in DUE_NAMES:
        raise ValueError(f"charges: due must be one of {', '.join(DUE_NAMES)}")
    collector = charges.get("collector")
    if not isinstance(collector, dict) or not all(isinstance(collector.get(k), str) and collector[k]
                                                  for k in ("department", "department_name", "merchant")):
        raise ValueError("charges: collector needs department, department_name and merchant")
    for i, w in enumerate(charges.get("waivers", [])):
        try:
            if not isinstance(w, dict) or not isinstance(w.get("name"), str) or "rule" not in w:
                raise RuleError("each waiver needs a name and a rule")
            validate_rule(w["rule"], form_fields, certificates)
        except RuleError as e:
            raise ValueError(f"charges: waiver {i + 1}: {e}") from None


def blocking_stage(charges: dict[str, Any] | None, action: str, state: str) -> str | None:
    """The fee stage that must be settled before ``action`` (None: nothing to check)."""
    if not charges or BLOCKS.get(charges["due"]) != action:
        return None
    if action == "complete" and state != "approved":  # a denied application is closed without paying
        return None
    return charges["due"]
