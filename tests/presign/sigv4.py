"""S3's check of a SigV4 presigned GET URL, for the expiry tests.

moto's S3 server (5.2) serves presigned URLs without checking their signature or expiry, so the
tests apply S3's rules here: the signature is recomputed with botocore's own signer from the URL's
X-Amz-Date, and the URL is refused once ``now`` is past X-Amz-Date + X-Amz-Expires.
"""

from __future__ import annotations

import datetime as dt
import hmac
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def signed_at(url: str) -> dt.datetime:
    """The signing time written in the URL (X-Amz-Date), as an aware UTC datetime."""
    params = dict(parse_qsl(urlsplit(url).query))
    return dt.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


def check_presigned_get(url: str, secret_key: str, now: dt.datetime) -> str:
    """``ok``, ``expired`` or ``bad signature``, as S3 would decide for a GET of ``url`` at ``now``."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    access_key, _date, region, service, _ = params["X-Amz-Credential"].split("/")
    # The signature covers the query exactly as written, minus the signature itself.
    unsigned_query = "&".join(p for p in parts.query.split("&") if not p.startswith("X-Amz-Signature="))
    request = AWSRequest(method="GET", url=urlunsplit(parts._replace(query=unsigned_query)))
    request.context["timestamp"] = params["X-Amz-Date"]
    auth = S3SigV4QueryAuth(
        Credentials(access_key, secret_key, params.get("X-Amz-Security-Token")),
        service,
        region,
        expires=int(params["X-Amz-Expires"]),
    )
    string_to_sign = auth.string_to_sign(request, auth.canonical_request(request))
    expected = auth.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, params.get("X-Amz-Signature", "")):
        return "bad signature"
    if now > signed_at(url) + dt.timedelta(seconds=int(params["X-Amz-Expires"])):
        return "expired"
    return "ok"
