"""Where a matter may be applied for and who handles it (通办, 收受分离).

A matter's catalog entry may carry ``jurisdiction``::

    {"tongban": "local" | "city" | "province" | "cross_province",
     "partners": ["310000", …],              # cross-province: the partner provinces
     "handled_by": "household" | "registration" | "receiving",
     "offices": {"440100": {"department": …, "department_name": …}, "310000": {…}, …}}

The applicant's region is their household region (the ID number's first six digits, GB/T 2260)
or, for an enterprise, its registration region (the USCC's third to eighth characters). The
handling office is the one whose region code is the longest prefix match (``440100`` covers
``4401xx``, ``310000`` all of ``31xxxx``); ``receiving`` means the office that received it.
The receiving office is where the application came in: a hall's window or kiosk, or the
city's 通办 desk for online applications. When it is not the handling office, it does 受理 and
forwards the application (:mod:`matters.lifecycle`); the result comes back as the applicant chose.
Matters without ``jurisdiction`` are handled by their department, as before.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.errors import Conflict, FieldError, InvalidInput

if TYPE_CHECKING:  # the catalog imports this module
    from matters.applicant import Applicant
    from matters.catalog import Matter

TONGBAN = {"local": "本地办理", "city": "全市通办", "province": "省内通办", "cross_province": "跨省通办"}
HANDLED_BY = ("household", "registration", "receiving")
PROVINCE_NAMES = {"11": "北京市", "12": "天津市", "31": "上海市", "32": "江苏省", "33": "浙江省", "35": "福建省",
                  "36": "江西省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省", "50": "重庆市",
                  "51": "四川省", "52": "贵州省", "53": "云南省", "81": "香港特别行政区", "82": "澳门特别行政区", "83": "台湾地区"}


def prefix(region: str) -> str:
    """440100 -> 4401, 310000 -> 31, 440106 -> 440106."""
    return region[:2] if region.endswith("0000") else region[:4] if region.endswith("00") else region


def check(entry: dict[str, Any]) -> None:
    """Start-up validation of a catalog ``jurisdiction`` block (ValueError names the problem)."""
    if entry.get("tongban") not in TONGBAN:
        raise ValueError(f"jurisdiction.tongban must be one of {sorted(TONGBAN)}")
    if entry.get("handled_by") not in HANDLED_BY:
        raise ValueError(f"jurisdiction.handled_by must be one of {HANDLED_BY}")
    offices = entry.get("offices") or {}
    if not offices or any(len(r) != 6 or not r.isdigit() or not o.get("department") or not o.get("department_name")
                          for r, o in offices.items()):
        raise ValueError("jurisdiction.offices: region code -> {department, department_name}")
    if entry["tongban"] == "cross_province" and not entry.get("partners"):
        raise ValueError("a cross-province matter names its partner provinces")


def applicant_region(kind: str, id_number: str | None, uscc: str | None) -> str | None:
    if kind == "enterprise":
        return uscc[2:8] if uscc else None
    return id_number[:6] if id_number else None


def where_text(matter_home: str, entry: dict[str, Any]) -> str:
    """Who may apply here, in words (for the 409 and the guide)."""
    home = PROVINCE_NAMES.get(matter_home[:2], matter_home)
    if entry["tongban"] == "local":
        return "本市户籍（注册地）申请人"
    if entry["tongban"] == "city":
        return "本市户籍（注册地）申请人，可在全市任一大厅办理"
    if entry["tongban"] == "province":
        return f"{home}户籍（注册地）申请人"
    partners = "、".join(PROVINCE_NAMES.get(p[:2], p) for p in entry.get("partners", []))
    return f"{home}及{partners}户籍（注册地）申请人"


def route(code: str, home_region: str, entry: dict[str, Any] | None, default: dict[str, str], region: str | None,
          receiving: dict[str, str]) -> tuple[dict[str, str], bool]:
    """(handling office, forwarded?) for an applicant from ``region`` received by ``receiving``;
    409 ``not_available_here`` (with where it can be done) when this office may not take it."""
    if entry is None:
        return default, False
    allowed = {"local": [home_region], "city": [home_region], "province": [home_region[:2] + "0000"],
               "cross_province": [home_region[:2] + "0000", *entry.get("partners", [])]}[entry["tongban"]]
    if not region or not any(region.startswith(prefix(a)) for a in allowed):
        raise Conflict(f"该事项为{TONGBAN[entry['tongban']]}事项，可由{where_text(home_region, entry)}办理；"
                       "请到户籍（注册）所在地办理", code="not_available_here",
                       extra={"tongban": entry["tongban"], "where": where_text(home_region, entry)})
    if entry["handled_by"] == "receiving":
        office = entry["offices"].get(home_region) or next(iter(entry["offices"].values()))
        return {**office, "region": home_region}, False
    matches = sorted((r for r in entry["offices"] if region.startswith(prefix(r))), key=lambda r: -len(prefix(r)))
    if not matches:
        raise Conflict(f"暂未开通向该地区转办“{code}”，请到户籍（注册）所在地办理", code="not_available_here",
                       extra={"tongban": entry["tongban"], "where": where_text(home_region, entry)})
    office = {**entry["offices"][matches[0]], "region": matches[0]}
    return office, office["region"] != receiving.get("region", home_region)  # handled in another region


def offices(matter: "Matter", applicant: "Applicant", online_office: dict[str, str]
            ) -> tuple[dict[str, str], dict[str, str], bool]:
    """(receiving office, handling office, forwarded?): online, the city's 通办 desk receives; at a
    hall's kiosk or window, that hall. 409 where the matter may not be applied for here."""
    via = applicant.via or {}
    if via.get("type") in ("device", "staff") and via.get("department"):
        receiving = {"channel": "hall", "department": via["department"], "department_name": via.get("name", ""),
                     "region": online_office["region"]}
    else:
        receiving = {"channel": "online", **online_office}
    p, e = applicant.person, applicant.enterprise
    region = applicant_region(applicant.kind, p.id_number if p else None, e.uscc if e else None)
    default = {"department": matter.department, "department_name": matter.department_name,
               "region": matter.code[:6]}
    handling, forwarded = route(matter.code, matter.code[:6], matter.jurisdiction, default, region, receiving)
    return receiving, handling, forwarded


def delivery(matter: "Matter", chosen: dict[str, Any] | None, receiving: dict[str, str]) -> dict[str, Any]:
    """How the result comes back: the wallet (a result certificate), by post, or picked up
    where it was received."""
    method = (chosen or {}).get("method") or ("wallet" if matter.raw.get("result") else "pickup")
    if method == "wallet" and not matter.raw.get("result"):
        raise InvalidInput("该事项没有电子证照结果，请选择邮寄或到收件地点领取", code="delivery_invalid",
                           errors=[FieldError("delivery.method", "请选择邮寄或自取")])
    if method == "mail" and not (chosen or {}).get("address", "").strip():
        raise InvalidInput("邮寄须填写收件地址", code="delivery_invalid",
                           errors=[FieldError("delivery.address", "请填写收件地址")])
    out: dict[str, Any] = {"method": method}
    if method == "mail":
        out["address"] = chosen["address"].strip()
    if method == "pickup":
        out["at"] = receiving["department_name"]
    return out
