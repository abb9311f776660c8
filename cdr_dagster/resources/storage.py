"""Where the platform's files live: a local folder on a laptop, an S3 bucket in test and prod.

Both expose the same small set of byte-level operations on keys such as
``raw/cdr_fyi_orders_20261127.csv``, so the IO manager, the publication step and the tests do not
care which one they talk to. Writes are atomic: a reader sees the old object or the new one,
never half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field, PrivateAttr

DATED_KEY = re.compile(r"^(?P<stem>.+)_(?P<date>\d{8})\.csv$")


class Storage(dg.ConfigurableResource):
    """Byte-level access to the platform's keys. Subclasses: a folder or a bucket."""

    def read_bytes(self, key: str) -> bytes:
        raise NotImplementedError

    def write_bytes(self, key: str, data: bytes, content_type: str = "text/csv") -> None:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def list_keys(self, prefix: str) -> list[str]:
        raise NotImplementedError

    def last_modified(self, key: str) -> float:
        """When the key was last written, as a Unix timestamp."""
        raise NotImplementedError

    def location(self, key: str) -> str:
        """Where a person finds the key (a path or an s3:// URI), for messages and metadata."""
        raise NotImplementedError

    def copy(self, source: str, destination: str, content_type: str = "text/csv") -> None:
        self.write_bytes(destination, self.read_bytes(source), content_type)

    def newest_dated_key(self, prefix: str, stem: str) -> str | None:
        """The newest ``<prefix>/<stem>_YYYYMMDD.csv``, or None when there is none."""
        dated = []
        for key in self.list_keys(f"{prefix}/{stem}_"):
            match = DATED_KEY.match(key.rsplit("/", 1)[-1])
            if match and match["stem"] == stem:
                dated.append((match["date"], key))
        return max(dated)[1] if dated else None


class LocalStorage(Storage):
    """Keys as files under a folder (``CDR_DATA_DIR``, default ``./data``)."""

    base_dir: str = Field(default="data", description="Root folder, CDR_DATA_DIR.")

    def _path(self, key: str) -> Path:
        return Path(self.base_dir) / key

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def write_bytes(self, key: str, data: bytes, content_type: str = "text/csv") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # write beside the target, then rename: a crash mid-write leaves only a temp file
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_keys(self, prefix: str) -> list[str]:
        folder, _, name_prefix = prefix.rpartition("/")
        directory = Path(self.base_dir) / folder
        if not directory.is_dir():
            return []
        return sorted(
            f"{folder}/{p.name}" if folder else p.name
            for p in directory.iterdir()
            if p.is_file() and p.name.startswith(name_prefix) and not p.name.startswith(".")
        )

    def last_modified(self, key: str) -> float:
        return self._path(key).stat().st_mtime

    def location(self, key: str) -> str:
        return str(self._path(key).resolve())


class S3Storage(Storage):
    """Keys as objects in the deployment's bucket (``CDR_DASHBOARD_BUCKET``).

    The S3 client comes from dagster-aws's ``S3Resource``; a local S3-compatible server works
    through the standard ``AWS_ENDPOINT_URL_S3`` variable. S3 PUTs are atomic per object.
    """

    s3: S3Resource
    bucket: str = Field(description="The deployment's bucket, CDR_DASHBOARD_BUCKET.")
    _client_cache: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if not self.bucket:
            raise dg.Failure("CDR_DASHBOARD_BUCKET is not set: name this deployment's S3 bucket.")

    def _client(self) -> Any:
        # one client per resource: building a boto3 client reloads botocore's models (slow)
        if self._client_cache is None:
            self._client_cache = self.s3.get_client()
        return self._client_cache

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._client().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self._client().exceptions.NoSuchKey:
            raise FileNotFoundError(self.location(key)) from None

    def write_bytes(self, key: str, data: bytes, content_type: str = "text/csv") -> None:
        self._client().put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def exists(self, key: str) -> bool:
        client = self._client()
        try:
            client.head_object(Bucket=self.bucket, Key=key)
            return True
        except client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = self._client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)

    def copy(self, source: str, destination: str, content_type: str = "text/csv") -> None:
        self._client().copy_object(
            Bucket=self.bucket,
            Key=destination,
            CopySource={"Bucket": self.bucket, "Key": source},
            ContentType=content_type,
            MetadataDirective="REPLACE",
        )

    def last_modified(self, key: str) -> float:
        return self._client().head_object(Bucket=self.bucket, Key=key)["LastModified"].timestamp()

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"
