"""Start the dashboard's whole stack on this machine, the way production is wired.

    moto's S3 server (HTTP)  <- bucket with processed/ and viz/ files and a CORS configuration
    presign server           <- python -m presign_lambda.local, subprocess, pointed at that S3
    page server              <- dashboard/preview.html with dashboard/webflow_embed.html pasted in

The browser asks the presign server for URLs and fetches every file straight from S3, as on the
live page. Shared by ``python -m dashboard.preview``, tests/page and bench/bench_page.py.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import secrets
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from botocore.exceptions import ClientError

from cdr_dagster.domain.layout import MANIFEST_KEY, PUBLISHED_PREFIX, stored_object
from dashboard.page_server import PageServer
from dashboard.viz_files import viz_files
from devtools.processes import stop
from devtools.s3_server import S3Server, running_s3_server

REPO = Path(__file__).resolve().parent.parent
BUCKET_PREFIX = "cdr-dashboard-local"
PRESIGN_READY = "presign server listening on "
PRESIGN_START_TIMEOUT_S = 30

CONTENT_TYPES = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".js": "application/javascript",
    ".css": "text/css",
}


def processed_files(data_dir: Path) -> dict[str, Path]:
    """The pipeline's published files under ``<data_dir>/processed`` (CSVs and manifest.json)."""
    folder = Path(data_dir) / PUBLISHED_PREFIX
    return {
        f"{PUBLISHED_PREFIX}/{p.name}": p
        for p in sorted(folder.glob("*"))
        if p.is_file() and p.suffix in (".csv", ".json") and not p.name.startswith(".")
    }


def upload(client, bucket: str, files: dict[str, Path], *, compress: bool = True) -> None:
    """Put each file as the pipeline and the deploy store it (gzipped where the layout says,
    with its Cache-Control); ``compress=False`` stores every file plain, as before compression
    (the bench's baseline)."""
    for key, path in files.items():
        data, content_type = path.read_bytes(), CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        plain = {"Key": key, "Body": data, "ContentType": content_type}
        client.put_object(Bucket=bucket, **(stored_object(key, data, content_type) if compress else plain))


def serves_sample_data(client, bucket: str) -> bool:
    """Whether the manifest the page reads lists a dataset built from sample data
    (``"source": "sample"``): the preview then says so. A missing or unreadable manifest: no."""
    try:
        body = client.get_object(Bucket=bucket, Key=MANIFEST_KEY)["Body"].read()
        datasets = json.loads(body).get("datasets", {})
        return any(isinstance(d, dict) and d.get("source") == "sample" for d in datasets.values())
    except (ClientError, ValueError, AttributeError):
        return False


def allow_origins_on_bucket(client, bucket: str, origins: Sequence[str]) -> None:
    """The bucket CORS configuration production needs too: the page's origins may GET/HEAD."""
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": list(origins),
                    "AllowedMethods": ["GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )


@contextlib.contextmanager
def presign_server(
    s3: S3Server,
    bucket: str,
    origins: Sequence[str],
    *,
    host: str = "127.0.0.1",
    manifest_cache_seconds: float = 0,
    log: IO[str] | None = None,
) -> Iterator[str]:
    """Run ``python -m presign_lambda.local`` on a free port; yield its base URL.

    Its request log (stderr) goes to ``log``, or to a temporary file quoted if it fails to start.
    """
    env = {
        **os.environ,
        **s3.env(),
        "CDR_DASHBOARD_BUCKET": bucket,
        "PRESIGN_ALLOWED_ORIGINS": ",".join(origins),
        "PRESIGN_MANIFEST_CACHE_SECONDS": str(manifest_cache_seconds),
        "PYTHONUNBUFFERED": "1",
    }
    with contextlib.ExitStack() as stack:
        if log is None:
            log = stack.enter_context(tempfile.TemporaryFile("w+"))
        proc = subprocess.Popen(
            [sys.executable, "-m", "presign_lambda.local", "--port", "0", "--host", host],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            yield _wait_until_listening(proc, log)
        finally:
            stop(proc)
            if proc.stdout:
                proc.stdout.close()


def _wait_until_listening(proc: subprocess.Popen, log: IO[str]) -> str:
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=PRESIGN_START_TIMEOUT_S)
    except queue.Empty:
        line = ""
    if not line.startswith(PRESIGN_READY):
        proc.kill()
        proc.wait()
        details = ""
        if log.seekable():
            log.seek(0)
            details = log.read()
        raise RuntimeError(f"presign server did not start (got {line!r}):\n{details}")
    return line[len(PRESIGN_READY) :].strip()


@dataclass
class Stack:
    s3: S3Server
    bucket: str
    api_base: str
    page: PageServer

    def client(self):
        return self.s3.client()

    def origin(self, host: str) -> str:
        return f"http://{host}:{self.page.port}"


@contextlib.contextmanager
def running_stack(
    data_dir: Path,
    *,
    page_hosts: Sequence[str] = ("localhost", "127.0.0.1"),
    page_port: int = 0,
    bucket: str | None = None,
    presign_log: IO[str] | None = None,
    sync_on_page_load: bool = False,
    manifest_cache_seconds: float = 0,
    compress: bool = True,
) -> Iterator[Stack]:
    """Everything up, data and page code published; torn down on exit.

    ``page_hosts``: the host names the page is opened under (``http://<host>:<port>`` become the
    allowed origins of both the presign API and the bucket's CORS). ``sync_on_page_load``:
    re-upload changed files each time the page is requested (preview: edit, reload, see).
    ``manifest_cache_seconds``: 0 (default) lets a changed manifest show at once; the Lambda's
    default is 60. ``compress=False``: every file stored plain (the bench's "before").
    """
    # a bucket of our own, removed on exit
    bucket = bucket or f"{BUCKET_PREFIX}-{secrets.token_hex(4)}"
    with running_s3_server() as s3, _bucket(s3, bucket):
        client = s3.client()
        publisher = Publisher(client, bucket, Path(data_dir), compress=compress)
        publisher.sync()
        on_page = publisher.sync if sync_on_page_load else None
        is_sample = functools.partial(serves_sample_data, client, bucket)
        with PageServer(port=page_port, on_page=on_page, is_sample=is_sample) as page:
            origins = [f"http://{host}:{page.port}" for host in page_hosts]
            allow_origins_on_bucket(client, bucket, origins)
            with presign_server(s3, bucket, origins, log=presign_log, manifest_cache_seconds=manifest_cache_seconds) as api_base:
                page.api_base = api_base
                yield Stack(s3=s3, bucket=bucket, api_base=api_base, page=page)


@contextlib.contextmanager
def _bucket(s3: S3Server, bucket: str) -> Iterator[None]:
    s3.create_bucket(bucket)
    try:
        yield
    finally:
        client = s3.client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])
        client.delete_bucket(Bucket=bucket)


class Publisher:
    """Uploads processed/ and viz/ files, each time only those changed since the last upload."""

    def __init__(self, client, bucket: str, data_dir: Path, *, compress: bool = True) -> None:
        self.client, self.bucket, self.data_dir, self.compress = client, bucket, data_dir, compress
        self._seen: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def files(self) -> dict[str, Path]:
        return {**processed_files(self.data_dir), **viz_files()}

    def sync(self) -> list[str]:
        with self._lock:
            changed = {}
            for key, path in self.files().items():
                stat = path.stat()
                if self._seen.get(key) != (stat.st_mtime, stat.st_size):
                    changed[key] = path
                    self._seen[key] = (stat.st_mtime, stat.st_size)
            upload(self.client, self.bucket, changed, compress=self.compress)
            return sorted(changed)
