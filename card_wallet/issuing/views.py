"""HTTP handlers of the certificate catalog and of issuing authorities: registration
(admin), tokens, issuing and changing certificates, the authorities' public keys."""
from __future__ import annotations

from card_wallet.catalog import Catalog
from card_wallet.issuing.models import (
    AssertionIn,
    CertificateTypeList,
    CertificateTypeOut,
    IssueIn,
    IssueOut,
    IssuerIn,
    IssuerKeyIn,
    StatusChangeIn,
)
from card_wallet.issuing.service import IssuingService
from server.http.base import BaseHandler
from server.http.routing import operation, route
from server.models import AccessOut
from server.principal import ISSUER, STAFF, Principal

WALLET = ["卡包 Wallet"]
ISSUERS = ["发证机关 Issuers"]
CERT_ID = r"(?P<cert_id>1\.2\.156\.3005\.2\.[0-9A-Z]{21}\.[0-9A-Z]{18}\.[0-9A-Z]{1,20}\.[0-9]{3}\.[0-9A-Z])"


class _Base(BaseHandler):
    def initialize(self, issuing: IssuingService, catalog: Catalog) -> None:
        self.issuing = issuing
        self.catalog = catalog


class CertificateTypesHandler(_Base):
    @operation("证照目录：证照类型、字段（JSON Schema）、敏感字段与展示规则", tags=WALLET, response=CertificateTypeList)
    async def get(self) -> CertificateTypeList:
        self.set_header("Cache-Control", "public, max-age=300")
        return CertificateTypeList(items=[CertificateTypeOut(**t.public_dict()) for t in self.catalog.all()])


class IssuerTokenHandler(_Base):
    @operation("发证机关以签名断言换取访问令牌（aud=issuer）", tags=ISSUERS, body=AssertionIn, response=AccessOut,
               errors=(401, 403))
    async def post(self, body: AssertionIn) -> AccessOut:
        token, ttl = await self.issuing.token(body.assertion)
        return AccessOut(access_token=token, expires_in=ttl)


class IssuerKeysHandler(_Base):
    @operation("全部发证机关的验签公钥（JWKS，带 issuer 与 status），供离线核验", tags=ISSUERS)
    async def get(self) -> dict:
        self.set_header("Cache-Control", "public, max-age=300")
        return await self.issuing.public_keys()


class IssueHandler(_Base):
    @operation("签发电子证照（发证机关签名；request_id 幂等）", tags=ISSUERS, auth=[ISSUER], body=IssueIn,
               response=IssueOut, status=201, errors=(403, 409, 422))
    async def post(self, principal: Principal, body: IssueIn) -> IssueOut:
        return IssueOut(**await self.issuing.issue(principal, body.model_dump()))


class UpdateHandler(_Base):
    @operation("更新电子证照（新版本取代旧版本；request_id 幂等）", tags=ISSUERS, auth=[ISSUER], body=IssueIn,
               response=IssueOut, status=201, errors=(403, 404, 409, 422))
    async def post(self, principal: Principal, cert_id: str, body: IssueIn) -> IssueOut:
        return IssueOut(**await self.issuing.update(principal, cert_id, body.model_dump()))


class StatusHandler(_Base):
    @operation("中止 / 恢复 / 撤销电子证照（suspend | reinstate | revoke；request_id 幂等）", tags=ISSUERS,
               auth=[ISSUER], body=StatusChangeIn, response=IssueOut, errors=(403, 404, 409, 422))
    async def post(self, principal: Principal, cert_id: str, action: str, body: StatusChangeIn) -> IssueOut:
        return IssueOut(**await self.issuing.change_status(principal, cert_id, action, body.model_dump()))


class AdminIssuersHandler(_Base):
    @operation("登记发证机关（平台管理员）：代码、名称、可签发的证照类型、签名公钥", tags=["管理 Admin"], auth=[STAFF],
               body=IssuerIn, status=201, errors=(403, 409))
    async def post(self, principal: Principal, body: IssuerIn) -> dict:
        return await self.issuing.register(principal, body.code, body.name, body.department, body.allowed_types,
                                               body.public_key_pem)


class AdminIssuerKeysHandler(_Base):
    @operation("为发证机关增加签名公钥（密钥轮换）", tags=["管理 Admin"], auth=[STAFF], body=IssuerKeyIn, status=201,
               errors=(403, 404, 409))
    async def post(self, principal: Principal, code: str, body: IssuerKeyIn) -> dict:
        return await self.issuing.add_key(principal, code, body.public_key_pem)



def routes(issuing: IssuingService, catalog: Catalog) -> list:
    deps = {"issuing": issuing, "catalog": catalog}
    return [
        route(r"/api/v1/certificate-types", CertificateTypesHandler, **deps),
        route(r"/api/v1/issuers/token", IssuerTokenHandler, **deps),
        route(r"/api/v1/issuers/keys", IssuerKeysHandler, **deps),
        route(r"/api/v1/issuer/certificates", IssueHandler, **deps),
        route(rf"/api/v1/issuer/certificates/{CERT_ID}/update", UpdateHandler, **deps),
        route(rf"/api/v1/issuer/certificates/{CERT_ID}/(?P<action>suspend|reinstate|revoke)", StatusHandler, **deps),
        route(r"/api/v1/admin/issuers", AdminIssuersHandler, **deps),
        route(r"/api/v1/admin/issuers/(?P<code>[0-9A-Z]{18})/keys", AdminIssuerKeysHandler, **deps),
    ]
