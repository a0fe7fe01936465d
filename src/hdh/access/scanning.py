"""Antivirus on uploads: a pluggable scanner chosen by ``HDH_UPLOAD_SCANNER``.

``none`` (the default) accepts every file; an absolute path names the Unix socket
of a ClamAV daemon (``clamd``), spoken to with its ``INSTREAM`` command. When a
scanner is configured but does not answer, uploads are refused: a file nobody
could check is never stored (fail closed).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

CHUNK = 64 * 1024
TIMEOUT_SECONDS = 60.0
_REPLY_LIMIT = 4096


class ScannerUnavailable(Exception):
    """The scanner could not give a verdict (not running, refused, malformed reply)."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    # The scanner's name for what it found (e.g. ``Eicar-Signature``); empty when clean.
    signature: str = ""


class Scanner(Protocol):
    def scan(self, chunks: Iterable[bytes]) -> Verdict: ...


class NoScanner:
    def scan(self, chunks: Iterable[bytes]) -> Verdict:
        return Verdict(clean=True)


class ClamdScanner:
    """ClamAV's daemon over its Unix socket: ``zINSTREAM``, length-prefixed chunks."""

    def __init__(self, socket_path: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    def scan(self, chunks: Iterable[bytes]) -> Verdict:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(self.timeout)
                conn.connect(self.socket_path)
                conn.sendall(b"zINSTREAM\0")
                for chunk in chunks:
                    for start in range(0, len(chunk), CHUNK):
                        part = chunk[start : start + CHUNK]
                        conn.sendall(struct.pack(">I", len(part)) + part)
                conn.sendall(struct.pack(">I", 0))
                reply = _read_reply(conn)
        except OSError as exc:
            raise ScannerUnavailable(f"clamd at {self.socket_path}: {exc.strerror or exc}") from exc
        return parse_reply(reply)


def _read_reply(conn: socket.socket) -> bytes:
    reply = b""
    while not reply.endswith(b"\0") and len(reply) < _REPLY_LIMIT:
        data = conn.recv(1024)
        if not data:
            break
        reply += data
    return reply


def parse_reply(reply: bytes) -> Verdict:
    """``stream: OK``, ``stream: <signature> FOUND``; anything else is no verdict."""
    text = reply.rstrip(b"\0\n").decode("utf-8", "replace")
    _, _, result = text.partition(": ")
    if result == "OK":
        return Verdict(clean=True)
    if result.endswith(" FOUND"):
        return Verdict(clean=False, signature=result.removesuffix(" FOUND")[:200])
    raise ScannerUnavailable(f"clamd gave no verdict: {text[:200]!r}")


def configured() -> Scanner:
    setting = str(getattr(settings, "HDH_UPLOAD_SCANNER", "none") or "none")
    if setting == "none":
        return NoScanner()
    return ClamdScanner(setting)
