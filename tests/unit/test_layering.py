"""STYLE.md §2: the import rules between layers, checked on every module's AST."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import authgate

ROOT = Path(authgate.__file__).parent
STDLIB = frozenset(__import__("sys").stdlib_module_names) | {"__future__"}

# package → (authgate modules it may import, third-party top-level packages it may import)
RULES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "core": (("authgate.core",), frozenset()),
    "flows": (
        ("authgate.core", "authgate.store.base", "authgate.config", "authgate.flows"),
        frozenset({"anyio"}),
    ),
    "store": (
        (
            "authgate.core.models",
            "authgate.core.types",
            "authgate.core.errors",
            "authgate.store",
        ),
        frozenset({"sqlalchemy", "alembic", "aiosqlite", "asyncpg", "anyio"}),
    ),
    "web": (
        (
            "authgate.core",
            "authgate.flows",
            "authgate.store.base",
            "authgate.config",
            "authgate.ui",
            "authgate.web",
        ),
        frozenset({"starlette", "jinja2", "httpx2", "segno", "prometheus_client"}),
    ),
    "ui": (("authgate.ui", "authgate.config"), frozenset({"jinja2"})),
}
# The modules of core allowed a third-party library, and which.
CORE_EXCEPTIONS = {
    # joserfc, and cryptography's signature primitives for the hot-path signer
    "authgate.core.jose": {"joserfc", "cryptography"},
    "authgate.core.authorization_details": {"jsonschema"},
    "authgate.core.passwords": {"argon2"},
    "authgate.core.crypto": {"cryptography"},  # AES-GCM/HKDF for the refresh grace payload
}


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    return ".".join(rel.parts).removesuffix(".__init__")


def _cases() -> list[Path]:
    return sorted(p for pkg in RULES for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _cases(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_respects_layering(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    allowed_first, allowed_third = RULES[package]
    module = _module_name(path)
    extra = CORE_EXCEPTIONS.get(module, set())
    for name, line in _imports(path):
        top = name.split(".")[0]
        if top == "authgate":
            assert name.startswith(allowed_first), f"{module}:{line} imports {name}"
        elif top not in STDLIB:
            assert top in allowed_third | extra, f"{module}:{line} imports third-party {name}"


def test_core_is_synchronous() -> None:
    for path in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            assert not isinstance(node, ast.AsyncFunctionDef), f"{path.name}: async def {node.name}"
