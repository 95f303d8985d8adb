"""A private Dovecot IMAP server for the test session, on a free loopback port.

Why a real server: the poller's promises (UIDs, UIDVALIDITY changes, IDLE pushes,
outages, huge literals) are only proven against what production runs. Everything
lives in one temp dir: the generated config, base_dir (sockets), state_dir, the log,
the passwd-file and the Maildirs. The helpers use the stdlib `imaplib`, so they are
independent of the code under test.

How it runs as root in a container (no systemd): `dovecot -F -c <conf>` stays in
the foreground in its own process group. The master stays root; login processes
run as `dovenull` and internal services (auth, anvil, stats) as `dovecot`
(`default_login_user`, `default_internal_user`, Debian's defaults). Mail processes
run as the uid/gid listed in the passwd-file, the `mail` system user (uid 8 on
Debian). Dovecot refuses uids below `first_valid_uid` (500 by default), so the
config pins `first_valid_uid = last_valid_uid = <mail uid>` (same for gid). The temp
dir is mode 755 and the passwd-file 644 so those users can reach what they need;
the Maildir root belongs to the mail user. As a non-root user, every process runs
as that user instead ("rootless" Dovecot: no chroot for login processes).

TLS: when `openssl` is available a throw-away self-signed certificate (CN localhost,
SAN 127.0.0.1) is made; the plain port then also offers STARTTLS (`ssl = yes` means
"offered", not "required") and `tls_port` speaks implicit TLS. Clients trust it via
`client_ssl_context()`. `disable_plaintext_auth = no` allows plaintext LOGIN on loopback.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

DOVECOT_BINARY = shutil.which("dovecot") or "/usr/sbin/dovecot"
HOST = "127.0.0.1"

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_LIST_LINE = re.compile(rb'\((?P<flags>[^)]*)\) (?P<delim>"[^"]*"|NIL) (?P<name>.+)')


class DovecotError(RuntimeError):
    """The test server could not be started or stopped; the message carries its log."""


def is_available() -> bool:
    return os.access(DOVECOT_BINARY, os.X_OK)


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it; tiny reuse race accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class DovecotServer:
    """One Dovecot instance; `start()`/`stop()` may be repeated to simulate outages."""

    def __init__(self, users: dict[str, str] | None = None, *, tls: bool | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ticketbot-dovecot-"))
        self.root.chmod(0o755)  # reachable by the dovecot, dovenull and mail users
        self.port = free_port()
        self._users: dict[str, str] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self.last_pgid: int | None = None  # process group of the last run, for leftover checks
        self._mail_uid, self._mail_gid, internal, group, login = _process_users()
        self.tls = shutil.which("openssl") is not None if tls is None else tls
        self.tls_port: int | None = free_port() if self.tls else None
        self.cert_path = self.root / "cert.pem"
        if self.tls:
            make_certificate(self.cert_path, self.root / "key.pem")
        (self.root / "mail").mkdir()
        os.chown(self.root / "mail", self._mail_uid, self._mail_gid)
        self.config_path = self.root / "dovecot.conf"
        self.config_path.write_text(self._config(internal, group, login))
        for name, password in (users or {"support": "secret"}).items():
            self.add_user(name, password)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def log_text(self) -> str:
        parts = [
            p.read_text(errors="replace") for p in (self.log_path, self._stdout_path) if p.exists()
        ]
        return "".join(parts)

    @property
    def _stdout_path(self) -> Path:
        return self.root / "dovecot.stdout"

    def start(self, timeout: float = 10.0) -> None:
        """Start in the foreground and return once a login succeeds."""
        if self.running:
            return
        with self._stdout_path.open("ab") as out:
            self._proc = subprocess.Popen(
                [DOVECOT_BINARY, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() kills every child
            )
        self._wait_until_serving(timeout)

    def _wait_until_serving(self, timeout: float) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        user = next(iter(self._users))
        while time.monotonic() < deadline:
            try:
                with self.connect(user):
                    return
            except (OSError, imaplib.IMAP4.error) as exc:
                last_error = exc
            # Waiting on the process doubles as the poll interval and catches an early exit.
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=0.02)
                self._proc = None
                raise DovecotError(f"dovecot exited with {code} while starting:\n{self.log_text()}")
        self.stop()
        raise DovecotError(
            f"dovecot did not accept a login on {HOST}:{self.port} within {timeout}s "
            f"(last error: {last_error!r}); log:\n{self.log_text()}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole process group, reap the master, SIGKILL any straggler.

        Signalling the group rather than only the master is what keeps this fast:
        a master told alone waits a second or more for its children.
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        pgid = proc.pid  # started as session leader: its pid is the group id
        self.last_pgid = pgid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(pgid)
            proc.wait()
        deadline = time.monotonic() + 2.0
        while _live_group_members(pgid):
            if time.monotonic() > deadline:
                _kill_group(pgid)
            if time.monotonic() > deadline + timeout:
                raise DovecotError(f"dovecot processes of group {pgid} survive SIGKILL")
            time.sleep(0.01)  # poll interval of a condition wait

    def close(self) -> None:
        """Stop and delete everything (config, Maildirs, log)."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- users --------------------------------------------------------------------------------

    def add_user(self, name: str, password: str, timeout: float = 5.0) -> None:
        """Add (or change) a login; returns once Dovecot accepts it.

        Dovecot re-reads a changed passwd-file at most once a second, hence the wait.
        """
        if not re.fullmatch(r"[A-Za-z0-9._@+-]+", name) or ":" in password or "\n" in password:
            raise ValueError(f"unsupported test user or password for {name!r}")
        self._users[name] = password
        lines = [
            f"{user}:{{PLAIN}}{pw}:{self._mail_uid}:{self._mail_gid}::{self.root}/mail/{user}::\n"
            for user, pw in self._users.items()
        ]
        passwd = self.root / "passwd"
        staging = self.root / "passwd.new"
        staging.write_text("".join(lines))
        staging.chmod(0o644)
        staging.replace(passwd)
        if self.running:
            self._wait_for_login(name, timeout)

    def _wait_for_login(self, user: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect(user):
                    return
            except imaplib.IMAP4.error:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)  # poll interval of a condition wait, not synchronisation

    @property
    def users(self) -> dict[str, str]:
        return dict(self._users)

    def maildir(self, folder: str = "INBOX", user: str = "support") -> Path:
        base = self.root / "mail" / user / "Maildir"
        return base if folder.upper() == "INBOX" else base / f".{folder}"

    # -- IMAP helpers (stdlib imaplib, independent of the code under test) --------------------

    @contextlib.contextmanager
    def connect(self, user: str = "support") -> Iterator[imaplib.IMAP4]:
        imap = imaplib.IMAP4(HOST, self.port, timeout=5)
        try:
            imap.login(user, self._users[user])
            yield imap
        finally:
            try:
                imap.logout()  # also closes the socket
            except (OSError, imaplib.IMAP4.error):
                with contextlib.suppress(OSError):
                    imap.shutdown()

    def append(
        self, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = (), *, user: str = "support"
    ) -> int:
        """APPEND a message; returns its UID (from UIDPLUS's APPENDUID)."""
        flag_list = f"({' '.join(flags)})" if flags else None
        with self.connect(user) as imap:
            typ, data = imap.append(folder, flag_list, None, raw)
        found = _APPENDUID.search(data[0] or b"") if typ == "OK" else None
        if found is None:
            raise DovecotError(f"APPEND to {folder} failed: {typ} {data!r}")
        return int(found.group(2))

    def flags(self, uid: int, folder: str = "INBOX", *, user: str = "support") -> set[str]:
        with self.connect(user) as imap:
            _ok(imap.select(folder, readonly=True))
            typ, data = imap.uid("FETCH", str(uid), "(FLAGS)")
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            found = _FLAGS.search(line or b"")
            if typ == "OK" and found is not None:
                return set(found.group(1).decode().split())
        raise LookupError(f"no message with UID {uid} in {folder}")

    def uids(self, folder: str = "INBOX", *, user: str = "support") -> list[int]:
        with self.connect(user) as imap:
            _ok(imap.select(folder, readonly=True))
            typ, data = imap.uid("SEARCH", "ALL")
        _ok((typ, data))
        return sorted(int(token) for token in (data[0] or b"").split())

    def uidvalidity(self, folder: str = "INBOX", *, user: str = "support") -> int:
        with self.connect(user) as imap:
            typ, data = imap.status(folder, "(UIDVALIDITY)")
        found = _UIDVALIDITY.search(data[0] or b"") if typ == "OK" else None
        if found is None:
            raise DovecotError(f"STATUS {folder} failed: {typ} {data!r}")
        return int(found.group(1))

    def fetch(self, uid: int, folder: str = "INBOX", *, user: str = "support") -> bytes:
        with self.connect(user) as imap:
            _ok(imap.select(folder, readonly=True))
            typ, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
        for item in data:
            if typ == "OK" and isinstance(item, tuple):
                return bytes(item[1])
        raise LookupError(f"no message with UID {uid} in {folder}")

    def reset_mailbox(self, folder: str = "INBOX", *, user: str = "support") -> None:
        """Expunge every message of `folder` (UIDs keep counting up; UIDVALIDITY stays)."""
        with self.connect(user) as imap:
            typ, data = imap.select(folder)
            _ok((typ, data))
            if int(data[0] or b"0"):
                _ok(imap.store("1:*", "+FLAGS.SILENT", r"(\Deleted)"))
                _ok(imap.expunge())

    def reset_all(self) -> None:
        """Each user back to an empty INBOX and no other folders (between tests)."""
        for user in self._users:
            with self.connect(user) as imap:
                typ, data = imap.list()
                _ok((typ, data))
                names = [_folder_name(line) for line in data if isinstance(line, bytes)]
                for name in sorted(
                    (n for n in names if n.upper() != "INBOX"), key=len, reverse=True
                ):
                    _ok(imap.delete(_quote(name)))
            self.reset_mailbox(user=user)

    def create_folder(self, folder: str, *, user: str = "support") -> None:
        with self.connect(user) as imap:
            _ok(imap.create(_quote(folder)))

    def recreate_mailbox(
        self, folder: str = "INBOX", *, keep_messages: bool = True, user: str = "support"
    ) -> int:
        """Give `folder` a new UIDVALIDITY, as a rebuilt or restored mailbox gets; returns it.

        INBOX cannot be deleted over IMAP, so this removes Dovecot's UID list and
        indexes: Dovecot then renumbers the messages from UID 1 under a fresh
        UIDVALIDITY (taken from its per-user counter, so always a new value). Open
        sessions on the folder are told to log in again, as in real life.
        """
        before = self.uidvalidity(folder, user=user)
        path = self.maildir(folder, user)
        doomed = [path / "dovecot-uidlist", *path.glob("dovecot.index*")]
        if not keep_messages:
            doomed += [*(path / "cur").iterdir(), *(path / "new").iterdir()]
        for file in doomed:
            file.unlink(missing_ok=True)
        after = self.uidvalidity(folder, user=user)
        if after == before:
            raise DovecotError(f"UIDVALIDITY of {folder} did not change ({after})")
        return after

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        if not self.tls:
            raise DovecotError("this Dovecot runs without TLS (openssl missing?)")
        return ssl.create_default_context(cafile=str(self.cert_path))

    # -- config ---------------------------------------------------------------------------

    def _config(self, internal_user: str, internal_group: str, login_user: str) -> str:
        root = self.root
        rootless = os.geteuid() != 0
        no_chroot = "  chroot =\n" if rootless else ""
        if self.tls:
            ssl_lines = (
                f"ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem\n"
                f"ssl_min_protocol = TLSv1.2\n"
            )
            imaps = (
                f"  inet_listener imaps {{\n    address = {HOST}\n"
                f"    port = {self.tls_port}\n    ssl = yes\n  }}\n"
            )
        else:
            ssl_lines = "ssl = no\n"
            imaps = "  inet_listener imaps {\n    port = 0\n  }\n"
        return f"""# Generated by tests/support/dovecot.py for one test session.
base_dir = {root}/run
state_dir = {root}/state
instance_name = ticketbot-test-{self.port}
log_path = {root}/dovecot.log
protocols = imap
listen = {HOST}
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# Failed logins answer at once (tests try wrong passwords on purpose).
auth_failure_delay = 0 secs
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {self._mail_uid}
last_valid_uid = {self._mail_uid}
first_valid_gid = {self._mail_gid}
last_valid_gid = {self._mail_gid}
mail_location = maildir:~/Maildir
# Notice new mail within a second even where inotify is unavailable (IDLE tests).
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
{no_chroot}  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
{imaps}}}
service anvil {{
{no_chroot}  # No growing per-IP penalty after failed logins: every test comes from 127.0.0.1.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _process_users() -> tuple[int, int, str, str, str]:
    """(mail uid, mail gid, internal user, internal group, login user), root or rootless."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        return os.geteuid(), os.getegid(), me, group, me
    try:
        mail = pwd.getpwnam("mail")
    except KeyError:
        mail = pwd.getpwnam("nobody")
    for name in ("dovecot", "dovenull"):
        pwd.getpwnam(name)  # KeyError: the dovecot-core package did not create its users
    return mail.pw_uid, mail.pw_gid, "dovecot", "dovecot", "dovenull"


def make_certificate(cert: Path, key: Path) -> None:
    subprocess.run(
        [
            "openssl", "req", "-x509", "-nodes", "-days", "2",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", f"subjectAltName=IP:{HOST},DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _live_group_members(pgid: int) -> list[int]:
    """Processes still in group `pgid`, ignoring zombies (a container's PID 1 may not reap)."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel about the group as a whole
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if fields and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _ok(result: tuple[str, Sequence[object]]) -> None:
    typ, data = result
    if typ != "OK":
        raise DovecotError(f"IMAP command failed: {typ} {data!r}")


def _folder_name(line: bytes) -> str:
    found = _LIST_LINE.match(line)
    if found is None:
        raise DovecotError(f"unexpected LIST line {line!r}")
    name = found.group("name").decode()
    return name[1:-1].replace('\\"', '"').replace("\\\\", "\\") if name.startswith('"') else name


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
