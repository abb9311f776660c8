"""Lambda entry point: ``presign_lambda.handler.handler(event, context)``.

The service (settings, S3 client, manifest cache) is built once per container, on the first
request, and reused while the container is warm.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from presign_lambda.s3 import build_s3_client
from presign_lambda.service import PresignService
from presign_lambda.settings import ConfigError, Settings

_service: PresignService | None = None


def get_service() -> PresignService:
    """The container's service, built from the environment on first use (raises ConfigError)."""
    global _service
    if _service is None:
        _service = PresignService(Settings.from_env(), build_s3_client())
    return _service


def reset() -> None:
    """Forget the warm state, as a new container would (tests change the environment)."""
    global _service
    _service = None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """API Gateway REST API proxy handler (payload 1.0)."""
    request_id = getattr(context, "aws_request_id", None)
    try:
        service = get_service()
    except ConfigError as exc:
        # The message names the variable, never its value; the client learns nothing.
        sys.stdout.write(
            json.dumps({"request_id": request_id, "status": 500, "outcome": "config_error", "detail": str(exc)}) + "\n"
        )
        return {
            "statusCode": 500,
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
            "body": json.dumps({"error": "internal error"}),
            "isBase64Encoded": False,
        }
    return service.handle(event, request_id)
