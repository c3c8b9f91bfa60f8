"""The hotline's catalog (``config/catalog/tickets.json``): kinds and their time limits, the
categories people choose (each with its lead department), the departments; and its knowledge
base (``config/catalog/knowledge.json``), searched before a 咨询 is filed. Validated at load:
a category naming an unknown department or kind stops start-up."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.config import ConfigError

_PUNCT = re.compile(r"[\s，。？！、；：“”‘’（）《》\-—,.?!;:()\[\]【】]+")


@dataclass(frozen=True)
class Kind:
    code: str
    name: str
    limit_working_days: int


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    group: str
    kinds: tuple[str, ...]
    department: str
    urgent: bool = False


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    duty_phone: str
    region_code: str


@dataclass(frozen=True)
class Answer:
    id: str
    category: str
    question: str
    answer: str
    matter: str | None
    grams: frozenset[str]


def _grams(text: str) -> frozenset[str]:
    """Chinese full-text matching without a dictionary: character bigrams (and single
    characters of short words), punctuation removed."""
    out: set[str] = set()
    for part in _PUNCT.split(text.lower()):
        out.update(part[i:i + 2] for i in range(len(part) - 1))
        if len(part) == 1:
            out.add(part)
    return frozenset(out)


class TicketCatalog:
    URGENT_HOURS = 2

    def __init__(self, raw: dict[str, Any], knowledge: list[dict[str, Any]]):
        self.centre = raw["centre"]
        self.sign_within_working_hours = float(raw["sign_within_working_hours"])
        self.escalate_after_working_days = int(raw["escalate_after_working_days"])
        self.callback_within_working_days = int(raw.get("callback_within_working_days", 1))
        self.kinds = {k["code"]: Kind(k["code"], k["name"], int(k["limit_working_days"])) for k in raw["kinds"]}
        self.departments = {d["code"]: Department(d["code"], d["name"], d["duty_phone"], d["region_code"])
                            for d in raw["departments"]}
        self.categories: dict[str, Category] = {}
        for c in raw["categories"]:
            cat = Category(c["code"], c["name"], c["group"], tuple(c["kinds"]), c["department"], bool(c.get("urgent")))
            bad = [k for k in cat.kinds if k not in self.kinds]
            if bad or cat.department not in self.departments:
                raise ConfigError("tickets", f"category {cat.code}: unknown kind {bad} or department {cat.department}")
            self.categories[cat.code] = cat
        self.answers = []
        for a in knowledge:
            if a["category"] not in self.categories:
                raise ConfigError("knowledge", f"{a['id']}: unknown category {a['category']}")
            self.answers.append(Answer(a["id"], a["category"], a["question"], a["answer"], a.get("matter"),
                                       _grams(a["question"] + " " + a["answer"][:60])))

    def department(self, code: str) -> Department | None:
        return self.departments.get(code)

    def limit_of(self, kind: str, category: str) -> tuple[str, float]:
        """("hours", n) for an urgent category, else ("days", working days of the kind)."""
        cat = self.categories[category]
        if cat.urgent:
            return "hours", self.URGENT_HOURS
        return "days", self.kinds[kind].limit_working_days

    def search(self, text: str, category: str | None = None, limit: int = 3) -> list[tuple[Answer, float]]:
        """Knowledge-base answers for a question, best first (score: shared bigrams over the
        question's, a bonus for the same category)."""
        q = _grams(text)
        if not q:
            return []
        scored = []
        for a in self.answers:
            shared = len(q & a.grams)
            if not shared:
                continue
            score = shared / len(q) + (0.2 if category and a.category == category else 0)
            scored.append((a, round(score, 3)))
        scored.sort(key=lambda x: -x[1])
        return [s for s in scored if s[1] >= 0.25][:limit]


def load_ticket_catalog(catalog_file: Path, knowledge_file: Path) -> TicketCatalog:
    try:
        raw = json.loads(catalog_file.read_text(encoding="utf-8"))
        knowledge = json.loads(knowledge_file.read_text(encoding="utf-8"))["items"]
        return TicketCatalog(raw, knowledge)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError("tickets", f"{catalog_file.name} / {knowledge_file.name}: {e}") from None
