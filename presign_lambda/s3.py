"""The S3 client and the two S3 operations the service uses (presign, and HEAD for one version)."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# A missing object answers 404 when the role may list the bucket, 403 when it may not.
_NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound", "403", "AccessDenied", "Forbidden"}


def build_s3_client(max_attempts: int = 3) -> Any:
    """One client per container. Region, credentials and ``AWS_ENDPOINT_URL_S3`` come from the
    environment, as boto3 reads them itself.

    On AWS the URLs use the regional virtual-host name (bucket.s3.<region>.amazonaws.com): the
    default global name answers a new bucket outside us-east-1 with a redirect, which a browser's
    CORS fetch does not follow. With a custom endpoint (a local S3 server) boto3's default
    addressing is kept, since bucket.localhost does not resolve everywhere.
    """
    custom_endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    config = Config(
        signature_version="s3v4",  # boto3 would presign SigV2 URLs in us-east-1
        s3={"addressing_style": "auto" if custom_endpoint else "virtual"},
        connect_timeout=2,
        read_timeout=5,
        retries={"mode": "standard", "max_attempts": max_attempts},
    )
    return boto3.client("s3", config=config)


def presign_get(client: Any, bucket: str, key: str, content_type: str, expires_seconds: int) -> str:
    """A GET URL for one object that makes S3 answer with ``content_type`` (local computation)."""
    return client.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "ResponseContentType": content_type},
        ExpiresIn=expires_seconds,
    )


def object_exists(client: Any, bucket: str, key: str) -> bool:
    """HEAD the object (a network call). Other S3 errors propagate and become a 500."""
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in _NOT_FOUND_CODES:
            return False
        raise
    return True
