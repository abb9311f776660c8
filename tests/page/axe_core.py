"""axe-core, the accessibility engine the page tests run in Chromium: pinned, fetched from the npm
registry by ``npm pack`` on first use and cached outside the repository (used by the tests only,
never shipped with the page).

A fresh machine needs only ``npm`` on the PATH: Debian's ``npm`` package, or the npm that comes
with Node.js (dev.py's DEBIAN_TEST_PACKAGES names it, so ``python3 dev.py test`` installs it when
it is missing). The tarball's SHA-256 is checked before anything is unpacked.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

AXE_VERSION = "4.10.3"
AXE_TARBALL_SHA256 = "0f2b4d7dcdf7d1219df8d1959ad68e565f51d14c3f0d88bb71cd59abeb956292"
AXE_FILE = "package/axe.min.js"
NPM_TIMEOUT_S = 300


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cdr-page-tests" / f"axe-core-{AXE_VERSION}"


def axe_source() -> str:
    """The text of axe.min.js (the pinned version), fetched once with ``npm pack`` and cached."""
    cached = cache_dir() / "axe.min.js"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            tarball = _npm_pack(Path(tmp))
            digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
            if digest != AXE_TARBALL_SHA256:
                raise RuntimeError(
                    f"axe-core@{AXE_VERSION} from npm has sha256 {digest}, expected {AXE_TARBALL_SHA256}: not used"
                )
            with tarfile.open(tarball) as archive:
                member = archive.extractfile(AXE_FILE)
                if member is None:
                    raise RuntimeError(f"axe-core@{AXE_VERSION} has no {AXE_FILE}")
                partial = cached.with_suffix(f".{os.getpid()}.partial")  # one per process: workers may race
                partial.write_bytes(member.read())
                partial.replace(cached)  # atomic: a crash never leaves half a file in the cache
    return cached.read_text()


def _npm_pack(dest: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is not installed: the accessibility tests fetch axe-core with `npm pack`; "
            "install Debian's npm (apt-get install npm)"
        )
    spec = f"axe-core@{AXE_VERSION}"
    result = subprocess.run(
        [npm, "pack", spec, "--pack-destination", str(dest), "--silent"],
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT_S,
        cwd=dest,
    )
    tarball = dest / f"axe-core-{AXE_VERSION}.tgz"
    if result.returncode != 0 or not tarball.exists():
        raise RuntimeError(f"`npm pack {spec}` failed (exit {result.returncode}): {result.stderr.strip()[-500:]}")
    return tarball
