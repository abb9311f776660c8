"""What a deploy ships, checked to be exactly the commit it is recorded as, and its checksum.

A marker ``deployments/<sha>.json`` says "commit <sha> runs here", and prod trusts test's marker.
That holds only if every file that ships is, byte for byte, the commit's. ``git status`` alone
does not prove it: a file flagged skip-worktree or assume-unchanged can differ without showing,
and an ignored or excluded file (``.gitignore``, ``.git/info/exclude``) that the Lambda zip, the
page's files or the image pick up from the folder is not listed at all. So the check here starts
from the files that ship and compares each with the commit's blob, and refuses any flag git uses
to hide changes in the shipped paths.

The checksum covers exactly what reaches AWS: the Lambda zip's bytes, each page file's bytes under
its key, each template's bytes, and the commit's tree of the image's inputs as git records it (once the check has passed,
the folder the image is built from is that tree). Test records it in its marker; prod computes
its own and refuses on any difference.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from deployment.errors import ConfigError

LAMBDA_PATHS = ("presign_lambda",)
PAGE_PATHS = ("dashboard/src", "dashboard/vendor/chart.umd.min.js")
#: The CloudFormation templates a deploy updates its stacks from: the dashboard's, the Dagster tier's.
TEMPLATE_PATHS = ("deployment/template.yaml", "deployment/dagster_stack.yaml")
#: What the image is built from (the Dockerfile's COPY sources) and what decides how it is built.
IMAGE_PATHS = (
    "cdr_dagster",
    "pyproject.toml",
    "constraints.txt",
    "README.md",
    "Dockerfile",
    ".dockerignore",
    "dagster_cloud.yaml",
    "deployment/dagster",
)
#: What .dockerignore keeps out of the image's build context (tests/deployment checks the file).
IMAGE_EXCLUDED_DIRECTORIES = frozenset({"__pycache__"})
IMAGE_EXCLUDED_SUFFIXES = (".pyc",)


# ---------------------------------------------------------------------------------------------
# git, read-only
# ---------------------------------------------------------------------------------------------


def git(root: Path, *args: str, stdin: str | None = None, ok: tuple[int, ...] = (0,)) -> str:
    """stdout of a read-only git command in the checkout (ConfigError when it fails)."""
    try:
        result = subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ConfigError("git is not installed: deploy.py records the commit it ships") from None
    if result.returncode not in ok:
        raise ConfigError(f"git {' '.join(args[:2])} failed in {root}: {result.stderr.strip()}")
    return result.stdout


def head_commit(root: Path) -> str:
    """The full sha of the commit checked out."""
    return git(root, "rev-parse", "--verify", "HEAD^{commit}").strip()


def uncommitted_changes(root: Path, paths: Sequence[str]) -> list[str]:
    """Lines of ``git status`` for shipped paths that differ from HEAD (untracked included)."""
    status = git(root, "status", "--porcelain", "--untracked-files=all", "--", *paths)
    return [line for line in status.splitlines() if line.strip()]


def head_blobs(root: Path, paths: Sequence[str]) -> dict[str, str]:
    """Blob id of every file of the commit under ``paths``."""
    listing = git(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD", "--", *paths)
    blobs = {}
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        blobs[path] = meta.split()[2]
    return blobs


def hidden_flags(root: Path, paths: Sequence[str]) -> dict[str, str]:
    """Tracked files under ``paths`` whose changes ``git status`` would not show, with the flag."""
    flags = {}
    for entry in filter(None, git(root, "ls-files", "-v", "-z", "--", *paths).split("\0")):
        tag, path = entry[0], entry[2:]
        if tag in "Ss":  # lower-case s: skip-worktree and assume-unchanged both
            flags[path] = "skip-worktree"
        elif tag.islower():
            flags[path] = "assume-unchanged"
    return flags


def ignored(root: Path, files: Sequence[str]) -> set[str]:
    """Which of ``files`` git ignores (.gitignore, .git/info/exclude, core.excludesFile)."""
    if not files:
        return set()
    out = git(root, "check-ignore", "--no-index", "-z", "--stdin", stdin="\0".join(files) + "\0", ok=(0, 1))
    return set(filter(None, out.split("\0")))


def working_blobs(root: Path, files: Sequence[str]) -> dict[str, str]:
    """The blob id each file's bytes on disk would have, unfiltered: what ships, as git names it."""
    if not files:
        return {}
    out = git(root, "hash-object", "--no-filters", "--stdin-paths", stdin="\n".join(files) + "\n")
    return dict(zip(files, out.split(), strict=True))


