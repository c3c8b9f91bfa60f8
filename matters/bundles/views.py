"""HTTP handlers of 一件事 bundles: the merged guide and one submission for all."""
from __future__ import annotations

from matters.applying.views import APP_ID, TAGS
from matters.bundles.models import BundleApplication, BundleApplicationIn
from matters.bundles.service import BundleService
from server.http.base import BaseHandler
from server.http.routing import IDEMPOTENCY_KEY, operation, route
from server.principal import PERSON_CHANNELS, Principal


class _Base(BaseHandler):
    def initialize(self, bundles: BundleService) -> None:
        self.bundles = bundles


class BundlesHandler(_Base):
    @operation("“一件事”列表", tags=TAGS)
    async def get(self) -> dict:
        return {"items": [{"code": b.code, "name": b.name, "target": b.target, "description": b.description,
                           "matters": [m.code for m in b.matters]} for b in self.bundles.bundles.values()]}


class BundleHandler(_Base):
    @operation("“一件事”：合并表单（共享字段去重）、材料并集、减少的填写项", tags=TAGS, errors=(404,))
    async def get(self, code: str) -> dict:
        return self.bundles.describe(code)


class BundleApplicationsHandler(_Base):
    @operation("一次提交“一件事”（须带 Idempotency-Key）：生成总申请与各事项子申请，并联分送各部门", tags=TAGS,
               auth=PERSON_CHANNELS, proxy="matters", body=BundleApplicationIn, response=BundleApplication, status=201,
               errors=(403, 404, 409, 422), headers={"Idempotency-Key": IDEMPOTENCY_KEY})
    async def post(self, principal: Principal, body: BundleApplicationIn) -> None:
        key = self.idempotency_key()
        parent, created = await self.bundles.submit(principal, key, body.model_dump())
        self.send_json(BundleApplication(**await self.bundles.progress_of(parent)),
                       201 if created else 200)


class BundleApplicationHandler(_Base):
    @operation("“一件事”申请：汇总进度与各子申请状态", tags=TAGS, auth=PERSON_CHANNELS, proxy="matters", response=BundleApplication,
               errors=(404,))
    async def get(self, principal: Principal, app_id: str) -> BundleApplication:
        return BundleApplication(**await self.bundles.view(principal, app_id))



def routes(bundles: BundleService) -> list:
    deps = {"bundles": bundles}
    return [
        route(r"/api/v1/bundles", BundlesHandler, **deps),
        route(r"/api/v1/bundles/(?P<code>[0-9A-Za-z-]{3,40})", BundleHandler, **deps),
        route(r"/api/v1/bundle-applications", BundleApplicationsHandler, **deps),
        route(rf"/api/v1/bundle-applications/{APP_ID}", BundleApplicationHandler, **deps),
    ]
