"""Preview the public page locally, through the real path (S3 server, presign API, browser).

    python -m dashboard.preview [--data-dir data] [--port 8000]

Serves http://localhost:8000 from the pipeline's local output (<data-dir>/processed/*.csv and
manifest.json). Files are re-uploaded when changed, on each page load: rerun the pipeline or edit
dashboard/src, then reload. French: http://fr.localhost:8000 (a real fr. host) or ?lang=fr.
Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading
from pathlib import Path

from devtools.stack import processed_files, running_stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.preview", description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="holds processed/ (default ./data)")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    published = processed_files(args.data_dir)
    if "processed/manifest.json" not in published:
        print(
            f"No {args.data_dir / 'processed' / 'manifest.json'}: run the pipeline first "
            "(it materializes ./data/processed), or preview the test fixtures with "
            "--data-dir tests/fixtures/page.",
            file=sys.stderr,
        )
        return 2

    # Ctrl-C, or a TERM from a process manager, unwinds the stack: every server is stopped.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    hosts = ("localhost", "127.0.0.1", "fr.localhost")
    try:
        with running_stack(
            args.data_dir, page_hosts=hosts, page_port=args.port, presign_log=sys.stderr, sync_on_page_load=True
        ) as stack:
            print(f"S3 (moto):      {stack.s3.endpoint_url}  bucket {stack.bucket}")
            print(f"presign API:    {stack.api_base}")
            print(f"page (English): http://localhost:{stack.page.port}/")
            print(f"page (French):  http://fr.localhost:{stack.page.port}/  or  ?lang=fr")
            print("Ctrl-C to stop.", flush=True)
            threading.Event().wait()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"Port {args.port} is in use: stop what runs there, or pass --port.", file=sys.stderr)
        return 1
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
