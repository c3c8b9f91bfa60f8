"""Lighthouse mobile scores of the H5 app: the login page, the signed-in home (service code)
and the matter list, with Debian's chromium (``make lighthouse``).

    .venv/bin/python bench/lighthouse.py [--write]

Starts embedded MongoDB-wire and Redis servers and the app (demo data loaded, so the
demo resident's wallet holds certificates), logs the first demo resident in through the
real SMS flow (agreements, code from the dev outbox, real-name check), and runs
``tools/lighthouse/run.mjs`` (npm ``lighthouse@12.2.3``, pinned in its lock file) with that
session injected. Prints one line per page; ``--write`` also puts the table into
``docs/PERFORMANCE.md`` between its lighthouse markers. Not a test: a measurement (these
machines are shared and noisy; the simulated throttling of Lighthouse makes the figures
comparable from run to run, not exact).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.embedded import EmbeddedMongo, EmbeddedRedis  # noqa: E402
from tests.support import Backends, bearer, latest_sms_code, send_sms, start_app, stop_app  # noqa: E402

BEGIN, END = "<!-- lighthouse:begin -->", "<!-- lighthouse:end -->"


async def session_of_demo_resident(app) -> dict[str, str]:
    resident = app.ctx.demo.residents[0]
    assert (await send_sms(app.api, resident.phone)).status == 202
    login = await app.api.post("/api/v1/auth/sms/verify",
                               {"phone": resident.phone, "code": await latest_sms_code(app.api, resident.phone)})
    tokens = login.json()
    real = await app.api.post("/api/v1/me/realname", {"name": resident.name, "id_number": resident.id_number},
                              headers=bearer(tokens["access_token"]))
    assert real.status == 200, real.body
    return {"access": real.json()["access_token"], "refresh": tokens["refresh_token"]}


def table(rows: list[dict]) -> str:
    out = ["| page | performance | accessibility | best practices | FCP | LCP | TBT | CLS | transfer |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['page']} | {r['performance']} | {r['accessibility']} | {r['best_practices']} | "
                   f"{r['fcp_ms'] / 1000:.1f} s | {r['lcp_ms'] / 1000:.1f} s | {r['tbt_ms']} ms | {r['cls']} | "
                   f"{r['transfer_kib']} KiB |")
    return "\n".join(out)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="write the table into docs/PERFORMANCE.md")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-lighthouse-"))
    mongo, redis = EmbeddedMongo(tmp), EmbeddedRedis(tmp)
    await mongo.start()
    await redis.start()
    app = await start_app(Backends(mongo.uri, redis.uri))
    try:
        session = await session_of_demo_resident(app)
        base = app.api.base_url
        proc = await asyncio.to_thread(
            subprocess.run, ["node", str(ROOT / "tools" / "lighthouse" / "run.mjs"), base, json.dumps(session)],
            capture_output=True, text=True, timeout=600, env={**os.environ})
        if proc.returncode != 0:
            raise SystemExit(f"lighthouse failed:\n{proc.stderr[-3000:]}")
        rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    finally:
        await stop_app(app)
        await redis.stop()
        await mongo.stop()
    text = table(rows)
    print(text)
    for r in rows:
        if r["failed"]:
            print(f"{r['page']}: audits below 0.9: {', '.join(r['failed'])}")
    if args.write:
        doc = ROOT / "docs" / "PERFORMANCE.md"
        content = doc.read_text(encoding="utf-8")
        block = f"{BEGIN}\nMeasured {time.strftime('%Y-%m-%d')} (`make lighthouse`, Lighthouse 12.2.3 mobile, " \
                f"Debian chromium):\n\n{text}\n{END}"
        if BEGIN in content:
            head, rest = content.split(BEGIN, 1)
            content = head + block + rest.split(END, 1)[1]
        else:
            content = content.rstrip() + "\n\n## H5: Lighthouse (mobile)\n\n" + block + "\n"
        doc.write_text(content, encoding="utf-8")
        print(f"written to {doc}")


if __name__ == "__main__":
    asyncio.run(main())
