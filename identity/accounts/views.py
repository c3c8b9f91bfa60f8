"""HTTP handlers of the identity API: parse, authorise, call one service method, render."""
from __future__ import annotations

from identity.accounts.models import (
    ActivityOut,
    ActivityQuery,
    FaceIn,
    FaceSessionIn,
    FaceSessionOut,
    LevelUpOut,
    LoginOut,
    LogoutIn,
    MeQuery,
    PhoneBoundOut,
    Profile,
    ProfilePatch,
    RealnameIn,
    RefreshIn,
    SmsSendIn,
    SmsSendOut,
    SmsVerifyIn,
    TokensOut,
    WechatCode,
    WechatLoginIn,
)
from identity.accounts.service import AccountService, LevelUp, LoginResult
from identity.closure.models import ClosureIn
from identity.closure.service import AccountClosure
from identity.sessions.models import tokens_out
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.principal import ANY_PROXY_SCOPE, MINIAPP, PERSON_CHANNELS, Principal

AUTH = ["身份认证 Identity"]
ME = ["我的 Me"]


def login_out(result: LoginResult) -> LoginOut:
    return LoginOut(**tokens_out(result.tokens).model_dump(), person=result.person, is_new=result.is_new)


def level_up_out(result: LevelUp) -> LevelUpOut:
    return LevelUpOut(person=result.person, access_token=result.access_token, expires_in=result.expires_in)


class AccountHandler(BaseHandler):
    def initialize(self, accounts: AccountService, resend_interval: int, closure: AccountClosure) -> None:
        self.accounts = accounts
        self.resend_interval = resend_interval
        self.closure = closure


class WechatMiniappLoginHandler(AccountHandler):
    @operation("小程序登录：wx.login() 的 code 换取登录凭证（首次登录即开户，L0）；须同意当前版本的用户协议与隐私政策",
               tags=AUTH, body=WechatLoginIn, response=LoginOut, errors=(409, 503))
    async def post(self, body: WechatLoginIn) -> LoginOut:
        agreed = body.agreements.model_dump() if body.agreements else None
        return login_out(await self.accounts.login_wechat(body.code, agreed, self.caller(MINIAPP)))


class WechatPhoneHandler(AccountHandler):
    @operation("小程序绑定手机号：getPhoneNumber 按钮的 code（L1）", tags=AUTH, auth=[MINIAPP],
               body=WechatCode, response=PhoneBoundOut, errors=(409, 503),
               description="若该手机号已属于另一账户：当前账户为刚创建的空账户时，微信身份关联到该账户并返回其新凭证"
                           "（account_switched=true）；否则 409，绝不静默合并。")
    async def post(self, principal: Principal, body: WechatCode) -> PhoneBoundOut:
        r = await self.accounts.bind_phone_wechat(principal, body.code, self.caller(principal.channel))
        return PhoneBoundOut(
            person=r.person, account_switched=r.account_switched, access_token=r.access_token,
            expires_in=r.expires_in, refresh_token=r.tokens.refresh_token if r.tokens else None,
            refresh_expires_at=r.tokens.refresh_expires_at if r.tokens else None,
        )


class SmsSendHandler(AccountHandler):
    @operation("发送短信验证码（6 位，5 分钟有效；每号 60 秒 1 次、每日 10 次）", tags=AUTH,
               description="中国大陆号码 11 位；港澳台及境外号码用 E.164（+852…、+853…、+886…、+1…），短信分别为"
                           "繁体中文、英文。发往境外（含港澳台）的短信另有全平台每日总量，用完为 429 "
                           "sms_international_budget_exhausted。",
               body=SmsSendIn, response=SmsSendOut, status=202, errors=(409, 429, 503))
    async def post(self, body: SmsSendIn) -> SmsSendOut:
        agreed = body.agreements.model_dump() if body.agreements else None
        ttl = await self.accounts.send_sms_code(body.phone, agreed, self.caller("h5"))
        return SmsSendOut(sent=True, expires_in=ttl, resend_after=self.resend_interval)


class SmsVerifyHandler(AccountHandler):
    @operation("短信验证码登录（H5 / 企业门户；首次登录即开户，L1）", tags=AUTH,
               body=SmsVerifyIn, response=LoginOut, errors=(409, 429))
    async def post(self, body: SmsVerifyIn) -> LoginOut:
        return login_out(await self.accounts.login_sms(body.phone, body.code, self.caller(body.channel)))


class RefreshHandler(AccountHandler):
    @operation("刷新登录凭证（刷新令牌每次使用即轮换；重复使用已轮换的令牌将注销整组登录）", tags=AUTH,
               body=RefreshIn, response=TokensOut, errors=(401, 403))
    async def post(self, body: RefreshIn) -> TokensOut:
        return tokens_out(await self.accounts.refresh(body.refresh_token))


class LogoutHandler(AccountHandler):
    @operation("退出当前登录（访问令牌立即失效，刷新令牌整组注销）", tags=AUTH, auth=PERSON_CHANNELS,
               body=LogoutIn, status=204)
    async def post(self, principal: Principal, body: LogoutIn) -> None:
        await self.accounts.logout(principal, body.refresh_token, self.caller(principal.channel))


