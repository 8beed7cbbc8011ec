"""Disposable PostgreSQL clusters for the test suite.

A cluster lives in its own temp dir, listens only on 127.0.0.1 on a free
port, and is thrown away on exit. Durability settings are switched off
because nothing here needs to survive a machine crash, only a server
restart (which still works: the OS keeps the unsynced pages).

Only the standard library is imported at module level so that the
watchdog (this file run as a script) starts quickly and without the venv.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["ThrowawayCluster", "find_pg_bin"]

PG_OS_USER = "postgres"
DEFAULT_DB = "rekam_test"

# Left in every temp dir we create; the watchdog refuses to delete a
# directory without it, so a bad argument can never rm -rf something else.
_MARKER = ".rekam-throwaway-cluster"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _has_server_tools(directory: Path) -> bool:
    return all(os.access(directory / tool, os.X_OK) for tool in ("initdb", "pg_ctl"))


def find_pg_bin() -> Path | None:
    """Directory holding ``initdb`` and ``pg_ctl``, or None.

    PATH wins so a developer can point at a specific build; otherwise the
    newest Debian-style ``/usr/lib/postgresql/<major>/bin``.
    """
    initdb = shutil.which("initdb")
    if initdb:
        # Debian exposes the server tools as symlinks; the real directory
        # also has ``postgres`` and ``psql``, which callers may want.
        for candidate in (Path(initdb).resolve().parent, Path(initdb).parent):
            if _has_server_tools(candidate):
                return candidate

    def major(path: Path) -> tuple[int, str]:
        name = path.parent.name
        return (int(name), name) if name.isdigit() else (-1, name)

    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major, reverse=True):
        if _has_server_tools(candidate):
            return candidate
    return None


def _free_port() -> int:
    # Racy by nature (someone may take the port before postgres binds it);
    # start-up retries on "address in use" to cover that.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _as_pg_user(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root, so under root every server-side
    # command is delegated to the postgres OS user.
    if not _running_as_root():
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root but `runuser` is not available to drop to the postgres user")
    return [runuser, "-u", PG_OS_USER, "--", *argv]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no server log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


_live: set[ThrowawayCluster] = set()
_live_lock = threading.Lock()


@atexit.register
def _close_leftovers() -> None:
    # A session fixture that never reached its finaliser (Ctrl-C, an error
    # in teardown) must not leave a postmaster running after pytest exits.
    with _live_lock:
        leftovers = list(_live)
    for cluster in leftovers:
        cluster.close()


class ThrowawayCluster:
    """A private PostgreSQL cluster for the duration of a ``with`` block.

    >>> with ThrowawayCluster() as pg:
    ...     engine = create_async_engine(pg.url)
    """

    def __init__(self, bin_dir: Path | str | None = None, *, dbname: str = DEFAULT_DB) -> None:
        found = Path(bin_dir) if bin_dir is not None else find_pg_bin()
        if found is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        if not _IDENTIFIER.match(dbname):
            raise ValueError(f"unsafe database name: {dbname!r}")
        self.bin_dir: Path = found
        self.dbname = dbname
        self.port: int = 0
        self.tmpdir: Path | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._running = False

    # -- paths and urls -------------------------------------------------

    @property
    def datadir(self) -> Path:
        assert self.tmpdir is not None, "cluster not entered"
        return self.tmpdir / "data"

    @property
    def logfile(self) -> Path:
        assert self.tmpdir is not None, "cluster not entered"
        return self.tmpdir / "server.log"

    def url_for(self, dbname: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) for a database in this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def libpq_url_for(self, dbname: str) -> str:
        """Plain libpq URL, for ``psycopg.connect`` or ``psql``."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    @property
    def url(self) -> str:
        return self.url_for(self.dbname)

    @property
    def libpq_url(self) -> str:
        return self.libpq_url_for(self.dbname)

    @property
    def running(self) -> bool:
        return self._running

    # -- lifecycle ------------------------------------------------------

    def __enter__(self) -> ThrowawayCluster:
        try:
            self._make_tmpdir()
            self._start_watchdog()
            self._initdb()
            self._start_on_free_port()
            self.create_database(self.dbname)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server without a checkpoint and delete everything."""
        with _live_lock:
            _live.discard(self)
        if self.tmpdir is not None and (self.datadir / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate", check=False)
        self._running = False
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        self._stop_watchdog()

    def stop(self, mode: str = "fast") -> None:
        """Shut the server down but keep the data, e.g. to fault the app."""
        self._pg_ctl("stop", "-m", mode)
        self._running = False

    def start(self) -> None:
        """Start again on the same port, so URLs handed out stay valid."""
        self._start_server()

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def create_database(self, name: str) -> str:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"unsafe database name: {name!r}")
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.libpq_url_for("postgres"), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    # -- internals ------------------------------------------------------

    def _make_tmpdir(self) -> None:
        self.tmpdir = Path(tempfile.mkdtemp(prefix="rekam-pg-"))
        (self.tmpdir / _MARKER).touch()
        with _live_lock:
            _live.add(self)
        if _running_as_root():
            shutil.chown(self.tmpdir, user=PG_OS_USER, group=None)
            # A TMPDIR under e.g. /root is not traversable by postgres; say so
            # plainly instead of letting initdb fail with a permission error.
            probe = subprocess.run(_as_pg_user(["test", "-w", str(self.tmpdir)]), capture_output=True)
            if probe.returncode != 0:
                raise RuntimeError(f"{self.tmpdir} is not writable by the {PG_OS_USER} user; set TMPDIR to a directory it can reach (e.g. /tmp)")

    def _start_watchdog(self) -> None:
        # atexit does not run on SIGKILL or an unhandled SIGTERM. The
        # watchdog holds the read end of a pipe; whenever this process goes
        # away, however it dies, the pipe closes and the watchdog cleans up.
        assert self.tmpdir is not None
        self._watchdog = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--watchdog", str(self.bin_dir), str(self.tmpdir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            # Own session: a Ctrl-C aimed at pytest must not kill it first.
            start_new_session=True,
        )

    def _stop_watchdog(self) -> None:
        dog, self._watchdog = self._watchdog, None
        if dog is None:
            return
        try:
            if dog.stdin is not None:
                dog.stdin.close()
            dog.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            dog.kill()
            dog.wait()

    def _run(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            _as_pg_user(argv),
            capture_output=True,
            text=True,
            # The caller's cwd may be unreadable by postgres (e.g. /root).
            cwd=self.tmpdir,
            env=_clean_env(),
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{Path(argv[0]).name} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}\n--- server log tail ---\n{_tail(self.logfile)}"
            )
        return proc

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.datadir), "-w", "-t", "60", *args], check=check)

    def _initdb(self) -> None:
        base = [str(self.bin_dir / "initdb"), "-D", str(self.datadir), "-A", "trust", "-E", "UTF8", "--username=postgres"]
        proc = self._run([*base, "--locale=C.UTF-8"], check=False)
        if proc.returncode != 0:
            # Minimal images sometimes lack C.UTF-8; byte-order collation is
            # what we want anyway, so fall back rather than fail.
            shutil.rmtree(self.datadir, ignore_errors=True)
            self._run([*base, "--no-locale"])

    def _start_on_free_port(self, attempts: int = 5) -> None:
        for attempt in range(attempts):
            self.port = _free_port()
            try:
                self._start_server()
                return
            except RuntimeError as exc:
                if "already in use" not in str(exc) or attempt == attempts - 1:
                    raise

    def _start_server(self) -> None:
        assert self.tmpdir is not None
        options = " ".join(
            [
                f"-k {self.tmpdir}",
                "-c listen_addresses=127.0.0.1",
                f"-p {self.port}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        self._pg_ctl("start", "-l", str(self.logfile), "-o", options)
        self._running = True

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return f"<ThrowawayCluster {state} port={self.port} dir={self.tmpdir}>"


def _clean_env() -> dict[str, str]:
    # Stray PG* variables from the developer's shell (PGDATA, PGPORT, ...)
    # would otherwise silently retarget pg_ctl.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _watchdog_main(bin_dir: str, tmpdir: str) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    sys.stdin.buffer.read()  # returns at EOF, i.e. when the owner is gone
    root = Path(tmpdir)
    if not (root / _MARKER).exists():
        return 0
    data = root / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            _as_pg_user([str(Path(bin_dir) / "pg_ctl"), "-D", str(data), "-w", "-t", "30", "stop", "-m", "immediate"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            env=_clean_env(),
        )
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--watchdog":
    sys.exit(_watchdog_main(sys.argv[2], sys.argv[3]))
