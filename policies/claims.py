"""Claims: one per holder, policy and period (a unique index makes it atomic). States:

``pending_confirmation`` (eligible, found by 主动提醒) → ``confirmed`` (the holder confirmed and
gave a bank account) → ``approved`` (the department) → ``paying`` (sent to the bank) →
``paid`` | ``failed`` (→ ``paying`` again on retry); ``rejected`` with a reason. 免申即享
(``auto``) policies skip the review: ``granted`` when eligibility is confirmed, ``approved``
once the holder gives the account. Bank account numbers pass the Luhn check, are encrypted
at rest and shown masked; the bank's callback is verified before anything changes, and a
replayed one changes nothing."""
from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime
from typing import Any

from policies.bank import PayoutError, PayoutProvider, verify
from policies.catalog import Policy, PolicyCatalog
from policies.storage import ClaimStore
from notifications.service import Notifications
from server.audit import Actor, AuditTrail
from server.calendar import CHINA
from server.clock import now_ms
from server.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from server.masking import mask_name
from server.pii import PiiCipher
from server.principal import Principal, holder_chain, require_role

log = logging.getLogger("superapp.policies")
STATE_NAMES = {"pending_confirmation": "待确认", "confirmed": "待审核", "granted": "已核定", "approved": "审核通过",
               "paying": "发放中", "paid": "已到账", "failed": "发放失败", "rejected": "未通过"}
PUBLIC_STATES = ["granted", "approved", "paying", "paid"]
STAFF_ROLE = "policy"


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_account(number: str) -> str:
    return f"{number[:4]} **** **** {number[-4:]}"