class LogoutAllHandler(AccountHandler):
    @operation("退出所有设备上的登录", tags=AUTH, auth=PERSON_CHANNELS, status=204)
    async def post(self, principal: Principal) -> None:
        await self.accounts.logout_all(principal, self.caller(principal.channel))


class MeHandler(AccountHandler):
    @operation("我的账户（个人信息默认脱敏；reveal=1 由本人明确请求时显示明文并记入日志）", tags=ME,
               auth=PERSON_CHANNELS, proxy=ANY_PROXY_SCOPE, query=MeQuery, response=Profile)
    async def get(self, principal: Principal, query: MeQuery) -> Profile:
        return await self.accounts.me(principal, query.reveal, self.caller(principal.channel))

    @operation("修改昵称、适老化模式", tags=ME, auth=PERSON_CHANNELS, body=ProfilePatch, response=Profile)
    async def patch(self, principal: Principal, body: ProfilePatch) -> Profile:
        changes = body.model_dump(exclude_unset=True)
        return await self.accounts.update_me(principal, changes, self.caller(principal.channel))

    @operation("注销账号：须先重新验证（短信验证码或微信 code），且没有办理中的事项、不是企业管理员；删除可识别您的"
               "信息，所有登录立即失效，同一手机号可重新开户（先看 GET /api/v1/me/closure）", tags=ME,
               auth=PERSON_CHANNELS, body=ClosureIn, status=204, errors=(400, 409, 422, 429, 503))
    async def delete(self, principal: Principal, body: ClosureIn) -> None:
        await self.closure.close(principal, body.sms_code, body.wechat_code, self.caller(principal.channel))


class RealnameHandler(AccountHandler):
    @operation("实名认证：姓名 + 证件（需 L1；成功后为 L2）", tags=ME, auth=PERSON_CHANNELS, min_level=1,
               body=RealnameIn, response=LevelUpOut, errors=(409, 422, 429, 503),
               description="证件类型 id_type：居民身份证（默认）、港澳居民来往内地通行证、台湾居民来往大陆通行证、"
                           "港澳台居民居住证、外国人永久居留身份证、外国护照（另填国籍与签证号码）。格式不对为 400 并指明字段；"
                           "核验服务查无此证为 422 realname_not_found。证件核验最高到 L2，L3 须人脸核验。")
    async def post(self, principal: Principal, body: RealnameIn) -> LevelUpOut:
        result = await self.accounts.verify_realname(principal, body.name, body.id_number,
                                                     self.caller(principal.channel), body.id_type,
                                                     body.nationality, body.visa_number)
        return level_up_out(result)


class FaceHandler(AccountHandler):
    @operation("人脸核验（需 L2；成功后为 L3）", tags=ME, auth=PERSON_CHANNELS, min_level=2,
               body=FaceIn, response=LevelUpOut, errors=(422, 503))
    async def post(self, principal: Principal, body: FaceIn) -> LevelUpOut:
        result = await self.accounts.verify_face(principal, body.evidence, self.caller(principal.channel))
        return level_up_out(result)


class FaceSessionHandler(AccountHandler):
    @operation("H5 人脸核验：取得核验服务商刷脸页面的地址（完成后带 face_result 回到本应用，再提交 /api/v1/me/face）",
               tags=ME, auth=PERSON_CHANNELS, min_level=2, body=FaceSessionIn, response=FaceSessionOut,
               status=201, errors=(503,))
    async def post(self, principal: Principal, body: FaceSessionIn) -> FaceSessionOut:
        return FaceSessionOut(url=await self.accounts.face_session(principal, body.return_path))


class ActivityHandler(AccountHandler):
    @operation("我的日志：谁在何时对我的数据做了什么（哈希链，可校验）", tags=ME, auth=PERSON_CHANNELS,
               query=ActivityQuery, response=ActivityOut)
    async def get(self, principal: Principal, query: ActivityQuery) -> ActivityOut:
        return await self.accounts.activity(principal, query.limit, query.before)


def routes(accounts: AccountService, resend_interval: int, closure: AccountClosure) -> list:
    deps = {"accounts": accounts, "resend_interval": resend_interval, "closure": closure}
    return [
        route(r"/api/v1/auth/wechat/miniapp", WechatMiniappLoginHandler, **deps),
        route(r"/api/v1/auth/wechat/phone", WechatPhoneHandler, **deps),
        route(r"/api/v1/auth/sms/send", SmsSendHandler, **deps),
        route(r"/api/v1/auth/sms/verify", SmsVerifyHandler, **deps),
        route(r"/api/v1/auth/refresh", RefreshHandler, **deps),
        route(r"/api/v1/auth/logout", LogoutHandler, **deps),
        route(r"/api/v1/auth/logout-all", LogoutAllHandler, **deps),
        route(r"/api/v1/me", MeHandler, **deps),
        route(r"/api/v1/me/realname", RealnameHandler, **deps),
        route(r"/api/v1/me/face", FaceHandler, **deps),
        route(r"/api/v1/me/face/session", FaceSessionHandler, **deps),
        route(r"/api/v1/me/activity", ActivityHandler, **deps),
    ]
