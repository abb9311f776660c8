"""Which files make up the page's code, and their bucket keys (under ``layout.VIZ_PREFIX``): the one
home of that fact for the deploy (deployment/deploy.py) and the local preview (devtools/stack.py).

Today's live Webflow embed loads ``viz/chart_templates.js`` and expects the OLD chart code. This
project's code therefore ships under its own versioned prefix, ``viz/v2/``, which the old embed
never loads; the new embed (dashboard/webflow_embed.html) loads ``viz/v2/chart_templates.js``.
A deploy never writes a flat ``viz/<file>`` key, so the old embed keeps working at every moment
of the switch-over (docs/page.md has the runbook).
"""

from __future__ import annotations

from pathlib import Path

from cdr_dagster.domain.layout import LEGACY_ENTRY_KEY, VIZ_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = Path("dashboard") / "src"
VENDORED = (Path("dashboard") / "vendor" / "chart.umd.min.js",)
CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css"}


def viz_files(root: Path = REPO_ROOT) -> dict[str, Path]:
    """The page's own files by bucket key, from a checkout at ``root``: dashboard/src/*.js|*.css
    and the vendored Chart.js."""
    source = root / SOURCE_DIR
    files = {f"{VIZ_PREFIX}{p.name}": p for p in sorted(source.iterdir()) if p.suffix in CONTENT_TYPES}
    files.update({f"{VIZ_PREFIX}{p.name}": root / p for p in VENDORED})
    assert LEGACY_ENTRY_KEY not in files
    return files


def content_type(path: Path) -> str:
    """The Content-Type a viz file is stored with."""
    return CONTENT_TYPES[path.suffix]
