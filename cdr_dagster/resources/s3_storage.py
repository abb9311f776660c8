"""The deployment's S3 bucket as storage (test and prod).

Kept apart from storage.py so that the local deployment never imports dagster-aws and boto3:
loading the code location on a laptop stays fast.
"""

from __future__ import annotations

import gzip
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field, PrivateAttr

from cdr_dagster.config import BUCKET_MISSING
from cdr_dagster.domain.layout import stored_object
from cdr_dagster.resources.storage import Storage


class S3Storage(Storage):
    """Keys as objects in the deployment's bucket (``CDR_DASHBOARD_BUCKET``).

    The S3 client comes from dagster-aws's ``S3Resource``; a local S3-compatible server works
    through the standard ``AWS_ENDPOINT_URL_S3`` variable. S3 PUTs are atomic per object.

    What the page downloads is stored gzip-compressed, with its ``Cache-Control``
    (``layout.stored_object``); reads undo the compression, so callers see the plain bytes.
    """

    s3: S3Resource
    bucket: str = Field(description="The deployment's bucket, CDR_DASHBOARD_BUCKET.")
    _client_cache: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if not self.bucket:
            raise dg.Failure(BUCKET_MISSING, allow_retries=False)

    def _client(self) -> Any:
        # one client per resource: building a boto3 client reloads botocore's models (slow)
        if self._client_cache is None:
            self._client_cache = self.s3.get_client()
        return self._client_cache

    def read_bytes(self, key: str) -> bytes:
        try:
            response = self._client().get_object(Bucket=self.bucket, Key=key)
        except self._client().exceptions.NoSuchKey:
            raise FileNotFoundError(self.location(key)) from None
        data = response["Body"].read()
        # by the object's own header: files published before compression are plain
        return gzip.decompress(data) if response.get("ContentEncoding") == "gzip" else data

    def write_bytes(self, key: str, data: bytes, content_type: str = "text/csv") -> None:
        self._client().put_object(Bucket=self.bucket, **stored_object(key, data, content_type))

    def create_if_absent(self, key: str, data: bytes, content_type: str = "text/csv") -> bool:
        return self.replace_if(key, data, None, content_type)

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        client = self._client()
        try:
            response = client.get_object(Bucket=self.bucket, Key=key)
        except client.exceptions.NoSuchKey:
            return None
        data = response["Body"].read()
        return (gzip.decompress(data) if response.get("ContentEncoding") == "gzip" else data), response["ETag"]

    def replace_if(self, key: str, data: bytes, version: str | None, content_type: str = "text/csv") -> bool:
        client = self._client()
        condition = {"IfNoneMatch": "*"} if version is None else {"IfMatch": version}
        try:
            client.put_object(Bucket=self.bucket, **condition, **stored_object(key, data, content_type))
            return True
        except client.exceptions.ClientError as error:
            # S3's conditional write: 412 when the condition fails, 409 while a racing write is in
            # flight, 404 when an IfMatch key has been deleted meanwhile
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"):
                return False
            raise

    def delete(self, key: str) -> None:
        self._client().delete_object(Bucket=self.bucket, Key=key)

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

    def last_modified(self, key: str) -> float:
        return self._client().head_object(Bucket=self.bucket, Key=key)["LastModified"].timestamp()

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"
