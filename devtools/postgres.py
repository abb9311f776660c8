"""A real PostgreSQL server for tests and `dev.py rehearse`: initdb into a temporary folder, pg_ctl start on a free port.

The server listens on 127.0.0.1 with TLS only (a self-signed certificate made here for the run;
pg_hba.conf rejects any connection without encryption, so a client that does not ask for SSL fails,
as the deployments' ``sslmode=require`` must never need) and password authentication
(scram-sha-256, as a managed database would ask), and on a unix socket in the same temporary
folder (trusted, used only to create the database). PostgreSQL refuses to run as root, so as root its binaries run as the ``postgres``
user through ``runuser`` and the folder belongs to that user. The binaries come from Debian's
``postgresql`` package (``python3 dev.py test`` installs it); without them the test fails, saying so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DEBIAN_ROOT = Path("/usr/lib/postgresql")
SERVER_BINARIES = ("initdb", "pg_ctl", "pg_isready", "createdb")
START_TIMEOUT_S = 60


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or cannot be run here (the message says what to do)."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str

    def env(self) -> dict[str, str]:
        """The variables deployment/dagster/<deployment>/dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.database,
        }

    def connect(self, sslmode: str = "require"):
        """A psycopg2 connection over TCP with the password (autocommit)."""
        import psycopg2

        connection = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=self.database, sslmode=sslmode
        )
        connection.autocommit = True
        return connection


def server_bindir() -> Path:
    """The folder holding initdb and pg_ctl: Debian's newest version, else the PATH."""
    versions = sorted(
        (p for p in DEBIAN_ROOT.glob("*/bin") if (p / "initdb").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent  # through a symlink (/usr/local/bin) to the real folder
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin "
        "nor on PATH: install Debian's postgresql package (python3 dev.py test does it: "
        "apt-get install postgresql)"
    )


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that runs PostgreSQL's binaries as a user it accepts."""
    if os.geteuid() != 0:
        return [], None
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable("running as root and there is no postgres user to run the server as") from None
    if not shutil.which("runuser"):
        raise PostgresUnavailable("running as root and runuser (util-linux) is missing")
    return ["runuser", "-u", "postgres", "--"], account


def write_self_signed_certificate(cert: Path, key: Path, host: str = "127.0.0.1") -> None:
    """A throwaway certificate for the server's TLS (valid one day, for ``host``), key mode 0600."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cdr-dagster-test-postgres")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .sign(private_key, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    key.chmod(0o600)


# TLS for every TCP connection; the unix socket (createdb) stays trusted.
PG_HBA = """\
local      all  all                trust
hostssl    all  all  127.0.0.1/32  scram-sha-256
hostnossl  all  all  0.0.0.0/0     reject
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: Sequence[str], what: str) -> None:
    result = subprocess.run(list(command), capture_output=True, text=True, timeout=START_TIMEOUT_S)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}): {result.stdout}{result.stderr}")


@contextlib.contextmanager
def running_postgres(database: str = "dagster_test", user: str = "dagster") -> Iterator[PostgresServer]:
    """Start a throwaway server, yield how to reach it, stop it and delete its files."""
    bindir = server_bindir()
    missing = [name for name in SERVER_BINARIES if not (bindir / name).is_file()]
    if missing:
        raise PostgresUnavailable(f"{bindir} lacks {', '.join(missing)}: reinstall Debian's postgresql package")
    prefix, account = _run_as()
    root = Path(tempfile.mkdtemp(prefix="cdr-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    password = secrets.token_urlsafe(16)
    port = _free_port()
    try:
        sockets.mkdir()
        (root / "password").write_text(password + "\n")
        if account is not None:
            for path in (root, sockets, root / "password"):
                os.chown(path, account.pw_uid, account.pw_gid)
        _run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                user,
                f"--pwfile={root / 'password'}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            "initdb",
        )
        cert, key = root / "server.crt", root / "server.key"
        write_self_signed_certificate(cert, key)
        hba = data / "pg_hba.conf"
        hba.write_text(PG_HBA)
        if account is not None:
            for path in (cert, key, hba):
                os.chown(path, account.pw_uid, account.pw_gid)
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c full_page_writes=off "
            f"-c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"
        )
        # -w: pg_ctl polls the server until it accepts connections (or the timeout passes)
        start = subprocess.run(
            [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "-o",
                options,
                "start",
            ],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S + 10,
        )
        if start.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {start.stdout}{start.stderr}\n{server_log}")
        try:
            _run([*prefix, str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], "pg_isready")
            _run([*prefix, str(bindir / "createdb"), "-h", str(sockets), "-p", str(port), "-U", user, database], "createdb")
            yield PostgresServer(host="127.0.0.1", port=port, user=user, password=password, database=database)
        finally:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=START_TIMEOUT_S,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
