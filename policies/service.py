"""政策兑现: the catalog, matching (for the caller: a person, or the enterprise it acts for
with the ``matters`` scope), 主动提醒 and 公示. A holder's facts are read once per evaluation
through identity's facade and the wallet's ``HoldingService.satisfies`` (``matters.applicant``);
claims, the department's review and disbursement are ``policies.claims``.

主动提醒 is incremental: the wallet (a certificate issued) and identity (an enterprise bound)
tell :meth:`PolicyService.holder_changed` through ports passed in by the root; the holder is
marked, re-evaluated at once, and a worker round (:meth:`recheck_due`) catches up a mark whose
evaluation failed. A newly published policy is evaluated for the holders seen so far
(:meth:`announce_new`), one pass per policy. Each holder is told once per policy and period."""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from identity.facade import Directory
from matters.applicant import Applicant, Sources
from notifications.service import Notifications
from policies.catalog import MODES, PERIODS, Policy, PolicyCatalog
from policies.claims import STATE_NAMES, ClaimService
from policies.matching import holder_facts, match, wanted_types, with_form
from policies.storage import RecheckStore
from server.audit import Actor
from server.clock import now_ms
from server.errors import Conflict, FieldError, InvalidInput, NotFound
from server.principal import Caller, Principal, require_level

log = logging.getLogger("superapp.policies")
RETRY_AFTER_MS = 60_000


