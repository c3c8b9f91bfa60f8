"""Policy matching throughput: 100 k holders × 20 policies, holders/s, against a baseline
measured in the same run.

    .venv/bin/python bench/policies.py [--holders 100000] [--rounds 3]

The holders are synthetic (persons and enterprises in the proportion 4:1, with a realistic
spread of ages, registration dates and wallet certificates); the policies are the catalog's
(``config/catalog/policies.json``) and variants of them up to 20, validated by the same loader.
Per holder the matcher builds the facts once (``policies.matching.holder_facts``) and matches
every open policy of its kind (``policies.matching.match``, the 秒批 rule evaluator) — what
主动提醒 does for one changed holder, without the storage round trips (one wallet read, one
identity read: see bench/roundtrips.py). The baseline reads the same facts and compares one
value per rule with a hand-written Python test (the floor of any rule engine over these
facts). Prints holders/s and µs per holder × policy for both, and the ratio.
"""
from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from card_wallet.catalog import load_catalog  # noqa: E402
from identity.facade import EnterpriseFacts, PersonFacts  # noqa: E402
from matters.applicant import Applicant  # noqa: E402
from policies.catalog import PolicyCatalog, parse_policy  # noqa: E402
from policies.matching import holder_facts, match  # noqa: E402

BIRTH, DEGREE, SOCIAL = "11100000000019297M001", "11100000000017355J001", "11100000000013426B001"
TODAY = date(2026, 6, 1)


def catalog(n: int) -> PolicyCatalog:
    raw = json.loads((ROOT / "config/catalog/policies.json").read_text(encoding="utf-8"))
    certs = load_catalog(ROOT / "config/catalog/certificate_types.json")
    items = [i for i in raw["items"] if date.fromisoformat(i["valid_until"]) >= TODAY]
    out, k = list(items), 0
    while len(out) < n:
        v = copy.deepcopy(items[k % len(items)])
        v["code"] = f"gz-var{k:03d}-2026"
        out.append(v)
        k += 1
    return PolicyCatalog({p.code: p for p in (parse_policy(i, raw["departments"], certs) for i in out[:n])})


def holders(n: int, seed: int = 7) -> list[tuple[Applicant, dict]]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        if i % 5:
            born = TODAY - timedelta(days=rnd.randint(18 * 365, 90 * 365))
            idn = f"440106{born:%Y%m%d}{i % 1000:03d}X"
            p = PersonFacts(f"p{i:024x}", "active", 2, None, "某某", idn, f"bidx{i}", None, rnd.choice(["男", "女"]), born)
            certs = {BIRTH: None, DEGREE: None, SOCIAL: None}
            if rnd.random() < 0.1:
                certs[BIRTH] = {"fields": {"birth_date": (TODAY - timedelta(days=rnd.randint(0, 2000))).isoformat(),
                                           "mother_id_number": idn, "baby_name": "某宝"}}
            if rnd.random() < 0.2:
                certs[DEGREE] = {"fields": {"degree": rnd.choice(["学士", "硕士", "博士"])}}
            if rnd.random() < 0.6:
                certs[SOCIAL] = {"fields": {"card_number": "x"}}
            out.append((Applicant("person", p.id, "某某", p.id, person=p), certs))
        else:
            est = TODAY - timedelta(days=rnd.randint(0, 3000))
            e = EnterpriseFacts(f"e{i:024x}", f"9144010{i:011d}", f"ub{i}", "某公司", "有限责任公司", "某", "广州",
                                est.isoformat(), "verified", f"p{i:024x}")
            out.append((Applicant("enterprise", e.id, e.name, e.admin_person_id, enterprise=e), {}))
    return out


def run_matcher(cat: PolicyCatalog, population) -> int:
    by_kind = {k: [p for p in cat.of_target(k) if p.open_on(TODAY)] for k in ("person", "enterprise")}
    eligible = 0
    for applicant, certs in population:
        facts = holder_facts(applicant, certs, TODAY)
        for p in by_kind[applicant.kind]:
            eligible += match(p, facts)["status"] != "not_eligible"
    return eligible


def run_baseline(cat: PolicyCatalog, population) -> int:
    """Read the same facts; one hand-written comparison per rule."""
    by_kind = {k: [p for p in cat.of_target(k) if p.open_on(TODAY)] for k in ("person", "enterprise")}
    eligible = 0
    for applicant, certs in population:
        p, e = applicant.person, applicant.enterprise
        age = p.age(TODAY) if p else None
        days = (TODAY - date.fromisoformat(e.established)).days if e else None
        for pol in by_kind[applicant.kind]:
            ok = True
            for _ in pol.rules:
                ok = ok and ((age or 0) >= 18 if p else (days or 0) >= 0) and bool(certs) is not None
            eligible += ok
    return eligible


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--holders", type=int, default=100_000)
    ap.add_argument("--policies", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    cat = catalog(a.policies)
    population = holders(a.holders)
    per_holder = statistics.mean(len([p for p in cat.of_target(ap_.kind) if p.open_on(TODAY)])
                                 for ap_, _ in population[:1000])
    print(f"{a.holders} holders × {len(cat.policies)} policies ({per_holder:.1f} of the holder's kind each), "
          f"{a.rounds} rounds, best of each")
    rows = []
    for name, fn in (("baseline (hand-written comparisons)", run_baseline), ("matcher (rules + facts)", run_matcher)):
        best = min(timed(fn, cat, population) for _ in range(a.rounds))
        rate = a.holders / best
        rows.append(rate)
        print(f"  {name:38s} {rate:>10,.0f} holders/s   {best / (a.holders * per_holder) * 1e6:6.2f} µs per holder × policy")
    print(f"  matcher / baseline: {rows[1] / rows[0]:.2f}")
    print(f"  eligible or maybe matches: {run_matcher(cat, population):,}")


if __name__ == "__main__":
    main()
