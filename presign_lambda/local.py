"""Local HTTP server for the page's preview and browser tests.

    python -m presign_lambda.local --port 8001 [--host 127.0.0.1]

Each HTTP request becomes the REST API proxy event (payload 1.0) API Gateway would send to the
same service the Lambda runs,
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
    """The REST API proxy event (payload 1.0) API Gateway would send for this request."""
    parts = urlsplit(target)
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):  # decoded once, as the gateway does
        multi_query.setdefault(name, []).append(value)
    return {
        "resource": parts.path,
        "path": parts.path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "path": parts.path,
            "httpMethod": method,
            "identity": {"sourceIp": client_ip, "userAgent": multi_headers.get("User-Agent", [""])[-1]},
            "requestTimeEpoch": int(time.time() * 1000),
        },
        "body": None,
        "isBase64Encoded": False,
    }


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
