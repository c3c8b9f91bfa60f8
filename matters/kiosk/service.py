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

from identity.codes.service import CodeService, ScanActor
from identity.consent.service import ConsentService
from matters.applying.service import ApplyingService
from matters.ratings.service import RatingService
from matters.storage import ApplicationStore
from server.errors import Conflict, Unprocessable
from server.principal import KIOSK, Principal

MAX_AWAITING = 5


class KioskMatters:
    def __init__(self, applying: ApplyingService, applications: ApplicationStore, consents: ConsentService,
                 codes: CodeService, ratings: RatingService):
        self.applying = applying
        self.applications = applications
        self.consents = consents
        self.codes = codes
        self.ratings = ratings

    async def apply(self, actor: ScanActor, consent_id: str, matter_code: str, form: dict[str, Any],
                    situation: str | None = None) -> tuple[dict[str, Any], bool]:
        person_id, certificates, consented_matter = await self.consents.consented_certificates(actor, consent_id)
        matter = self.applying.matter(matter_code)
        if consented_matter != matter.code:  # purpose limitation: approved for that matter only
            raise Conflict("持码人同意的是为办理另一事项提供证照，不能用于本事项" if consented_matter else
                           "该授权请求未指明事项，不能用于代为申请；请按事项重新发起授权",
                           code="consent_matter_mismatch", extra={"consented_matter": consented_matter})
        applicant = await self.applying.sources.person_applicant(
            person_id, certificates, via={"type": actor.type, "id": actor.id, "name": actor.name,
                                          "department": actor.department})
        holder = Principal(subject=person_id, channel=KIOSK, level=applicant.person.level if applicant.person else 0,
                           jti="", exp=0, claims={"via": actor.id})
        prefilled = await self.applying.prefill_for(applicant, matter)
        body = {"matter": matter.code, "form": {**form, **prefilled}, "materials": [],
                **({"situation": situation} if situation else {})}
        # One consent, one application: the consent id is the idempotency key, so a retry
        # replays the first answer and a kiosk cannot file a second, different application
        # on the strength of the same approval.
        try:
            return await self.applying.submit(holder, f"{actor.type}:{actor.id}:consent:{consent_id}", body,
                                             applicant=applicant)
        except Unprocessable as e:
            if e.code != "idempotency_key_reused":
                raise
            raise Conflict("本次授权已用于提交一份申请；如需办理其他事项，请重新扫码并请持码人授权",
                           code="consent_already_used") from None

    async def view(self, app: dict[str, Any]) -> dict[str, Any]:
        return await self.applying.lifecycle.present(app)

    async def awaiting_rating(self, actor: ScanActor, scan_id: str) -> list[dict[str, Any]]:
        """The scanned holder's completed, unrated applications that were submitted in this
        hall (by one of its kiosks or windows): 现场评价 of what was handled on site. The
        holder's other applications are none of the kiosk's business."""
        scan = await self.codes.scan_of(actor, scan_id)
        if not scan["holder"].startswith("person:"):
            return []
        apps = [a for a in await self.applications.of_applicant(scan["holder"])
                if a["state"] == "completed" and actor.department
                and (a.get("via") or {}).get("department") == actor.department]
        out = []
        for app in apps[: MAX_AWAITING * 4]:
            if not await self.ratings.is_rated(app["_id"]):
                out.append({"id": app["_id"], "number": app["number"], "matter_name": app["matter_name"],
                            "department_name": app["department_name"], "finished_on": app.get("finished_on")})
            if len(out) == MAX_AWAITING:
                break
        return out
