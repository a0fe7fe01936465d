"""Checking the audit log: every edit, deletion, reordering, insertion or
truncation after a seal is reported, naming the first bad event."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from hdh.audit import chain
from hdh.audit.models import AuditEvent, AuditSeal


@dataclass(frozen=True)
class Problem:
    kind: str  # altered | missing | broken_link | truncated | seal | anchor
    message: str
    seq: int | None = None


@dataclass
class Report:
    events_checked: int = 0
    seals_checked: int = 0
    head_seq: int = 0
    head_hash: str = chain.GENESIS
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def _walk_events(report: Report, wanted: set[int]) -> dict[int, str]:
    """Walk the chain in order; stop at the first broken event."""
    found: dict[int, str] = {}
    expected_seq, prev = 1, chain.GENESIS
    rows = (
        AuditEvent.objects.order_by("seq")
        .values(*chain.EVENT_FIELDS, "prev_hash", "hash")
        .iterator(chunk_size=5000)
    )
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            report.problems.append(
                Problem(
                    "missing",
                    f"event #{seq}: expected #{expected_seq} — "
                    f"event(s) #{expected_seq}..#{seq - 1} were deleted or renumbered",
                    seq,
                )
            )
            return found
        if row["prev_hash"] != prev:
            report.problems.append(
                Problem(
                    "broken_link",
                    f"event #{seq}: does not follow event #{seq - 1} "
                    "(events reordered, inserted, or a predecessor replaced)",
                    seq,
                )
            )
            return found
        payload = {name: chain._value(row[name]) for name in chain.EVENT_FIELDS}
        computed = chain.event_hash(prev, payload)
        if computed != row["hash"]:
            report.problems.append(
                Problem("altered", f"event #{seq}: content does not match its hash (edited)", seq)
            )
            return found
        if seq in wanted:
            found[seq] = row["hash"]
        prev = row["hash"]
        expected_seq += 1
        report.events_checked += 1
    report.head_seq, report.head_hash = expected_seq - 1, prev
    return found


def _check_seals(report: Report, seals: list[AuditSeal], heads: dict[int, str]) -> None:
    prev_seal = chain.GENESIS
    for seal in seals:
        if seal.prev_seal_hash != prev_seal or seal.seal_hash != chain.seal_hash(
            seal.prev_seal_hash, chain.seal_payload(seal)
        ):
            report.problems.append(
                Problem("seal", f"seal of {seal.day}: altered, inserted or out of order")
            )
            return
        prev_seal = seal.seal_hash
        report.seals_checked += 1
        if seal.head_seq == 0:
            continue
        if report.ok and seal.head_seq > report.head_seq:
            report.problems.append(
                Problem(
                    "truncated",
                    f"log truncated: the seal of {seal.day} covers event #{seal.head_seq} "
                    f"({seal.event_count} events) but the log ends at #{report.head_seq}",
                    report.head_seq + 1,
                )
            )
            return
        if seal.head_seq in heads and heads[seal.head_seq] != seal.head_hash:
            report.problems.append(
                Problem(
                    "seal",
                    f"event #{seal.head_seq}: differs from the one sealed on {seal.day} "
                    "(the log was rewritten)",
                    seal.head_seq,
                )
            )
            return


def _read_anchor(path: Path) -> list[dict[str, Any]]:
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            entries.append({"_unreadable": number})
    return entries


def _check_anchor(report: Report, seals: list[AuditSeal], anchor: Path) -> None:
    if not anchor.exists():
        if seals:
            report.problems.append(
                Problem("anchor", f"anchor file {anchor} is missing but the log has seals")
            )
        return
    by_day = {seal.day.isoformat(): seal for seal in seals}
    anchored_days = set()
    for entry in _read_anchor(anchor):
        if "_unreadable" in entry:
            report.problems.append(
                Problem("anchor", f"anchor file line {entry['_unreadable']} is unreadable")
            )
            return
        day = str(entry.get("day"))
        anchored_days.add(day)
        seal = by_day.get(day)
        if seal is None:
            report.problems.append(
                Problem(
                    "truncated",
                    f"the seal of {day} (event #{entry.get('head_seq')}) is in the anchor file "
                    "but no longer in the database: the log was truncated or rewritten",
                    entry.get("head_seq"),
                )
            )
            return
        if seal.seal_hash != entry.get("seal_hash"):
            report.problems.append(
                Problem("seal", f"the seal of {day} differs from its anchored copy")
            )
            return
    for day in sorted(set(by_day) - anchored_days):
        report.warnings.append(f"the seal of {day} is not in the anchor file")


def verify(*, anchor: Path | None = None) -> Report:
    """Check the whole chain, the seals and the anchor file."""
    report = Report()
    seals = list(AuditSeal.objects.order_by("day"))
    heads = _walk_events(report, {seal.head_seq for seal in seals})
    if report.ok:
        _check_seals(report, seals, heads)
    if report.ok:
        _check_anchor(report, seals, Path(anchor or settings.HDH_AUDIT_ANCHOR))
    return report
