"""Person accounts: one identity across mini-program, H5, business portal.

Rules kept here (and only here):
* an account is created by its first login (WeChat or SMS) and gets an opaque id;
* a phone, a WeChat identity (appid+openid, or its unionid) and an ID number each belong
  to at most one account; a conflicting binding is a 409, never a silent merge. The one
  exception is explicit and reported: a brand-new, empty WeChat account (L0, nothing
  else bound) that proves a phone of an existing account hands its WeChat identity to
  that account (``account_switched``) — the same person logging in through WeChat;
* levels only go up: L1 phone, L2 name + ID number verified, L3 face verified;
* every change and every reveal of personal data is written to the person's audit chain.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from identity.accounts.models import ActivityEntry, ActivityOut, Profile, RealnameOut
from identity.accounts.sms import SmsCodes, validate_phone
from identity.actors import ActorNames
from identity.agreements.service import Agreements
from identity.accounts.storage import PersonStore
from identity.documents import InvalidDocument, country_name, mask_document, parse_document, type_of
from identity.phones import mask_any_phone
from identity.sessions.service import Sessions, TokenPair
from identity.verification import VerificationProvider
from server.audit import Actor, AuditTrail
from server.clock import now_ms, to_datetime
from server.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    PermissionDenied,
    RateLimited,
    Unprocessable,
)
from server.masking import mask_name
from server.pii import PiiCipher
from server.principal import LEVEL_NAMES, Caller, Principal, person_chain, require_level
from server.providers.wechat import WeChatGateway
from server.storage.limits import Limits

CHINA = timezone(timedelta(hours=8))
REALNAME_DAILY_ATTEMPTS = 10
_INVALID_CODES = {"id_number": "id_number_invalid", "nationality": "nationality_invalid",
                  "visa_number": "visa_number_invalid"}


@dataclass(frozen=True)
class LoginResult:
    tokens: TokenPair
    person: Profile
    is_new: bool


@dataclass(frozen=True)
class PhoneBound:
    person: Profile
    account_switched: bool
    access_token: str
    expires_in: int
    tokens: TokenPair | None  # a whole new session when the account switched


@dataclass(frozen=True)
class LevelUp:
    person: Profile
    access_token: str
    expires_in: int


class AccountService:
    def __init__(self, persons: PersonStore, sessions: Sessions, sms: SmsCodes, wechat: WeChatGateway,
                 verifier: VerificationProvider, audit: AuditTrail, pii: PiiCipher, limits: Limits,
                 agreements: Agreements, actor_names: ActorNames, public_base_url: str):
        self.persons = persons
        self.sessions = sessions
        self.sms = sms
        self.wechat = wechat
        self.verifier = verifier
        self.audit = audit
        self.pii = pii
        self.limits = limits
        self.agreements = agreements
        self.actor_names = actor_names
        self.public_base_url = public_base_url

    # -- accounts -----------------------------------------------------------------------------

    async def _record(self, person_id: str, actor: Actor, action: str, caller: Caller, **details: Any) -> None:
        await self.audit.record(person_chain(person_id), actor, action, target={"type": "person", "id": person_id},
                                channel=caller.channel, ip=caller.ip, details=details)

    async def _create(self, person_id: str, caller: Caller, via: str, **fields: Any) -> dict[str, Any]:
        now = now_ms()
        doc = {"_id": person_id, "status": "active", "level": 0, "nickname": None, "elder_mode": False,
               "phone_enc": None, "phone_bidx": None, "wechat_bound": False, "realname": None,
               "face_verified_at": None, "created_at": now, "updated_at": now, **fields}
        await self.persons.insert(doc)
        await self._record(person_id, Actor("person", person_id), "account.created", caller, via=via)
        return doc

    async def _person(self, person_id: str) -> dict[str, Any]:
        doc = await self.persons.get(person_id)
        if doc is None or doc.get("status") != "active":
            raise PermissionDenied("账户不存在或已停用", code="account_inactive")
        return doc

    def _phone_fields(self, phone: str) -> dict[str, Any]:
        return {"phone_enc": self.pii.encrypt(phone, "phone"), "phone_bidx": self.pii.blind_index(phone, "phone")}

    async def _account_for_phone(self, phone: str, caller: Caller) -> tuple[dict[str, Any], bool]:
        key = self.pii.blind_index(phone, "phone")
        owner = await self.persons.bound_to("phone", key)
        if owner is None:
            new_id = _new_person_id()
            owner = await self.persons.claim("phone", key, new_id, now_ms())
            if owner == new_id:
                return await self._create(new_id, caller, "sms", level=1, **self._phone_fields(phone)), True
        doc = await self.persons.get(owner)
        if doc is None:  # the binding was claimed but the account never written (crash): finish it
            return await self._create(owner, caller, "sms", level=1, **self._phone_fields(phone)), True
        return doc, False

    async def _account_for_wechat(self, appid: str, openid: str, unionid: str | None,
                                  caller: Caller) -> tuple[dict[str, Any], bool]:
        key = f"{appid}:{openid}"
        owner = await self.persons.bound_to("wechat", key)
        if owner is None and unionid:
            # Same WeChat user through another app of ours: same person.
            owner = await self.persons.bound_to("wechat_union", unionid)
        if owner is None:
            new_id = _new_person_id()
            owner = await self.persons.claim("wechat", key, new_id, now_ms(), unionid=unionid)
            if owner == new_id:
                if unionid:
                    await self.persons.claim("wechat_union", unionid, new_id, now_ms())
                return await self._create(new_id, caller, "wechat", wechat_bound=True), True
        else:
            await self.persons.claim("wechat", key, owner, now_ms(), unionid=unionid)
        doc = await self.persons.get(owner)
        if doc is None:
            return await self._create(owner, caller, "wechat", wechat_bound=True), True
        return doc, False

    async def _login(self, doc: dict[str, Any], is_new: bool, caller: Caller, via: str) -> LoginResult:
        if doc.get("status") != "active":
            raise PermissionDenied("账户已停用", code="account_inactive")
        pair = await self.sessions.start(doc["_id"], caller.channel, doc["level"])
        await self._record(doc["_id"], Actor("person", doc["_id"]), "login", caller, via=via)
        return LoginResult(pair, self.profile(doc), is_new)

    # -- logins --------------------------------------------------------------------------------

    async def send_sms_code(self, phone: str, agreements: dict[str, str] | None, caller: Caller) -> int:
        """A login code, once the current 用户协议 and 隐私政策 are agreed to (on record first)."""
        phone = validate_phone(phone)
        await self.agreements.record(self.pii.blind_index(phone, "phone"), agreements, caller)
        return await self.sms.send(phone, caller.ip)

    async def login_sms(self, phone: str, code: str, caller: Caller) -> LoginResult:
        phone = await self.sms.verify(phone, code, caller.ip)
        agreed = await self.agreements.agreed(self.pii.blind_index(phone, "phone"))
        doc, is_new = await self._account_for_phone(phone, caller)
        return await self._login(await self._agreed(doc, agreed, caller), is_new, caller, "sms")

    async def login_wechat(self, code: str, agreements: dict[str, str] | None, caller: Caller) -> LoginResult:
        """The mini-program's login: its privacy popup and the agreements come first (checked
        before the one-time WeChat code is spent)."""
        agreed = self.agreements.check(agreements)
        wx = await self.wechat.code_to_session(code)
        doc, is_new = await self._account_for_wechat(self.wechat.appid, wx.openid, wx.unionid, caller)
        return await self._login(await self._agreed(doc, agreed, caller), is_new, caller, "wechat")

    async def _agreed(self, doc: dict[str, Any], versions: dict[str, str], caller: Caller) -> dict[str, Any]:
        """The versions of the agreements the person agreed to, on the account and in its trail."""
        if doc.get("agreements") == versions:
            return doc
        doc = await self.persons.update(doc["_id"], {"agreements": versions}, now_ms())
        await self._record(doc["_id"], Actor("person", doc["_id"]), "agreements.accepted", caller, **versions)
        return doc

    async def bind_phone_wechat(self, principal: Principal, code: str, caller: Caller) -> PhoneBound:
        phone = await self.wechat.phone_number(code)
        me = await self._person(principal.subject)
        key = self.pii.blind_index(phone, "phone")
        owner = await self.persons.bound_to("phone", key)
        if owner is None:
            owner = await self.persons.claim("phone", key, me["_id"], now_ms())
        if owner == me["_id"]:
            if me.get("phone_bidx") != key:
                if me.get("phone_bidx"):
                    await self.persons.release("phone", me["phone_bidx"], me["_id"])
                me = await self.persons.update(me["_id"], self._phone_fields(phone), now_ms(), max_={"level": 1})
                await self._record(me["_id"], Actor("person", me["_id"]), "phone.bound", caller,
                                   phone=mask_any_phone(phone), via="wechat")
            token, claims = self.sessions.derive(principal, me["level"])
            return PhoneBound(self.profile(me), False, token, self.sessions.tokens.ttl, None)
        return await self._hand_wechat_to(me, owner, phone, principal, caller)

    async def _hand_wechat_to(self, me: dict[str, Any], owner_id: str, phone: str, principal: Principal,
                              caller: Caller) -> PhoneBound:
        """The phone belongs to another account. Only an empty WeChat account may join it."""
        conflict = Conflict("该手机号已绑定其他账户，如需更换请使用该手机号登录后操作，或联系客服",
                            code="phone_bound_to_other_account",
                            errors=[FieldError("code", "该手机号已被其他账户绑定")])
        empty = me["level"] == 0 and not me.get("phone_bidx") and not me.get("realname")
        owner = await self.persons.get(owner_id)
        if not empty or owner is None or owner.get("status") != "active":
            raise conflict
        mine = await self.persons.bindings_of("wechat", me["_id"])
        theirs = await self.persons.bindings_of("wechat", owner_id)
        appids = {b["_id"].split(":", 1)[0] for b in theirs}
        if any(b["_id"].split(":", 1)[0] in appids for b in mine):
            raise conflict  # the other account already has a (different) WeChat user of this app
        now = now_ms()
        for b in mine:
            await self.persons.move_binding("wechat", b["_id"], me["_id"], owner_id, now)
            if b.get("unionid"):
                await self.persons.move_binding("wechat_union", b["unionid"], me["_id"], owner_id, now)
        owner = await self.persons.update(owner_id, {"wechat_bound": True}, now)
        await self.persons.update(me["_id"], {"status": "joined", "joined_into": owner_id, "wechat_bound": False}, now)
        await self.sessions.end_all(me["_id"])
        await self._record(owner_id, Actor("person", owner_id), "wechat.bound", caller,
                           via="phone", phone=mask_any_phone(phone))
        await self._record(me["_id"], Actor("person", me["_id"]), "account.joined", caller, into=owner_id)
        pair = await self.sessions.start(owner_id, principal.channel, owner["level"])
        return PhoneBound(self.profile(owner), True, pair.access_token, pair.expires_in, pair)

    async def refresh(self, refresh_token: str) -> TokenPair:
        outcome, successor = await self.sessions.verify_refresh(refresh_token)
        doc = await self.persons.get(outcome.person_id)
        if doc is None or doc.get("status") != "active":
            raise PermissionDenied("账户已停用", code="account_inactive")
        return await self.sessions.pair_after_refresh(outcome, successor, doc["level"])

    async def logout(self, principal: Principal, refresh_token: str | None, caller: Caller) -> None:
        await self.sessions.end(principal, refresh_token)
        await self._record(principal.subject, Actor("person", principal.subject), "logout", caller)

    async def logout_all(self, principal: Principal, caller: Caller) -> None:
        n = await self.sessions.end_all(principal.subject)
        await self._record(principal.subject, Actor("person", principal.subject), "logout.all", caller, sessions=n)

    # -- real name -------------------------------------------------------------------------------

    async def verify_realname(self, principal: Principal, name: str, id_number: str, caller: Caller,
                              id_type: str = "resident_id", nationality: str | None = None,
                              visa_number: str | None = None) -> LevelUp:
        """L2 by a document the verification provider confirms: the resident ID card, or a
        document of people from Hong Kong, Macao, Taiwan and abroad (:mod:`identity.documents`).
        A document check reaches L2 at most; L3 needs the face check."""
        require_level(principal, 1)
        try:
            parsed = parse_document(id_type, id_number, nationality, visa_number)
        except InvalidDocument as e:
            raise InvalidInput(str(e), code=_INVALID_CODES.get(e.field, "validation_failed"),
                               errors=[FieldError(e.field, str(e))], extra={"reason": e.reason}) from None
        me = await self._person(principal.subject)
        id_key = self.pii.blind_index(parsed.number, "id_number")
        if me.get("realname"):
            if me["realname"]["id_bidx"] == id_key and me["realname"]["name"] == name:
                return self._level_up(me, principal)  # already done: same answer again
            raise Conflict("您已完成实名认证，如需变更身份信息请联系客服", code="realname_already_verified")
        owner = await self.persons.bound_to("id", id_key)
        if owner is not None and owner != me["_id"]:
            raise Conflict("该证件号码已被其他账户实名认证，如有疑问请联系客服", code="id_number_bound_to_other_account",
                           errors=[FieldError("id_number", "该证件号码已被其他账户使用")])
        day = datetime.now(CHINA).strftime("%Y%m%d")
        if await self.limits.add_day("realname", me["_id"], day) > REALNAME_DAILY_ATTEMPTS:
            raise RateLimited("今日实名认证尝试次数过多，请明天再试", code="realname_too_many_attempts",
                              retry_after=_seconds_to_midnight())
        result = await self.verifier.verify_identity(name, parsed.number, parsed.id_type, parsed.nationality,
                                                     parsed.visa_number)
        if result != "match":
            await self._record(me["_id"], Actor("person", me["_id"]), "realname.failed", caller,
                               result=result, id_type=parsed.id_type, id_number=parsed.masked)
            if result == "mismatch" and parsed.id_type == "passport":
                raise Unprocessable("姓名或签证号码与护照信息不一致，请核对后重试", code="realname_mismatch",
                                    errors=[FieldError("name", "姓名或签证号码与护照信息不一致")])
            if result == "mismatch":
                raise Unprocessable("姓名与证件号码不一致，请核对后重试", code="realname_mismatch",
                                    errors=[FieldError("name", "姓名与证件号码不一致")])
            raise Unprocessable("未能核验到该身份信息，请核对证件号码", code="realname_not_found",
                                errors=[FieldError("id_number", "未能核验到该身份信息")])
        owner = await self.persons.claim("id", id_key, me["_id"], now_ms())
        if owner != me["_id"]:
            raise Conflict("该证件号码已被其他账户实名认证", code="id_number_bound_to_other_account",
                           errors=[FieldError("id_number", "该证件号码已被其他账户使用")])
        realname = {"name": name, "id_enc": self.pii.encrypt(parsed.number, "id_number"), "id_bidx": id_key,
                    "id_type": parsed.id_type, "document": parsed.document, "nationality": parsed.nationality,
                    "gender": parsed.gender,
                    "birth_date": parsed.birth_date.isoformat() if parsed.birth_date else None,
                    "verified_at": now_ms()}
        me = await self.persons.update(me["_id"], {"realname": realname}, now_ms(), max_={"level": 2})
        await self._record(me["_id"], Actor("person", me["_id"]), "realname.verified", caller,
                           document=parsed.document, id_type=parsed.id_type, id_number=parsed.masked,
                           nationality=parsed.nationality or "")
        return self._level_up(me, principal)

    async def verify_face(self, principal: Principal, evidence: str, caller: Caller) -> LevelUp:
        require_level(principal, 2)
        me = await self._person(principal.subject)
        rn = me.get("realname")
        if not rn:
            raise PermissionDenied("请先完成实名认证（L2）", code="level_too_low",
                                   extra={"required_level": 2, "current_level": me["level"]})
        id_number = self.pii.decrypt(rn["id_enc"], "id_number")
        result = await self.verifier.verify_face(rn["name"], id_number, evidence, type_of(rn), rn.get("nationality"))
        if result != "pass":
            await self._record(me["_id"], Actor("person", me["_id"]), "face.failed", caller)
            raise Unprocessable("人脸核验未通过，请在光线充足处正对屏幕重试", code="face_verification_failed",
                                errors=[FieldError("evidence", "人脸核验未通过")])
        me = await self.persons.update(me["_id"], {"face_verified_at": now_ms()}, now_ms(), max_={"level": 3})
        await self._record(me["_id"], Actor("person", me["_id"]), "face.verified", caller)
        return self._level_up(me, principal)

    async def face_session(self, principal: Principal, return_path: str) -> str:
        """Where a browser does its face check (the provider's page), coming back to
        ``return_path`` of this app with the provider's result."""
        require_level(principal, 2)
        me = await self._person(principal.subject)
        rn = me.get("realname")
        if not rn:
            raise PermissionDenied("请先完成实名认证（L2）", code="level_too_low",
                                   extra={"required_level": 2, "current_level": me["level"]})
        return await self.verifier.face_session(rn["name"], self.pii.decrypt(rn["id_enc"], "id_number"),
                                                self.public_base_url + return_path, type_of(rn),
                                                rn.get("nationality"))

    def _level_up(self, me: dict[str, Any], principal: Principal) -> LevelUp:
        token, _ = self.sessions.derive(principal, me["level"], principal.claims)
        return LevelUp(self.profile(me), token, self.sessions.tokens.ttl)

    # -- profile -----------------------------------------------------------------------------

    async def me(self, principal: Principal, reveal: bool, caller: Caller) -> Profile:
        doc = await self._person(principal.subject)
        if reveal:
            await self._record(doc["_id"], Actor("person", doc["_id"]), "pii.revealed", caller,
                               fields=["name", "id_number", "phone"])
        return self.profile(doc, reveal=reveal)

    async def update_me(self, principal: Principal, changes: dict[str, Any], caller: Caller) -> Profile:
        doc = await self._person(principal.subject)
        if changes:
            doc = await self.persons.update(doc["_id"], changes, now_ms())
            await self._record(doc["_id"], Actor("person", doc["_id"]), "profile.updated", caller,
                               fields=sorted(changes))
        return self.profile(doc)

    async def activity(self, principal: Principal, limit: int, before: int | None) -> ActivityOut:
        chain = person_chain(principal.subject)
        entries = await self.actor_names.label(await self.audit.read(chain, limit=limit, before_seq=before),
                                               principal.subject)
        check = await self.audit.verify(chain)
        return ActivityOut(items=[ActivityEntry(**{**e, "at": to_datetime(e["at"])}) for e in entries],
                           chain_ok=check.ok)

    def profile(self, doc: dict[str, Any], reveal: bool = False) -> Profile:
        phone = self.pii.decrypt(doc["phone_enc"], "phone") if doc.get("phone_enc") else None
        rn = doc.get("realname")
        realname = None
        if rn:
            id_number = self.pii.decrypt(rn["id_enc"], "id_number")
            nationality = rn["nationality"] if "nationality" in rn else _nationality_of(type_of(rn), id_number)
            realname = RealnameOut(
                name=rn["name"] if reveal else mask_name(rn["name"]),
                id_number=id_number if reveal else mask_document(id_number),
                id_type=type_of(rn), document=rn["document"], nationality=nationality,
                nationality_name=country_name(nationality), gender=rn.get("gender"),
                birth_date=rn.get("birth_date"), verified_at=to_datetime(rn["verified_at"]),
            )
        return Profile(
            id=doc["_id"], level=doc["level"], level_name=LEVEL_NAMES[doc["level"]],
            phone=(phone if reveal else mask_any_phone(phone)) if phone else None,
            nickname=doc.get("nickname"), elder_mode=bool(doc.get("elder_mode")),
            wechat_bound=bool(doc.get("wechat_bound")), realname=realname,
            face_verified_at=to_datetime(doc.get("face_verified_at")), revealed=reveal,
            created_at=to_datetime(doc["created_at"]),
        )


def _nationality_of(id_type: str, id_number: str) -> str | None:
    """Of a real name verified before document types were kept (an 18-digit number says it)."""
    try:
        return parse_document(id_type, id_number).nationality
    except InvalidDocument:
        return None


def _new_person_id() -> str:
    return "p" + secrets.token_hex(12)


def _seconds_to_midnight() -> int:
    now = datetime.now(CHINA)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((tomorrow - now).total_seconds())
