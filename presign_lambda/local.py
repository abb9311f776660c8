"""Local HTTP server for the page's preview and browser tests.

    python -m presign_lambda.local --port 8001 [--host 127.0.0.1]

Each HTTP request becomes an API Gateway payload-2.0 event for the same service the Lambda runs,
configured by the same environment variables. Once it accepts connections it prints exactly one
line to stdout, ``presign server listening on http://HOST:PORT`` (the real port for ``--port 0``).
Request logs (one JSON line each) go to stderr.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from presign_lambda.s3 import build_s3_client
from presign_lambda.service import PresignService
from presign_lambda.settings import ConfigError, Settings


def to_event(method: str, target: str, headers: list[tuple[str, str]], client_ip: str) -> dict[str, Any]:
    """The payload-2.0 event API Gateway's HTTP API would send for this request."""
    parts = urlsplit(target)
    joined: dict[str, str] = {}
    for name, value in headers:  # repeated headers are comma-joined, as API Gateway does
        name = name.lower()
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    params: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": joined,
        "requestContext": {
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": client_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if params:
        event["queryStringParameters"] = params
    return event


def make_handler(service: PresignService) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``service``."""

    class Handler(BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return "presign-local"

        def _serve(self) -> None:
            event = to_event(self.command, self.path, list(self.headers.items()), self.client_address[0])
            response = service.handle(event)
            body = response["body"].encode()
            self.send_response(response["statusCode"])
            for name, value in response["headers"].items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)

        do_GET = do_OPTIONS = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the service already writes one JSON line per request

    return Handler


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m presign_lambda.local", description="Serve the presign Lambda over HTTP on this machine."
    )
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"presign server: {exc}", file=sys.stderr)
        return 2
    service = PresignService(settings, build_s3_client(), log_stream=sys.stderr)

    server_class = _IPv6Server if ":" in args.host else ThreadingHTTPServer
    server = server_class((args.host, args.port), make_handler(service))
    server.daemon_threads = True  # an open browser connection must not block the exit
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # terminate() is a clean stop
    # The socket is bound and listening once the server exists, so the line is true from now on.
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"presign server listening on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