class ClaimService:
    def __init__(self, store: ClaimStore, catalog: PolicyCatalog, payouts: PayoutProvider, pii: PiiCipher,
                 audit: AuditTrail, notifications: Notifications, notify_url: str):
        self.store = store
        self.catalog = catalog
        self.payouts = payouts
        self.pii = pii
        self.audit = audit
        self.notifications = notifications
        self.notify_url = notify_url

    # -- creating ------------------------------------------------------------------------------------

    @staticmethod
    def today():  # noqa: ANN205
        return datetime.now(CHINA).date()

    def _doc(self, policy: Policy, holder: dict[str, str], state: str, form: dict[str, Any]) -> dict[str, Any]:
        now = now_ms()
        return {"_id": "k" + secrets.token_hex(12), "policy": policy.code, "period": policy.period_of(self.today()),
                "holder": holder["key"], "holder_kind": policy.target, "person_id": holder["person_id"],
                "holder_name": mask_name(holder["name"]), "department": policy.department, "state": state,
                "form": form, "amount_fen": policy.amount_fen(form), "account_enc": None, "account_masked": None,
                "payout_id": None, "attempts": 0, "reason": None, "version": 1, "created_at": now,
                "updated_at": now, "paid_at": None, "history": [f"{state}@{now}"]}

    async def offer(self, policy: Policy, holder: dict[str, str]) -> dict[str, Any] | None:
        """An eligible holder found by 主动提醒: ``pending_confirmation`` (``granted`` when auto);
        None when the holder already has one this period."""
        state = "granted" if policy.mode == "auto" else "pending_confirmation"
        doc = self._doc(policy, holder, state, {})
        # Not in the holder's trail yet (the notification tells them); their confirmation is.
        return doc if await self.store.insert(doc) else None

    async def confirm(self, policy: Policy, holder: dict[str, str], form: dict[str, Any], account: str,
                      account_name: str, actor: Actor, channel: str) -> dict[str, Any]:
        """The holder (found eligible just now) confirms with a bank account."""
        if not luhn_ok(account):
            raise InvalidInput("银行卡号校验未通过，请核对后重新填写", code="bank_account_invalid",
                               errors=[FieldError("bank_account", "卡号校验位不正确")])
        to = "approved" if policy.mode == "auto" else "confirmed"
        fields = {"form": form, "amount_fen": policy.amount_fen(form), "account_enc": self.pii.encrypt(account, "bank_account"),
                  "account_masked": mask_account(account), "account_name": mask_name(account_name),
                  "account_name_enc": self.pii.encrypt(account_name, "bank_account"), "updated_at": now_ms()}
        period = policy.period_of(self.today())
        existing = await self.store.of_holder_policy(holder["key"], policy.code, period)
        if existing is None:
            doc = self._doc(policy, holder, to, {})
            doc.update(fields)
            if not await self.store.insert(doc):
                existing = await self.store.of_holder_policy(holder["key"], policy.code, period)
            else:
                claim = doc
        if existing is not None:
            claim = await self.store.move(existing["_id"], ["pending_confirmation", "granted"], {**fields, "state": to},
                                          f"{to}@{now_ms()}")
            if claim is None:
                raise Conflict(f"本期已申领过该政策（当前状态：{STATE_NAMES[existing['state']]}）", code="claim_exists",
                               extra={"claim_id": existing["_id"]})
        await self._record(claim, actor, "policy.confirmed", channel)
        if to == "approved":
            claim = await self.disburse(claim)
        return claim

    # -- the holder's claims -----------------------------------------------------------------------

    async def of_holder(self, holder_key: str) -> list[dict[str, Any]]:
        return await self.store.of_holder(holder_key)

    async def current(self, holder_key: str, policy: Policy) -> dict[str, Any] | None:
        return await self.store.of_holder_policy(holder_key, policy.code, policy.period_of(self.today()))

    # -- the department ----------------------------------------------------------------------------

    def _staff(self, principal: Principal) -> str:
        require_role(principal, STAFF_ROLE)
        return principal.claims.get("dept", "")

    async def _staff_claim(self, principal: Principal, claim_id: str) -> dict[str, Any]:
        dept = self._staff(principal)
        claim = await self.store.get(claim_id)
        if claim is None or claim["department"] != dept:
            raise NotFound("没有找到这项申领（或非本部门）", code="claim_not_found")
        return claim

    async def queue(self, principal: Principal, state: str | None, policy: str | None) -> list[dict[str, Any]]:
        dept = self._staff(principal)
        return await self.store.of_department(dept, [state] if state else None, policy)

    async def approve(self, principal: Principal, claim_ids: list[str] | None, policy: str | None) -> list[dict[str, Any]]:
        """Approve the named claims, or every confirmed one of the department (of one policy);
        each approved claim goes to the bank at once."""
        dept = self._staff(principal)
        if claim_ids:
            claims = [c for c in [await self.store.get(i) for i in claim_ids] if c and c["department"] == dept]
            if len(claims) != len(set(claim_ids)):
                raise NotFound("有申领不存在或非本部门", code="claim_not_found")
        else:
            claims = await self.store.of_department(dept, ["confirmed"], policy, limit=500)
        out = []
        actor = Actor("staff", principal.subject)
        for c in claims:
            moved = await self.store.move(c["_id"], ["confirmed"], {"state": "approved", "updated_at": now_ms(),
                                                                   "approved_by": principal.subject},
                                          f"approved@{now_ms()}@{principal.subject}")
            if moved is None:
                if claim_ids:
                    raise Conflict(f"申领当前为“{STATE_NAMES[c['state']]}”，不能审核通过", code="illegal_transition",
                                   extra={"claim_id": c["_id"]})
                continue
            await self._record(moved, actor, "policy.approved", "staff")
            out.append(await self.disburse(moved))
        return out

    async def reject(self, principal: Principal, claim_id: str, reason: str) -> dict[str, Any]:
        claim = await self._staff_claim(principal, claim_id)
        moved = await self.store.move(claim["_id"], ["pending_confirmation", "confirmed", "granted"],
                                      {"state": "rejected", "reason": reason, "updated_at": now_ms()},
                                      f"rejected@{now_ms()}@{principal.subject}")
        if moved is None:
            raise Conflict(f"申领当前为“{STATE_NAMES[claim['state']]}”，不能驳回", code="illegal_transition")
        await self._record(moved, Actor("staff", principal.subject), "policy.rejected", "staff", reason=reason)
        await self._tell(moved, f"未通过：{reason}")
        return moved

    async def retry(self, principal: Principal, claim_id: str) -> dict[str, Any]:
        claim = await self._staff_claim(principal, claim_id)
        if claim["state"] != "failed":
            raise Conflict(f"申领当前为“{STATE_NAMES[claim['state']]}”，只有发放失败的可以重新发放",
                           code="illegal_transition")
        return await self.disburse(claim)

    # -- disbursement --------------------------------------------------------------------------------

    async def disburse(self, claim: dict[str, Any]) -> dict[str, Any]:
        """Send an approved (or failed) claim to the bank under a new payout id; at most one
        attempt is in flight (the move to ``paying`` is atomic)."""
        attempt = claim.get("attempts", 0) + 1
        payout_id = f"{claim['_id']}-{attempt}"
        moved = await self.store.move(claim["_id"], ["approved", "failed"],
                                      {"state": "paying", "payout_id": payout_id, "attempts": attempt,
                                       "updated_at": now_ms()}, f"paying@{now_ms()}@{payout_id}")
        if moved is None:
            return claim
        policy = self.catalog.get(moved["policy"])
        order = {"payout_id": payout_id, "claim_id": moved["_id"], "amount_fen": moved["amount_fen"],
                 "account_number": self.pii.decrypt(moved["account_enc"], "bank_account"),
                 "account_name": self.pii.decrypt(moved["account_name_enc"], "bank_account"),
                 "purpose": policy.title if policy else moved["policy"], "notify_url": self.notify_url}
        try:
            await self.payouts.pay(order)
        except PayoutError as e:
            log.warning("payout %s failed: %s", payout_id, e)
            failed = await self.store.move(moved["_id"], ["paying"], {"state": "failed", "last_error": str(e)[:200],
                                                                      "updated_at": now_ms()},
                                           f"failed@{now_ms()}@{payout_id}",
                                           extra={"payout_id": payout_id})
            if failed is not None:
                await self._record(failed, Actor("system", "superapp"), "policy.payout_failed")
            return failed or moved
        await self._record(moved, Actor("system", "superapp"), "policy.payout_sent")
        return moved

    async def callback(self, raw: bytes, signature: str | None) -> dict[str, Any]:
        """The bank's result for a payout: verified, then applied once (a replay changes nothing)."""
        if not self.payouts.key or not verify(self.payouts.key, raw, signature):
            raise Unauthenticated("回调签名无效", code="signature_invalid")
        try:
            body = json.loads(raw)
            payout_id, claim_id, status = body["payout_id"], body["claim_id"], body["status"]
        except (ValueError, KeyError, TypeError):
            raise InvalidInput("回调内容无效", code="callback_invalid") from None
        if status not in ("paid", "failed"):
            raise InvalidInput("回调状态无效", code="callback_invalid")
        claim = await self.store.get(str(claim_id))
        if claim is None or not str(payout_id).startswith(f"{claim['_id']}-"):
            raise NotFound("没有找到这笔代发", code="payout_not_found")
        set_: dict[str, Any] = {"state": status, "updated_at": now_ms(), "bank_ref": body.get("bank_ref")}
        if status == "paid":
            set_["paid_at"] = now_ms()
        else:
            set_["last_error"] = str(body.get("reason") or "银行退回")[:200]
        moved = await self.store.move(claim["_id"], ["paying"], set_, f"{status}@{now_ms()}@{payout_id}",
                                      extra={"payout_id": payout_id})
        if moved is None:  # a replay, or a late answer for an older attempt
            return {"claim_id": claim["_id"], "state": claim["state"], "duplicate": True}
        await self._record(moved, Actor("system", "superapp"), "policy.paid" if status == "paid" else "policy.payout_failed")
        if status == "paid":
            await self._tell(moved, f"已发放 {moved['amount_fen'] / 100:.2f} 元至 {moved['account_masked']}")
        return {"claim_id": moved["_id"], "state": moved["state"], "duplicate": False}

    # -- shared ------------------------------------------------------------------------------------

    async def _record(self, claim: dict[str, Any], actor: Actor, action: str, channel: str = "system",
                      **details: Any) -> None:
        await self.audit.record(holder_chain(claim["holder"]), actor, action,
                                target={"type": "policy_claim", "id": claim["_id"]}, channel=channel,
                                details={"policy": claim["policy"], **details}, event=f"{claim['_id']}:{action}:"
                                f"{claim.get('payout_id') or ''}")

    async def _tell(self, claim: dict[str, Any], comment: str) -> None:
        policy = self.catalog.get(claim["policy"])
        await self.notifications.enqueue([{
            "_id": f"{claim['_id']}:{claim['state']}:{claim.get('payout_id') or ''}", "person_id": claim["person_id"],
            "title": policy.title if policy else claim["policy"], "state": claim["state"],
            "state_name": STATE_NAMES[claim["state"]], "number": claim["policy"], "comment": comment, "at": now_ms(),
            "page": f"/policies/{claim['policy']}", "department": claim["department"], "about": "policy",
            "policy_id": claim["policy"]}])

    def view(self, claim: dict[str, Any]) -> dict[str, Any]:
        policy = self.catalog.get(claim["policy"])
        return {"id": claim["_id"], "policy": claim["policy"], "policy_title": policy.title if policy else "",
                "period": claim["period"], "state": claim["state"], "state_name": STATE_NAMES[claim["state"]],
                "holder_name": claim["holder_name"], "amount_yuan": claim["amount_fen"] / 100,
                "bank_account": claim.get("account_masked"), "reason": claim.get("reason"),
                "department": claim["department"], "created_at": claim["created_at"],
                "updated_at": claim["updated_at"], "paid_at": claim.get("paid_at"), "attempts": claim.get("attempts", 0)}

    async def publicity(self, policy: Policy, period: str) -> list[dict[str, Any]]:
        return [{"name": c["holder_name"], "amount_yuan": c["amount_fen"] / 100, "state_name": STATE_NAMES[c["state"]],
                 "at": c["updated_at"]} for c in await self.store.granted(policy.code, period, PUBLIC_STATES)]
