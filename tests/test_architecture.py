"""The import rules of ARCHITECTURE.md are enforced by import-linter contracts
in pyproject.toml; this test fails when a domain package appears without the
contract that guards it."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = [
    "core",
    "audit",
    "accounts",
    "engines",
    "catalog",
    "lake",
    "synth",
    "access",
    "preparation",
    "workspace",
    "airlock",
    "citizens",
]
# (source, forbidden) pairs from "Who may import whom"; the layers contract
# covers every upward import, these are the extra sideways rules.
FORBIDDEN = [
    ("workspace", "lake"),
    ("airlock", "preparation"),
    ("airlock", "lake"),
    ("citizens", "workspace"),
    ("citizens", "airlock"),
]


def exists(domain: str) -> bool:
    return importlib.util.find_spec(f"hdh.{domain}") is not None


def contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["contracts"]


def test_every_existing_domain_is_in_the_layers_contract() -> None:
    layers = next(c for c in contracts() if c["type"] == "layers")
    declared = {
        name.strip(" ()")
        for layer in layers["layers"]
        for name in layer.replace(":", "|").split("|")
    }
    for domain in DOMAINS:
        if exists(domain):
            assert domain in declared, f"hdh.{domain} is missing from the layers contract"


def test_every_sideways_rule_has_a_forbidden_contract_once_both_sides_exist() -> None:
    declared = {
        (source.removeprefix("hdh."), forbidden.removeprefix("hdh."))
        for contract in contracts()
        if contract["type"] == "forbidden"
        for source in contract["source_modules"]
        for forbidden in contract["forbidden_modules"]
    }
    missing = [
        f"hdh.{source} -> hdh.{target}"
        for source, target in FORBIDDEN
        if exists(source) and exists(target) and (source, target) not in declared
    ]
    assert not missing, f"add forbidden import-linter contracts for: {missing}"
