"""The S3 client, presigning, and the one S3 call a request can make (reading the manifest).

Presigning is local computation (credentials come from the Lambda's environment), so the only
network work a request can do is one manifest read, and only when the cached copy is due for a
refresh. Its worst-case time is bounded by the client's timeouts and retries below, and stated in
``WORST_CASE_REQUEST_SECONDS``, which the deployment's Lambda timeout must exceed.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

# botocore's timeouts are per socket operation: connecting (TCP and TLS), then each wait for data.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 3
# Two attempts in all: the first try and one retry. botocore reads Config(retries={"max_attempts": n})
# as n retries (n + 1 attempts: 2 would mean 3 attempts, 31 s worst case, more than API Gateway's
# 29 s integration timeout), so the client is given "total_max_attempts", which counts the first try.
MAX_ATTEMPTS = 2
# Standard mode waits rand(0, 1) * min(scale * 2 ** (attempt - 1), 20) s before a retry, with a scale
# of 1 s for throttling errors (0.05 s otherwise), so at most 1 s before the second attempt; when S3
# sends x-amz-retry-after, botocore waits up to 5 s more than that.
WORST_RETRY_DELAY_SECONDS = 1 + 5
# The manifest's body is read after get_object returns, outside botocore's retries: a stall there
# ends after one read timeout (at most 256 KiB are read; S3 streams that in milliseconds).
WORST_BODY_READ_SECONDS = READ_TIMEOUT_SECONDS

# Worst case of the S3 work of one request, the manifest read: every attempt connects as slowly as
# allowed and then waits as long as allowed for the response, the longest retry delay in between,
# then the body stalls once: 2 * (2 + 3) + 6 + 3 = 19 s. DNS resolution is not covered by
# botocore's timeouts (Lambda's resolver answers in milliseconds). The Lambda timeout is set above
# this (deployment/template.yaml, tested there against this constant).
WORST_CASE_REQUEST_SECONDS = (
    MAX_ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS)
    + (MAX_ATTEMPTS - 1) * WORST_RETRY_DELAY_SECONDS
    + WORST_BODY_READ_SECONDS
)


def build_s3_client(attempts: int = MAX_ATTEMPTS) -> Any:
    """One client per container. Region, credentials and ``AWS_ENDPOINT_URL_S3`` come from the
    environment, as boto3 reads them itself. (``attempts``, first try included, is lowered only by
    tests that stop the S3 server, so botocore's back-off does not slow them down.)

    On AWS the URLs use the regional virtual-host name (bucket.s3.<region>.amazonaws.com): the
    default global name answers a new bucket outside us-east-1 with a redirect, which a browser's
    CORS fetch does not follow. With a custom endpoint (a local S3 server) boto3's default
    addressing is kept, since bucket.localhost does not resolve everywhere.
    """
    custom_endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    config = Config(
        signature_version="s3v4",  # boto3 would presign SigV2 URLs in us-east-1
        s3={"addressing_style": "auto" if custom_endpoint else "virtual"},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": attempts, "mode": "standard"},
    )
    return boto3.client("s3", config=config)


def presign_get(client: Any, bucket: str, key: str, content_type: str, expires_seconds: int) -> str:
    """A GET URL for one object that makes S3 answer with ``content_type`` (local computation)."""
    return client.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "ResponseContentType": content_type},
        ExpiresIn=expires_seconds,
    )


class ObjectTooLarge(ValueError):
    """The object is larger than the caller accepts; its bytes were not read."""

    def __init__(self, key: str, size: int | None, limit: int) -> None:
        told = f"{size} bytes" if size is not None else "more than that"
        super().__init__(f"{key} is {told}, over the {limit}-byte limit")


def read_object(client: Any, bucket: str, key: str, max_bytes: int) -> bytes:
    """The object's bytes, refusing (ObjectTooLarge) anything over ``max_bytes`` without reading it
    all: the announced length is checked first, then at most ``max_bytes + 1`` bytes are read.
    S3 and network errors propagate (ClientError, BotoCoreError)."""
    response = client.get_object(Bucket=bucket, Key=key)
    with response["Body"] as body:
        announced = response.get("ContentLength")
        if isinstance(announced, int) and announced > max_bytes:
            raise ObjectTooLarge(key, announced, max_bytes)
        data = body.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ObjectTooLarge(key, None, max_bytes)
    return data