# ---------------------------------------------------------------------------------------------
# What ships
# ---------------------------------------------------------------------------------------------


def image_files(root: Path) -> list[str]:
    """Files of the image's build context on disk (repository-relative), .dockerignore applied."""
    found: list[str] = []
    for relative in IMAGE_PATHS:
        path = root / relative
        if path.is_file():
            found.append(relative)
        for folder, directories, files in os.walk(path):
            directories[:] = sorted(d for d in directories if d not in IMAGE_EXCLUDED_DIRECTORIES)
            base = Path(folder).relative_to(root)
            found.extend((base / f).as_posix() for f in sorted(files) if not f.endswith(IMAGE_EXCLUDED_SUFFIXES))
    return found


def scopes(with_image: bool) -> tuple[str, ...]:
    """The repository paths a deploy ships from."""
    return LAMBDA_PATHS + PAGE_PATHS + TEMPLATE_PATHS + (IMAGE_PATHS if with_image else ())


def hidden_state(root: Path, shipped: Iterable[str], with_image: bool) -> list[str]:
    """Every way what ships differs from the commit that ``git status`` does not show, one line
    each naming the file (empty when what ships is exactly the commit's)."""
    paths = scopes(with_image)
    files = sorted(set(shipped) | (set(image_files(root)) if with_image else set()))
    head = head_blobs(root, paths)
    flags = hidden_flags(root, paths)
    problems = [
        f"{path}: {flag} is set, so git does not show its changes (git update-index --no-{flag} -- {path})"
        for path, flag in sorted(flags.items())
    ]
    outside = [f for f in files if f not in head and f not in flags]
    ignored_files = ignored(root, outside)
    for path in outside:
        why = "ignored by git (.gitignore or .git/info/exclude)" if path in ignored_files else "not in the commit"
        problems.append(f"{path}: {why}, but it would ship")
    inside = [f for f in files if f in head and f not in flags]
    blobs = working_blobs(root, inside)
    problems += [f"{path}: differs from the commit" for path in inside if blobs[path] != head[path]]
    return problems


# ---------------------------------------------------------------------------------------------
# The checksum
# ---------------------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_tree(root: Path) -> bytes:
    """The commit's tree of the image's inputs, as ``git ls-tree`` lists it (mode, blob, path)."""
    return git(root, "ls-tree", "-r", "--full-tree", "HEAD", "--", *IMAGE_PATHS).encode()


def checksums(lambda_zip: bytes, viz: Mapping[str, bytes], tree: bytes, templates: Mapping[str, bytes]) -> dict[str, Any]:
    """The marker's ``checksums``: one SHA-256 per part, and ``shipped`` over them all."""
    parts: dict[str, Any] = {
        "lambda_zip": _sha256(lambda_zip),
        "viz": {key: _sha256(data) for key, data in sorted(viz.items())},
        "image_tree": _sha256(tree),
        "templates": {path: _sha256(data) for path, data in sorted(templates.items())},
    }
    shipped = _sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode())
    return {"shipped": shipped, **parts}


def differences(ours: Mapping[str, Any], recorded: Mapping[str, Any]) -> list[str]:
    """The parts whose checksum differs from the recorded ones, named for a person."""
    names = []
    if ours.get("lambda_zip") != recorded.get("lambda_zip"):
        names.append("the Lambda zip")
    recorded_viz = recorded.get("viz")
    theirs_viz: Mapping[str, Any] = recorded_viz if isinstance(recorded_viz, dict) else {}
    for key in sorted(set(ours["viz"]) | set(theirs_viz)):
        if ours["viz"].get(key) != theirs_viz.get(key):
            names.append(key)
    if ours.get("image_tree") != recorded.get("image_tree"):
        names.append("the image's source tree")
    recorded_templates = recorded.get("templates")
    theirs_templates: Mapping[str, Any] = recorded_templates if isinstance(recorded_templates, dict) else {}
    names += [path for path in sorted(ours["templates"]) if ours["templates"][path] != theirs_templates.get(path)]
    if not names and ours.get("shipped") != recorded.get("shipped"):
        names.append("the overall checksum")
    return names