def birthday_on(today: date, years: int) -> date:
    """The birth date of someone who turns ``years`` today (today 29 February, that year without one: 28 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, month=2, day=28)


class PolicyService:
    def __init__(self, catalog: PolicyCatalog, sources: Sources, directory: Directory, rechecks: RecheckStore,
                 claims: ClaimService, notifications: Notifications):
        self.catalog = catalog
        self.sources = sources
        self.directory = directory
        self.rechecks = rechecks
        self.claims = claims
        self.notifications = notifications

    # -- the catalog ----------------------------------------------------------------------------------

    def view(self, p: Policy, today: date | None = None) -> dict[str, Any]:
        today = today or self.claims.today()
        return {"code": p.code, "title": p.title, "kind": p.kind, "department": p.department,
                "department_name": p.department_name, "basis": p.raw.get("basis", ""),
                "basis_link_text": p.raw.get("basis_link_text", ""), "target": p.target,
                "valid_from": p.valid_from.isoformat(), "valid_until": p.valid_until.isoformat(),
                "open": p.open_on(today), "period": p.period, "period_name": PERIODS[p.period], "mode": p.mode,
                "mode_name": MODES[p.mode], "benefit": p.benefit.get("text", ""),
                "rules": [r["name"] for r in p.rules], "declared": p.declared,
                "materials": p.raw.get("materials", []), "matter": p.raw.get("matter"), "publicity": p.publicity}

    def list(self, target: str | None) -> list[dict[str, Any]]:
        today = self.claims.today()
        return [self.view(p, today) for p in self.catalog.policies.values() if target in (None, p.target)]

    def policy(self, code: str) -> Policy:
        p = self.catalog.get(code)
        if p is None:
            raise NotFound("没有找到这项政策", code="policy_not_found")
        return p

    # -- matching -----------------------------------------------------------------------------------

    async def facts(self, applicant: Applicant, policies: list[Policy], today: date) -> dict[str, Any]:
        certs: dict[str, Any] = dict.fromkeys(wanted_types(policies))
        if applicant.holder_index and certs:
            certs.update(await self.sources.wallet.satisfies(applicant.kind, applicant.holder_index, sorted(certs)))
        return holder_facts(applicant, certs, today)

    async def matches(self, principal: Principal) -> dict[str, Any]:
        applicant = await self.sources.applicant(principal)
        today = self.claims.today()
        policies = [p for p in self.catalog.of_target(applicant.kind) if p.open_on(today)]
        facts = await self.facts(applicant, policies, today)
        await self.rechecks.seen(applicant.key, applicant.kind, self._notify_to(applicant), now_ms())
        held = {c["policy"]: c for c in reversed(await self.claims.of_holder(applicant.key))}  # newest wins
        items = []
        for p in policies:
            m = match(p, facts)
            claim = held.get(p.code) if held.get(p.code, {}).get("period") == p.period_of(today) else None
            if claim is None and m["status"] == "eligible" and p.mode == "auto":  # 免申即享: granted on sight
                claim = await self.claims.offer(p, self._holder(applicant)) or await self.claims.current(
                    applicant.key, p)
            items.append({"policy": self.view(p, today), **m,
                          "needs": [d for d in p.declared if d["name"] in m["needs"]],
                          "claim": self.claims.view(claim) if claim else None})
        order = {"eligible": 0, "maybe": 1, "not_eligible": 2}
        items.sort(key=lambda i: order[i["status"]])
        return {"holder": {"kind": applicant.kind, "name": applicant.name}, "items": items}

    @staticmethod
    def _notify_to(applicant: Applicant) -> str:
        return applicant.enterprise.admin_person_id if applicant.enterprise is not None else applicant.person_id

    # -- claims by the holder ------------------------------------------------------------------------

    @staticmethod
    def _form(policy: Policy, form: dict[str, Any]) -> dict[str, Any]:
        declared = {d["name"]: d["type"] for d in policy.declared}
        errors = []
        for k, v in form.items():
            kind = declared.get(k)
            ok = kind is not None and {"boolean": isinstance(v, bool),
                                      "integer": isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100000,
                                      "string": isinstance(v, str) and len(v) <= 200}[kind]
            if not ok:
                errors.append(FieldError(f"form.{k}", "不是这项政策要申报的内容" if kind is None else "格式不正确"))
        if errors:
            raise InvalidInput("申报内容有误", code="declaration_invalid", errors=errors)
        return form

    async def confirm(self, principal: Principal, code: str, form: dict[str, Any], account: str, account_name: str,
                      caller: Caller) -> dict[str, Any]:
        require_level(principal, 2)
        policy = self.policy(code)
        today = self.claims.today()
        if not policy.open_on(today):
            raise Conflict(f"该政策的兑现期为 {policy.valid_from} 至 {policy.valid_until}，当前不在兑现期内",
                           code="policy_expired")
        if policy.mode == "apply":
            raise Conflict("该政策须通过办事申请办理", code="apply_through_matters",
                           extra={"matter": policy.raw.get("matter")})
        applicant = await self.sources.applicant(principal)
        if applicant.kind != policy.target:
            raise Conflict("该政策的对象为" + ("个人" if policy.target == "person" else "企业"), code="wrong_target")
        form = self._form(policy, form)
        m = match(policy, with_form(await self.facts(applicant, [policy], today), form))
        if m["status"] == "not_eligible":
            raise Conflict("不符合该政策的条件：" + "、".join(m["failing"]), code="not_eligible",
                           extra={"failing_rules": m["failing"]})
        if m["status"] == "maybe":
            raise InvalidInput("请填写申报事项", code="declaration_missing",
                               errors=[FieldError(f"form.{n}", "请填写") for n in m["needs"]])
        claim = await self.claims.confirm(policy, self._holder(applicant), form, account, account_name,
                                          Actor("person", principal.subject), caller.channel)
        return self.claims.view(claim)

    def _holder(self, applicant: Applicant) -> dict[str, str]:
        return {"key": applicant.key, "person_id": self._notify_to(applicant), "name": applicant.name}

    async def mine(self, principal: Principal) -> list[dict[str, Any]]:
        applicant = await self.sources.applicant(principal)
        return [self.claims.view(c) for c in await self.claims.of_holder(applicant.key)]

    async def publicity(self, code: str, period: str | None) -> dict[str, Any]:
        policy = self.policy(code)
        if not policy.publicity:
            raise NotFound("该政策不公示受益名单", code="publicity_off")
        period = period or policy.period_of(self.claims.today())
        return {"policy": policy.code, "title": policy.title, "period": period,
                "items": await self.claims.publicity(policy, period)}

    # -- 主动提醒 ---------------------------------------------------------------------------------------

    async def holder_changed(self, holder: str) -> None:
        """The port: a holder's facts changed (``person:<id>`` / ``enterprise:<id>``). Never
        raises: the mark stays for the worker if the evaluation fails."""
        now = now_ms()
        try:
            await self.rechecks.mark(holder, now)
            await self.recheck(holder)
            await self.rechecks.done(holder, now)
        except Exception:  # noqa: BLE001 - the fact change itself must not fail
            log.exception("policy re-evaluation of %s failed; the worker will retry", holder)

    async def recheck_due(self) -> int:
        n = 0
        for mark in await self.rechecks.due(now_ms() - RETRY_AFTER_MS):
            try:
                await self.recheck(mark["_id"])
                await self.rechecks.done(mark["_id"], mark["due_at"])
                n += 1
            except Exception:  # noqa: BLE001
                log.exception("policy re-evaluation of %s failed", mark["_id"])
        return n

    async def _applicant_of(self, holder: str) -> Applicant | None:
        kind, ident = holder.split(":", 1)
        if kind == "person":
            a = await self.sources.person_applicant(ident)
            return a if a.person is not None and a.person.active else None
        e = await self.directory.enterprise(ident)
        return None if e is None else Applicant("enterprise", e.id, e.name, e.admin_person_id, enterprise=e)

    async def recheck(self, holder: str, only: list[Policy] | None = None) -> list[str]:
        """Evaluate one holder (against ``only`` these policies, or all open ones of its kind);
        tell it of each policy it is eligible for, or may be; offer claims to the eligible."""
        applicant = await self._applicant_of(holder)
        if applicant is None:
            return []
        today = self.claims.today()
        policies = [p for p in (only or self.catalog.of_target(applicant.kind))
                    if p.target == applicant.kind and p.open_on(today)]
        if not policies:
            return []
        facts = await self.facts(applicant, policies, today)
        person_id = self._notify_to(applicant)
        await self.rechecks.seen(applicant.key, applicant.kind, person_id, now_ms())
        told, requests = [], []
        for p in policies:
            m = match(p, facts)
            if m["status"] == "not_eligible":
                continue
            if m["status"] == "eligible" and p.mode != "apply":
                await self.claims.offer(p, self._holder(applicant))
            told.append(p.code)
            comment = ("已为您核定，提供收款账户即可发放" if p.mode == "auto" else
                       "您符合条件，确认即可申领" if m["status"] == "eligible" else "补充申报信息即可申领")
            requests.append({"_id": f"policy:{p.code}:{p.period_of(today)}:{applicant.key}", "person_id": person_id,
                             "title": p.title, "state": m["status"], "state_name": "可享受" if m["status"] == "eligible"
                             else "可能符合", "number": p.code, "comment": comment, "at": now_ms(),
                             "page": f"/policies/{p.code}", "department": p.department, "about": "policy",
                             "policy_id": p.code})
        if requests:
            await self.notifications.enqueue(requests)
        return told

    def age_thresholds(self) -> set[int]:
        """The ages person policies' rules compare with (a birthday there may change a match)."""
        found: set[int] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for op, args in node.items():
                    if op in ("<", "<=", ">", ">=", "==") and isinstance(args, list) and {"var": "identity.age"} in args:
                        found.update(int(a) for a in args if isinstance(a, (int, float)) and not isinstance(a, bool))
                    walk(args)
            elif isinstance(node, list):
                for x in node:
                    walk(x)

        for p in self.catalog.of_target("person"):
            for r in p.rules:
                walk(r["rule"])
        return found

    async def birthdays(self) -> int:
        """Once a day: people whose birthday today crosses an age a rule names (80 for 高龄津贴)
        are evaluated again, and told of what they have become eligible for."""
        today = self.claims.today()
        if not await self.rechecks.announce(f"birthdays:{today.isoformat()}", now_ms()):
            return 0
        n = 0
        for age in sorted({a for t in self.age_thresholds() for a in (t, t + 1)}):
            for person_id in await self.directory.persons_born_on(birthday_on(today, age)):
                await self.holder_changed(f"person:{person_id}")
                n += 1
        return n

    async def announce_new(self) -> int:
        """Policies open today whose publication was not yet announced: each is evaluated for
        the holders seen so far (one pass per policy, not per event)."""
        n = 0
        today = self.claims.today()
        for p in self.catalog.policies.values():
            if not p.open_on(today) or not await self.rechecks.announce(p.code, now_ms()):
                continue
            after = ""
            while batch := await self.rechecks.holders(p.target, after):
                for h in batch:
                    try:
                        n += len(await self.recheck(h["_id"], [p]))
                    except Exception:  # noqa: BLE001
                        log.exception("announcing %s to %s failed", p.code, h["_id"])
                after = batch[-1]["_id"]
        return n


__all__ = ["PolicyService", "STATE_NAMES"]
