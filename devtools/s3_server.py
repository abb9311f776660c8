"""A real S3-compatible server for tests: moto's server over HTTP on a free localhost port.

Every test talks to it through boto3 with ``AWS_ENDPOINT_URL_S3`` pointing at it, exactly as the
platform talks to AWS, so nothing in the code under test knows it is not AWS.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import moto.moto_server.werkzeug_app as moto_app
from moto.server import ThreadedMotoServer

from devtools.processes import stop

# Dummy credentials: moto accepts any; they only need to exist so botocore can sign requests.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "ca-central-1",
    "AWS_REGION": "ca-central-1",
}


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="ca-central-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def env(self) -> dict[str, str]:
        """Environment that points boto3 (in this process or a child) at this server."""
        return {**FAKE_AWS_ENV, "AWS_ENDPOINT_URL_S3": self.endpoint_url}

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})

    def reset(self) -> None:
        """Forget every bucket and object (moto's own reset endpoint)."""
        import requests

        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()


@contextlib.contextmanager
def running_s3_server() -> Iterator[S3Server]:
    """moto's S3 server in a process of its own, on a free localhost port.

    Its own process, because moto keeps its buckets per process: two servers in one process
    would share them, and one test's reset would empty the other's buckets."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.s3_server"],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the port, once the server listens; "" if it died
        if not line.strip().isdigit():
            raise RuntimeError(f"moto's S3 server did not start (exit code {proc.wait(timeout=30)})")
        yield S3Server(endpoint_url=f"http://127.0.0.1:{int(line)}")
    finally:
        stop(proc)
        if proc.stdout:
            proc.stdout.close()


def serve() -> None:
    """Run one server and print its port (what ``running_s3_server`` starts)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    # CORS as on AWS: only the bucket's CORS configuration grants access. moto otherwise wraps
    # every service in flask-cors, which answers any Origin with Access-Control-Allow-Origin.
    moto_app.DISABLE_GLOBAL_CORS = True
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Event().wait()


@contextlib.contextmanager
def patched_env(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for the duration of the block."""
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


if __name__ == "__main__":
    serve()
