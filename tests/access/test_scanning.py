"""Antivirus on protocol uploads, against a small clamd stand-in that speaks clamd's real
INSTREAM protocol over a Unix socket (ClamAV's signatures cannot be installed offline):
clean files pass, the EICAR test file is refused, and a configured scanner that does not
answer refuses every upload."""

from __future__ import annotations

import shutil
import socket
import struct
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.urls import reverse

from hdh.access import scanning
from hdh.access.models import Application
from hdh.access.services import applications
from hdh.audit.models import AuditEvent
from hdh.core.errors import ValidationFailed
from tests.access.helpers import client_for
from tests.factories.access import PDF, create_draft, protocol_upload

# The standard antivirus test file (eicar.org): every scanner reports it, it harms nothing.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Win.Test.EICAR_HDB-1"


@dataclass
class FakeClamd:
    """clamd's INSTREAM: ``zINSTREAM\\0``, then chunks each prefixed by a 4-byte big-endian
    length, a zero length to end; the reply is ``stream: OK\\0`` or
    ``stream: <signature> FOUND\\0``. ``mode`` makes it misbehave."""

    path: str
    mode: str = "clamd"  # or "hang_up" (closes without a verdict), "garbage"
    received: list[bytes] = field(default_factory=list)
    commands: list[bytes] = field(default_factory=list)

    def serve(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                self._session(conn)

    def _read_exact(self, conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            part = conn.recv(size - len(data))
            if not part:
                raise ConnectionError("client hung up")
            data += part
        return data

    def _session(self, conn: socket.socket) -> None:
        command = b""
        while not command.endswith((b"\0", b"\n")):
            command += self._read_exact(conn, 1)
        self.commands.append(command)
        if command not in (b"zINSTREAM\0", b"nINSTREAM\n"):
            conn.sendall(b"UNKNOWN COMMAND\0")
            return
        stream = b""
        while True:
            (size,) = struct.unpack(">I", self._read_exact(conn, 4))
            if size == 0:
                break
            stream += self._read_exact(conn, size)
        self.received.append(stream)
        if self.mode == "hang_up":
            return
        if self.mode == "garbage":
            conn.sendall(b"\xff\xfe what?\0")
            return
        verdict = f"{SIGNATURE} FOUND" if EICAR in stream else "OK"
        conn.sendall(f"stream: {verdict}\0".encode())


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    # Unix socket paths are limited to ~100 bytes: a short folder, not pytest's tmp_path.
    folder = Path(tempfile.mkdtemp(prefix="clamd-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def start(folder: Path, mode: str = "clamd") -> tuple[FakeClamd, socket.socket]:
    path = str(folder / f"{mode}.sock")
    fake = FakeClamd(path=path, mode=mode)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    threading.Thread(target=fake.serve, args=(server,), daemon=True).start()
    return fake, server


@pytest.fixture
def clamd(socket_dir: Path) -> Iterator[FakeClamd]:
    fake, server = start(socket_dir)
    yield fake
    server.close()


def test_a_clean_stream_is_clean_and_arrives_whole(clamd: FakeClamd) -> None:
    payload = PDF + bytes(range(256)) * 1000  # several INSTREAM chunks
    verdict = scanning.ClamdScanner(clamd.path).scan([payload[:1000], payload[1000:]])
    assert verdict == scanning.Verdict(clean=True)
    assert clamd.commands == [b"zINSTREAM\0"]
    assert clamd.received == [payload]


def test_the_eicar_test_file_is_found(clamd: FakeClamd) -> None:
    verdict = scanning.ClamdScanner(clamd.path).scan([PDF, EICAR])
    assert verdict == scanning.Verdict(clean=False, signature=SIGNATURE)


@pytest.mark.parametrize("mode", ["hang_up", "garbage"])
def test_no_verdict_is_unavailable(socket_dir: Path, mode: str) -> None:
    fake, server = start(socket_dir, mode)
    try:
        with pytest.raises(scanning.ScannerUnavailable):
            scanning.ClamdScanner(fake.path).scan([PDF])
    finally:
        server.close()


def test_a_missing_daemon_is_unavailable(socket_dir: Path) -> None:
    with pytest.raises(scanning.ScannerUnavailable, match="clamd"):
        scanning.ClamdScanner(str(socket_dir / "absent.sock")).scan([PDF])


@pytest.mark.parametrize(
    ("reply", "clean", "signature"),
    [
        (b"stream: OK\0", True, ""),
        (b"stream: Eicar-Signature FOUND\0", False, "Eicar-Signature"),
        (b"1: stream: OK\n", None, ""),  # an id-prefixed reply is not what we asked for
        (b"INSTREAM size limit exceeded. ERROR\0", None, ""),
        (b"", None, ""),
    ],
)
def test_replies_are_parsed_strictly(reply: bytes, clean: bool | None, signature: str) -> None:
    if clean is None:
        with pytest.raises(scanning.ScannerUnavailable):
            scanning.parse_reply(reply)
    else:
        assert scanning.parse_reply(reply) == scanning.Verdict(clean, signature)


@pytest.mark.django_db
def test_protocol_uploads_are_scanned(settings, clamd: FakeClamd) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_UPLOAD_SCANNER = clamd.path
    application = create_draft(complete=False)
    owner = application.created_by
    infected = PDF + EICAR
    with pytest.raises(ValidationFailed, match=SIGNATURE):
        applications.attach_protocol(
            by=owner, application=application, upload=protocol_upload(infected)
        )
    application.refresh_from_db()
    assert not application.protocol
    event = AuditEvent.objects.get(action="access.application.upload_refused")
    assert event.details == {"reason": "malware", "signature": SIGNATURE}
    applications.attach_protocol(by=owner, application=application, upload=protocol_upload())
    application.refresh_from_db()
    assert application.protocol
    assert clamd.received[-1] == PDF


@pytest.mark.django_db
def test_an_unreachable_scanner_refuses_uploads_with_a_clear_message(
    settings,  # type: ignore[no-untyped-def]
    socket_dir: Path,
) -> None:
    settings.HDH_UPLOAD_SCANNER = str(socket_dir / "clamd.sock")
    application = create_draft(complete=False)
    client = client_for(application.created_by)  # type: ignore[arg-type]
    url = reverse("access:protocol", kwargs={"pk": application.pk})
    response = client.post(url, {"protocol": protocol_upload()})
    assert "analyse antivirus est indisponible" in response.content.decode()
    assert not Application.objects.get(pk=application.pk).protocol
    event = AuditEvent.objects.get(action="access.application.upload_refused")
    assert event.details == {"reason": "scanner_unavailable"}


@pytest.mark.django_db
def test_without_a_scanner_uploads_are_accepted(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HDH_UPLOAD_SCANNER = "none"
    application = create_draft(complete=False)
    applications.attach_protocol(
        by=application.created_by,  # type: ignore[arg-type]
        application=application,
        upload=protocol_upload(PDF + EICAR),
    )
    assert Application.objects.get(pk=application.pk).protocol
