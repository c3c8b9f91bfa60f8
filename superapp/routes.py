"""Every route of the product, from each domain's views, and the platform's application."""
from __future__ import annotations

from tornado.web import URLSpec

from card_wallet.holding import views as holding_views
from card_wallet.issuing import views as issuing_views
from halls import views as halls_views
from halls.booking import views as booking_views
from halls.calling import views as calling_views
from halls.queue import views as queue_views
from identity.accounts import views as accounts_views
from identity.agreements import views as agreements_views
from identity.closure import views as closure_views
from identity.codes import views as codes_views
from identity.consent import views as consent_views
from identity.devices import views as devices_views
from identity.enterprises import views as enterprises_views
from identity.sessions import views as sessions_views
from identity.staff import views as staff_views
from identity.wechat_web import views as wechat_web_views
from matters.applying import views as applying_views
from matters.bundles import views as bundles_views
from matters.kiosk import views as kiosk_views
from matters.ratings import views as ratings_views
from matters.reviewing import views as reviewing_views
from notifications import views as notifications_views
from payments import views as payments_views
from policies import views as policies_views
from proxies import views as proxies_views
from tickets import views as tickets_views
from tickets.desk import views as desk_views
from tickets.open311 import views as open311_views
from server.http import events, h5, system
from server.http.app import PlatformApp
from server.storage import mongo as mongo_storage
from superapp import dev
from superapp.context import AppContext


def api_routes(ctx: AppContext) -> list[URLSpec]:
    """Every documented route; dev routes only when dev endpoints are on."""
    c = ctx
    probes = {"mongodb": lambda: mongo_storage.ping(c.mongo), "redis": c.redis.ping}
    routes: list[URLSpec] = [
        # The scan first: it is the hot path and Tornado tries routes in order.
        *codes_views.routes(c.codes, c.devices),
        *system.routes(probes),
        *events.routes(c.events),
        *accounts_views.routes(c.accounts, c.settings.sms.resend_interval_seconds, c.closure),
        *closure_views.routes(c.closure),
        *wechat_web_views.routes(c.wechat_web),
        *agreements_views.routes(c.agreements),
        *sessions_views.routes(c.sessions),
        *enterprises_views.routes(c.enterprises, c.acting_persons),
        *proxies_views.routes(c.proxies),
        *consent_views.routes(c.consents, c.devices),
        *devices_views.routes(c.devices),
        *staff_views.routes(c.staff),
        *issuing_views.routes(c.issuing, c.catalog),
        *holding_views.routes(c.wallet, c.settings.path("h5/dist")),
        *applying_views.routes(c.applying),
        *reviewing_views.routes(c.reviewing),
        *bundles_views.routes(c.bundles),
        *ratings_views.routes(c.ratings, c.devices),
        *kiosk_views.routes(c.kiosk, c.devices),
        *notifications_views.routes(c.notifications),
        *tickets_views.routes(c.tickets, c.devices),
        *desk_views.routes(c.ticket_desk),
        *open311_views.routes(c.open311),
        *halls_views.routes(c.halls),
        *booking_views.routes(c.booking),
        *queue_views.routes(c.hall_queue, c.devices),
        *calling_views.routes(c.calling, c.devices),
        *policies_views.routes(c.policies, c.policy_claims),
        *payments_views.routes(c.payments, c.reconciliation),
    ]
    if c.settings.dev_endpoints:
        routes += dev.routes(c.demo, c.sms_outbox)
    return routes


def make_app(ctx: AppContext, extra_routes: list[URLSpec] | None = None) -> PlatformApp:
    # The H5 app comes last: any path no API route claims is the front end's.
    routes = [*api_routes(ctx), *(extra_routes or []), *h5.routes(ctx.settings.path("h5/dist"))]
    enums = {"person-items": ctx.items.names("person"), "enterprise-items": ctx.items.names("enterprise"),
             "consent-items": ctx.items.names(), "ticket-categories": list(ctx.tickets.catalog.categories),
             "knowledge-answers": [a.id for a in ctx.tickets.catalog.answers]}
    return PlatformApp(routes, ctx.settings.http, ctx.settings.log, ctx.authenticator, hsts=not ctx.settings.is_dev,
                       openapi_enums=enums)
