"""IMAP polling against a real Dovecot on loopback (IMAPS with a certificate of its own):
new mail is stored raw once, tickets follow, and an unverifiable certificate is refused."""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mail_support import _mail, _mailbox, _received
from typer.testing import CliRunner

from conftest import Desk, agent_client
from kefu.accounts.models import Role
from kefu.cli import app

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
# Dovecot drops to its own users and serves the mail as `nobody`: the set-up needs root.
pytestmark = pytest.mark.skipif(not Path(DOVECOT).exists() or os.geteuid() != 0,
                                reason="needs dovecot (scripts/services.sh) and root")
PASSWORD = "imap-secret-pass"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Imap:
    def __init__(self, port: int, maildir: Path, cert: Path) -> None:
        self.port, self.maildir, self.cert = port, maildir, cert
        self.count = 0

    def deliver(self, raw: bytes) -> None:
        self.count += 1
        path = self.maildir / "new" / f"{time.time_ns()}.{self.count}.kefu"
        path.write_bytes(raw)
        shutil.chown(path, "nobody", "nogroup")


@pytest.fixture
def imap() -> Iterator[Imap]:
    # A short path: Dovecot's sockets live under it (Unix socket paths are short).
    root = Path(tempfile.mkdtemp(prefix="kd", dir="/tmp"))
    root.chmod(0o755)  # Dovecot's auth and mail processes run as other users
    run, home = root / "run", root / "mail"
    maildir = home / "kefu" / "Maildir"
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True)
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    (root / "passwd").write_text(f"kefu:{{PLAIN}}{PASSWORD}\n")
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(f"""base_dir = {run}
state_dir = {run}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
  }}
}}
""")
    for path in (home, *home.rglob("*")):
        shutil.chown(path, "nobody", "nogroup")
    server = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield Imap(port, maildir, cert)
    finally:
        # The master (its pid in master.pid) stops every process it forked.
        master = run / "master.pid"
        pid = int(master.read_text().split()[0]) if master.exists() else server.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


async def _poll(monkeypatch: pytest.MonkeyPatch) -> str:
    result = await asyncio.to_thread(CliRunner().invoke, app, ["mail-poll", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


async def test_imap_folder_is_polled_into_tickets_once(
        desk: Desk, imap: Imap, monkeypatch: pytest.MonkeyPatch) -> None:
    admin: httpx.AsyncClient = await agent_client(desk, role=Role.ADMIN)
    address, mailbox_id = await _mailbox(admin)
    saved = await admin.post(f"/admin/mailboxes/{mailbox_id}/imap", data={
        "host": "127.0.0.1", "port": str(imap.port), "username": "kefu",
        "password": PASSWORD, "folder": "INBOX"})
    assert saved.status_code == 303
    monkeypatch.setenv("KEFU_DATABASE_URL", desk.settings.database_url)
    monkeypatch.setenv("KEFU_DATA_DIR", str(desk.settings.data_dir))
    # The server's certificate is not in the system's store: polling refuses it.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    imap.deliver(_mail(address, sender="first@mail.example", subject="充值未到账",
                       body="My deposit is missing.").as_bytes())
    refused = await _poll(monkeypatch)
    assert f"{address}: error: SSLCertVerificationError" in refused
    page = (await admin.get(f"/admin/mailboxes/{mailbox_id}/messages")).text
    assert "SSLCertVerificationError" in page and 'data-status="' not in page
    # Trusted (as an operator would add their CA), it reads the folder.
    monkeypatch.setenv("SSL_CERT_FILE", str(imap.cert))
    imap.deliver(_mail(address, sender="second@mail.example", subject="withdrawal",
                       body="Withdrawal pending.").as_bytes())
    assert f"{address}: 2" in await _poll(monkeypatch)
    assert f"{address}: 0" in await _poll(monkeypatch)  # nothing new: nothing stored again
    imap.deliver(_mail(address, sender="third@mail.example", subject="hacked",
                       body="Someone logged in.").as_bytes())
    assert f"{address}: 1" in await _poll(monkeypatch)
    rows = await _received(desk, admin, mailbox_id)
    assert [r["status"] for r in rows] == ["processed"] * 3
    assert len({r["ticket"] for r in rows}) == 3
    assert os.listdir(imap.maildir / "new") or os.listdir(imap.maildir / "cur")


async def test_idle_brings_new_mail_in_at_once(
        desk: Desk, imap: Imap, monkeypatch: pytest.MonkeyPatch) -> None:
    from kefu.channels.email.imap import watch_mailbox

    admin: httpx.AsyncClient = await agent_client(desk, role=Role.ADMIN)
    address, mailbox_id = await _mailbox(admin)
    await admin.post(f"/admin/mailboxes/{mailbox_id}/imap", data={
        "host": "127.0.0.1", "port": str(imap.port), "username": "kefu",
        "password": PASSWORD, "folder": "INBOX"})
    monkeypatch.setenv("SSL_CERT_FILE", str(imap.cert))
    # A long interval: only IDLE can make the mail arrive within the test's wait.
    watcher = asyncio.create_task(watch_mailbox(
        settings=desk.settings, factory=desk.app.state.session_factory,
        mailbox_id=int(mailbox_id), interval=120))
    try:
        await asyncio.sleep(2)  # polled once (nothing), now idling
        imap.deliver(_mail(address, sender="idle@mail.example", subject="deposit",
                           body="Deposit missing.").as_bytes())
        rows: list[dict[str, str]] = []
        for _ in range(40):
            await asyncio.sleep(0.5)
            rows = await _received(desk, admin, mailbox_id)
            if rows:
                break
        assert [r["status"] for r in rows] == ["processed"]
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
