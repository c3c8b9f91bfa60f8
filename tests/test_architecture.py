"""The architecture's rules (docs/ARCHITECTURE.md), checked on every test run: the import
contracts in pyproject.toml (import-linter), the size of modules, and constructor
injection (no service attribute set from outside after construction)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["server", "identity", "card_wallet", "matters", "notifications", "tickets", "halls", "proxies", "policies",
            "payments", "superapp"]
DOMAINS = ["identity", "card_wallet", "matters", "notifications", "tickets", "halls", "proxies", "policies",
           "payments"]
MAX_LINES = 450


def _python_files(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_module_outside_the_tests_is_over_450_lines():
    long = {str(p.relative_to(ROOT)): n for p in _python_files(*PACKAGES, "bench")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules (over {MAX_LINES} lines): {long}"


def test_domains_have_the_same_shape():
    """Every package with a service has its views and models beside it."""
    for service in _python_files(*DOMAINS):
        if service.name != "service.py":
            continue
        missing = [f for f in ("models.py", "views.py") if not (service.parent / f).exists()]
        assert not missing, f"{service.parent.relative_to(ROOT)} lacks {missing}"


def test_nothing_is_wired_after_construction():
    """Outside ``__init__``, no code sets an attribute of another object (``x.notifier = …``)."""
    offenders = []
    roots = [ROOT / "superapp" / f for f in ("context.py", "launcher.py", "routes.py")]
    for path in _python_files(*DOMAINS) + roots:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
            for t in targets:
                if isinstance(t, ast.Attribute) and not (isinstance(t.value, ast.Name)
                                                         and t.value.id in ("self", "cls")):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(t)}")
    assert not offenders, offenders
