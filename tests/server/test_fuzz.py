"""Schemathesis against the real app on the embedded servers, for every operation of the
OpenAPI document: once unauthenticated, once as an L2 resident. Checks: no 5xx, every
response (status, content type, headers, body) as documented, every error problem+json,
a request valid by the schema is not rejected (except where tests/server/schemathesis.toml
says why a schema cannot state what the server checks), required headers are required and
unknown methods refused. A bounded number of examples keeps the run around two minutes."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from tests.support import new_resident, start_app, stop_app, verified_person

CONFIG = Path(__file__).with_name("schemathesis.toml")
CHECKS = ",".join(["not_a_server_error", "status_code_conformance", "content_type_conformance",
                   "response_headers_conformance", "response_schema_conformance", "positive_data_acceptance",
                   "missing_required_header", "unsupported_method"])
MAX_EXAMPLES = 4


async def _schemathesis(url: str, report: Path, *extra: str) -> dict:
    st = Path(sys.executable).with_name("st")
    proc = await asyncio.create_subprocess_exec(
        str(st), "--config-file", str(CONFIG), "run", f"{url}/openapi.json", "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES), "--workers", "1", "--seed", "20261202", "--generation-database", "none",
        "--phases", "examples,coverage,fuzzing", "--no-color", "--report", "json", "--report-json-path", str(report),
        *extra, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=str(report.parent))
    out, _ = await proc.communicate()
    assert report.exists(), out.decode(errors="replace")[-4000:]
    result = json.loads(report.read_text())
    result["output"] = out.decode(errors="replace")
    return result


@pytest.mark.timeout(600)
async def test_schemathesis_finds_nothing_unauthenticated_or_as_a_resident(backends, tmp_path):
    app = await start_app(backends, overrides={
        "sms": {"hourly_sends_per_ip": 10000, "verifies_per_ip_per_minute": 10000, "resend_interval_seconds": 1},
        "wallet": {"share_misses_per_minute": 10000}})
    try:
        resident = await verified_person(app.api, await new_resident(app.ctx, name="模糊测"))
        runs = {
            "unauthenticated": await _schemathesis(app.runner.url, tmp_path / "anonymous.json"),
            # logging out would end the resident's session half-way through the run
            "L2 resident": await _schemathesis(app.runner.url, tmp_path / "resident.json",
                                               "-H", f"Authorization: Bearer {resident['access_token']}",
                                               "--exclude-path-regex", "/auth/logout"),
        }
        for who, r in runs.items():
            summary = (f"{who}: {r['operations']['tested']} operations, {r['test_cases']['generated']} requests, "
                       f"{r['test_cases']['unique_failures']} failures, {r['running_time']:.0f} s")
            print(summary)
            assert r["complete"] and r["operations"]["tested"] >= 90, summary
            failures = r["output"].split("= FAILURES =", 1)[-1].split("= WARNINGS =", 1)[0]
            assert not r["failures"] and not r["errors"], summary + "\n" + failures[-8000:]
    finally:
        await stop_app(app)
