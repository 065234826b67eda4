"""A throwaway PostgreSQL cluster for tests and benches, from Debian's server binaries (no Docker, no service).

`make test` installs the binaries (ops/ensure_test_deps.sh). The cluster lives in a temp dir, listens
on a free loopback port with trust auth (reachable from this machine only), and is deleted when
stopped. Its locale is C.UTF-8, as in docker-compose.yml: text sorts by code point, as on SQLite.
PostgreSQL refuses to run as root, so as root the server runs as the `postgres` OS user.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

BIN_GLOB = "/usr/lib/postgresql/*/bin"
HOW_TO_INSTALL = "run `make test` (ops/ensure_test_deps.sh installs Debian's postgresql package)"


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the cluster would not start; the message says what to do."""


def find_bin_dir() -> Path:
    """The newest installed major version that has both initdb and pg_ctl."""
    candidates = [Path(d) for d in glob.glob(BIN_GLOB) if all((Path(d) / tool).exists() for tool in ("initdb", "pg_ctl"))]
    if not candidates:
        raise PostgresUnavailable(f"PostgreSQL server binaries not found under {BIN_GLOB}: {HOW_TO_INSTALL}")

    def major(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name)) or (0,)

    return max(candidates, key=major)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresCluster:
    bin_dir: Path
    base: Path
    port: int = 0
    superuser: str = "postgres"
    _run_as: list[str] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def log_file(self) -> Path:
        return self.base / "server.log"

    @property
    def socket_dir(self) -> Path:
        return self.base

    @classmethod
    def create(cls, *, host_auth: str = "trust") -> PostgresCluster:
        """initdb a fresh cluster in a new temp dir (owned by the `postgres` user when we are root).

        host_auth applies to TCP (loopback) logins; "scram-sha-256" makes passwords count. The
        superuser always comes in through the cluster's own unix socket, trusted."""
        bin_dir = find_bin_dir()
        base = Path(tempfile.mkdtemp(prefix="readmodel-pg-"))
        run_as: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(base, ignore_errors=True)
                raise PostgresUnavailable(f"running as root, and no `postgres` OS user: {HOW_TO_INSTALL}") from None
            os.chown(base, owner.pw_uid, owner.pw_gid)
            run_as = ["runuser", "-u", "postgres", "--"]
        cluster = cls(bin_dir=bin_dir, base=base, _run_as=run_as)
        try:
            cluster._run(
                "initdb", "-D", str(cluster.data_dir), "-U", cluster.superuser, "--auth-local=trust",
                f"--auth-host={host_auth}",
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
        except BaseException:
            cluster.delete()
            raise
        return cluster

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [*self._run_as, str(self.bin_dir / tool), *args]
        # cwd: the server user may not be allowed into ours (e.g. /root).
        result = subprocess.run(cmd, cwd=self.base, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise PostgresUnavailable(
                f"{tool} failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}{result.stderr}{log}"
            )
        return result

    def start(self, *, same_port: bool = False) -> None:
        """Start on a free loopback port; retried on the rare port grabbed in between. same_port:
        start again where it listened before (a stopped server coming back, for its clients)."""
        last: PostgresUnavailable | None = None
        for _ in range(1 if same_port else 3):
            self.port = self.port if same_port else free_port()
            options = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-c port={self.port}",
                    f"-c unix_socket_directories={self.socket_dir}",
                    # Throwaway data: durability off for speed.
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                ]
            )
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "30", "-o", options, "start"
                )
                return
            except PostgresUnavailable as exc:
                last = exc
        assert last is not None
        raise last

    def stop(self) -> None:
        if not (self.data_dir / "postmaster.pid").exists():
            return
        try:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30", "stop")
        except PostgresUnavailable:
            # A session still connected must not leave a server behind on a deleted directory.
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "-t", "30", "stop")

    def delete(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str, *, user: str | None = None) -> str:
        """A SQLAlchemy/ReadModel URL (the form DATABASE_URL takes)."""
        return f"postgresql://{user or self.superuser}@127.0.0.1:{self.port}/{database}"

    def libpq_env(self) -> dict[str, str]:
        """PGHOST/PGPORT/PGUSER for psql and friends: the superuser over the unix socket."""
        return {"PGHOST": str(self.socket_dir), "PGPORT": str(self.port), "PGUSER": self.superuser}

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """A superuser connection (autocommit) over the unix socket."""
        return psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=self.superuser, dbname=database, autocommit=True
        )

    def create_database(self, name: str) -> str:
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def running_cluster(*, host_auth: str = "trust") -> Iterator[PostgresCluster]:
    """A started cluster, stopped and deleted on exit."""
    cluster = PostgresCluster.create(host_auth=host_auth)
    try:
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            cluster.delete()
