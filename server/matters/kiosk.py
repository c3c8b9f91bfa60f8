"""A kiosk (or a clerk's window) acting for the resident whose code it scanned: it applies
for a matter on the holder's behalf, using only the certificates the holder approved on
their phone for this visit, and collects ratings for the holder's completed applications.

The form is filled on the server from the holder's identity and those certificates; the
kiosk supplies only the fields no source covers (chosen on the touch screen) and never
sees the identity data it did not ask for. The application is the holder's own: it shows
in their 我的办件, the timeline and audit trail name the kiosk that submitted it.
"""
from __future__ import annotations

from typing import Any

from identity.code_service import ScanActor
from identity.consent import ConsentService
from identity.sessions import Principal
from identity.storage import PersonStore
from server.errors import Conflict, NotFound, Unprocessable
from server.matters.ratings import RatingService
from server.matters.service import Applicant, MatterService

MAX_AWAITING = 5


class KioskMatters:
    def __init__(self, matters: MatterService, consents: ConsentService, ratings: RatingService,
                 persons: PersonStore):
        self.matters = matters
        self.consents = consents
        self.ratings = ratings
        self.persons = persons

    async def apply(self, actor: ScanActor, consent_id: str, matter_code: str, form: dict[str, Any]
                    ) -> tuple[dict[str, Any], bool]:
        person_id, certificates, consented_matter = await self.consents.consented_certificates(actor, consent_id)
        matter = self.matters.matter(matter_code)
        if consented_matter != matter.code:  # purpose limitation: approved for that matter only
            raise Conflict("持码人同意的是为办理另一事项提供证照，不能用于本事项" if consented_matter else
                           "该授权请求未指明事项，不能用于代为申请；请按事项重新发起授权",
                           code="consent_matter_mismatch", extra={"consented_matter": consented_matter})
        person = await self.persons.get(person_id) or {}
        holder = Principal(subject=person_id, channel="kiosk", level=person.get("level", 0), jti="", exp=0,
                           claims={"via": actor.id})
        name = (person.get("realname") or {}).get("name", "")
        applicant = Applicant("person", person_id, name, person_id, certificates=certificates,
                              via={"type": actor.type, "id": actor.id, "name": actor.name,
                                   "department": actor.department})
        prefilled = await self.matters.prefill_for(applicant, matter)
        body = {"matter": matter.code, "form": {**form, **prefilled}, "materials": []}
        # One consent, one application: the consent id is the idempotency key, so a retry
        # replays the first answer and a kiosk cannot file a second, different application
        # on the strength of the same approval.
        try:
            return await self.matters.submit(holder, f"{actor.type}:{actor.id}:consent:{consent_id}", body,
                                             applicant=applicant)
        except Unprocessable as e:
            if e.code != "idempotency_key_reused":
                raise
            raise Conflict("本次授权已用于提交一份申请；如需办理其他事项，请重新扫码并请持码人授权",
                           code="consent_already_used") from None

    async def awaiting_rating(self, actor: ScanActor, scan_id: str) -> list[dict[str, Any]]:
        """The scanned holder's completed, unrated applications that were submitted in this
        hall (by one of its kiosks or windows): 现场评价 of what was handled on site. The
        holder's other applications are none of the kiosk's business."""
        scan = await self.ratings.scans.scan_record(scan_id)
        if not scan or scan.get("actor_id") != actor.id or scan.get("actor_type") != actor.type:
            raise NotFound("未找到该扫码记录（或已超过 15 分钟）", code="scan_not_found")
        if not scan["holder"].startswith("person:"):
            return []
        apps = [a for a in await self.matters.store.of_applicant(scan["holder"])
                if a["state"] == "completed" and actor.department
                and (a.get("via") or {}).get("department") == actor.department]
        out = []
        for app in apps[: MAX_AWAITING * 4]:
            if await self.ratings.store.get(app["_id"]) is None:
                out.append({"id": app["_id"], "number": app["number"], "matter_name": app["matter_name"],
                            "department_name": app["department_name"], "finished_on": app.get("finished_on")})
            if len(out) == MAX_AWAITING:
                break
        return out
