"""The Tornado app serves the built H5 app: index.html for front-end routes (history
mode, never cached), hashed assets cached for a year, API paths never swallowed."""
from __future__ import annotations

from pathlib import Path

from tests.support import assert_problem

DIST = Path(__file__).resolve().parents[2] / "h5" / "dist"


async def test_index_and_history_routes(app):
    # a certificate's id has dots (an OID), yet /wallet/<id> is a front-end route, not a file
    for path in ("/", "/login", "/realname", "/enterprise/agents",
                 "/wallet/1.2.156.3005.2.11100000000013338W001.11440100007012346M.000123.001.K"):
        resp = await app.api.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert resp.status == 200, path
        assert resp.content_type.startswith("text/html") and b'<div id="app">' in resp.body
        assert resp.headers["Cache-Control"] == "no-cache"
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


async def test_assets_are_cached_and_missing_files_are_404(app):
    asset = next((DIST / "assets").glob("*.js"))
    resp = await app.api.get(f"/assets/{asset.name}")
    assert resp.status == 200 and "javascript" in resp.content_type
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert_problem(await app.api.get("/assets/nope.js"), 404)
    assert_problem(await app.api.get("/favicon-missing.png"), 404)


async def test_api_paths_are_not_the_h5_app(app):
    assert_problem(await app.api.get("/api/v1/nothing-here"), 404, "not_found")
    assert_problem(await app.api.get("/api/v1/../../etc/passwd"), 404)
    assert (await app.api.get("/healthz")).json() == {"status": "ok"}
    # a program (not a browser navigating) gets a 404 problem for unknown paths, any method
    for method in ("GET", "POST", "DELETE"):
        assert_problem(await app.api.request(method, "/no/such/page"), 404, "not_found")
    resp = await app.api.get("/")
    assert resp.status == 200 and b'<div id="app">' in resp.body  # "/" is the app itself
