"""Request and response models of person accounts: logins, tokens, real name, profile, activity."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from identity.agreements.models import Accepted
from identity.documents import IdType
from identity.phones import PATTERN as PHONE_PATTERN
from identity.sessions.models import LogoutIn, RefreshIn, TokensOut  # noqa: F401 - part of this API
from server.models import MAX_SAFE_INT, Input
from server.models import Line

_NAME = re.compile(r"^[\u3400-\u9fff\u00b7\u2022A-Za-z .·]{2,30}$")
# Names on foreign passports and permits: Latin letters, spaces, hyphens, apostrophes, longer.
_LATIN_NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ .·'-]{1,59}$")


_In = Input


class WechatCode(_In):
    code: str = Field(min_length=1, max_length=128, description="wx.login() / getPhoneNumber 返回的 code")


PHONE = {"pattern": PHONE_PATTERN}  # checked by the service itself (phonenumbers), to answer invalid_phone
PHONE_DESCRIPTION = ("手机号码：中国大陆 11 位数字（也可写作 +86…）；港澳台及境外号码以 + 和国家或地区代码开头"
                     "（E.164，如 +85291234567、+886912345678、+14155552671）")


def _agreements_required(schema: dict) -> None:
    schema.setdefault("required", []).append("agreements")


class WechatLoginIn(_In):
    # Required (the schema says so); missing is answered agreement_required.
    model_config = ConfigDict(json_schema_extra=_agreements_required)
    code: str = Field(min_length=1, max_length=128, description="wx.login() 返回的 code")
    agreements: Accepted = Field(None, description="已阅读并同意的《用户协议》《隐私政策》版本（与 H5 相同）")


class SmsSendIn(_In):
    # Required (the schema says so); a body without it is answered agreement_required, which
    # the login screen turns into "请先阅读并同意…" next to the checkbox.
    model_config = ConfigDict(json_schema_extra=_agreements_required)
    phone: str = Field(min_length=1, max_length=20, description=PHONE_DESCRIPTION, json_schema_extra=PHONE)
    agreements: Accepted = Field(None, description="已阅读并同意的《用户协议》《隐私政策》版本（GET /api/v1/agreements）；"
                                                          "缺少为 400 agreement_required，不是当前版本为 409 agreement_outdated")


class SmsSendOut(BaseModel):
    sent: bool
    expires_in: int = Field(description="验证码有效期（秒）")
    resend_after: int = Field(description="多少秒后可重新获取")


class SmsVerifyIn(_In):
    phone: str = Field(min_length=1, max_length=20, description=PHONE_DESCRIPTION, json_schema_extra=PHONE)
    code: str = Field(min_length=1, max_length=10, description="6 位数字验证码",
                      json_schema_extra={"pattern": r"^[0-9]{6}$"})
    channel: Literal["h5", "portal"] = "h5"


class RealnameIn(_In):
    name: str = Field(min_length=2, max_length=60, description="证件上的姓名：汉字 2-30 个（可含间隔号·），"
                                                               "或外文 2-60 个字母（可含空格、连字符、撇号）")
    id_number: str = Field(min_length=1, max_length=32, description="证件号码（格式随 id_type）")
    id_type: IdType = Field("resident_id", description=(
        "证件类型：resident_id 居民身份证（默认；也接受港澳台居民居住证、外国人永久居留身份证的 18 位号码）；"
        "hk_macao_permit 港澳居民来往内地通行证（回乡证，H/M + 8 位数字，旧版 10 位）；"
        "taiwan_permit 台湾居民来往大陆通行证（8 位数字，旧版 10 位）；"
        "residence_permit_hmt 港澳台居民居住证（810000/820000/830000 开头的 18 位）；"
        "foreign_permanent_id 外国人永久居留身份证（9 开头的 18 位）；"
        "passport 外国护照（5-20 位字母或数字，须同时提供 nationality 与 visa_number）"))
    nationality: str | None = Field(None, min_length=1, max_length=3,
                                    description="护照签发国（国籍），ISO 3166 三位字母代码，如 USA、GBR、JPN（仅护照）",
                                    json_schema_extra={"pattern": r"^[A-Za-z]{3}$"})
    visa_number: str | None = Field(None, min_length=1, max_length=32,
                                    description="中国签证或居留许可号码（仅护照）")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = " ".join(v.split())
        if _NAME.match(v) or (_LATIN_NAME.match(v) and len(v) <= 60):
            return v
        if re.search(r"[\u3400-\u9fff]", v):
            raise ValueError("姓名应为 2-30 个汉字或字母（可含间隔号·）")
        raise ValueError("姓名应为 2-30 个汉字，或 2-60 个外文字母（可含空格、间隔号·、连字符、撇号）")


class FaceSessionIn(_In):
    return_path: str = Field("/mine/face", min_length=1, max_length=200, pattern=r"^/[A-Za-z0-9/_-]*$",
                             description="核验后回到本应用的路径（只能是本应用内的路径）")


class FaceSessionOut(BaseModel):
    url: str = Field(description="核验服务商的刷脸页面地址：浏览器前往该地址，完成后带 face_result 回到 return_path")


class FaceIn(_In):
    evidence: str = Field(min_length=1, max_length=4096, description="人脸核验结果凭证（如微信人脸核身 verify_result）")


class ProfilePatch(_In):
    nickname: Line | None = Field(None, min_length=1, max_length=20)
    elder_mode: bool | None = Field(None, description="适老化（大字）模式")


class RealnameOut(BaseModel):
    name: str
    id_number: str = Field(description="证件号码（默认脱敏）")
    id_type: IdType = Field(description="证件类型（见 POST /api/v1/me/realname）")
    document: str = Field(description="证件名称，如 居民身份证、港澳居民来往内地通行证、外国护照")
    nationality: str | None = Field(description="国籍或地区，ISO 3166 三位字母代码（CHN、HKG、MAC、TWN、USA…）")
    nationality_name: str | None = Field(description="国籍或地区的中文名，如 中国香港、美国")
    gender: str | None = Field(description="性别（证件号码不含性别时为空，如护照、通行证）")
    birth_date: str | None = Field(description="出生日期（证件号码不含出生日期时为空）")
    verified_at: datetime


class Profile(BaseModel):
    id: str
    level: int = Field(description="实名认证等级 0-3")
    level_name: str
    phone: str | None
    nickname: str | None
    elder_mode: bool
    wechat_bound: bool
    realname: RealnameOut | None
    face_verified_at: datetime | None
    revealed: bool = Field(description="true 时证件号码、手机号、姓名为明文（仅本人明确请求时）")
    created_at: datetime


class LoginOut(TokensOut):
    person: Profile
    is_new: bool


class PhoneBoundOut(BaseModel):
    person: Profile
    account_switched: bool = Field(description="该手机号已属于另一个账户：微信身份已关联到该账户，请改用返回的新凭证")
    access_token: str
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None


class LevelUpOut(BaseModel):
    person: Profile
    access_token: str = Field(description="带新实名等级的访问令牌")
    expires_in: int


class MeQuery(BaseModel):
    reveal: bool = Field(False, description="本人明确请求查看完整证件号码和手机号（记入本人日志）")


class ActivityQuery(BaseModel):
    limit: int = Field(50, ge=1, le=200)
    before: int | None = Field(None, ge=1, le=MAX_SAFE_INT, description="只看序号小于此值的记录（翻页）")


class ActivityEntry(BaseModel):
    seq: int
    at: datetime
    action: str
    action_name: str = Field("", description="操作的中文说明（如“实名认证通过”）")
    actor: dict[str, str]
    target: dict[str, str]
    channel: str
    ip: str
    details: dict
    hash: str


class ActivityOut(BaseModel):
    items: list[ActivityEntry]
    chain_ok: bool = Field(description="本人日志哈希链校验是否完整")
