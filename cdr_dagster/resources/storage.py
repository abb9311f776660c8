"""Where the platform's files live: a local folder on a laptop, an S3 bucket in test and prod.

Both expose the same small set of byte-level operations on keys such as
``raw/cdr_fyi_orders_20261127.csv``, so the IO manager, the publication step and the tests do not
care which one they talk to. Writes are atomic: a reader sees the old object or the new one,
never half a file. Two conditional writes make publication safe without a lock: create a key
only if it is absent, and replace a key only if it still holds the version read (S3's
``IfNoneMatch`` / ``IfMatch``; a short ``flock`` around compare-and-rename locally).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from pathlib import Path

import dagster as dg
from pydantic import Field

#: A local write goes to ``.<name>.<random>.tmp`` beside its target, then is renamed onto it.
TEMP_SUFFIX = ".tmp"


class Storage(dg.ConfigurableResource):
    """Byte-level access to the platform's keys. Subclasses: a folder or a bucket."""

    def read_bytes(self, key: str) -> bytes:
        raise NotImplementedError

    def write_bytes(self, key: str, data: bytes, content_type: str = "text/csv") -> None:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def list_keys(self, prefix: str) -> list[str]:
        raise NotImplementedError

    def last_modified(self, key: str) -> float:
        """When the key was last written, as a Unix timestamp."""
        raise NotImplementedError

    def location(self, key: str) -> str:
        """Where a person finds the key (a path or an s3:// URI), for messages and metadata."""
        raise NotImplementedError

    def create_if_absent(self, key: str, data: bytes, content_type: str = "text/csv") -> bool:
        """Write ``key`` only if nothing is there, atomically: of two writers racing, exactly one
        gets True (a published key is never overwritten)."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens when it is not there."""
        raise NotImplementedError

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        """The bytes of ``key`` and a version token for :meth:`replace_if`, or None when absent."""
        raise NotImplementedError

    def replace_if(self, key: str, data: bytes, version: str | None, content_type: str = "text/csv") -> bool:
        """Write ``key`` only if it still holds ``version`` (from :meth:`read_versioned`; None: only
        if absent), atomically: False, and nothing written, when another writer got there first."""
        raise NotImplementedError

    def remove_temp_files(self, older_than: float) -> list[str]:
        """Remove what writes killed midway left, if last touched before ``older_than`` (a Unix
        time); returns their keys. Nothing by default: an S3 PUT lands whole or not at all."""
        return []


class LocalStorage(Storage):
    """Keys as files under a folder (``CDR_DATA_DIR``, default ``./data``)."""

    base_dir: str = Field(default="data", description="Root folder, CDR_DATA_DIR.")

    def _path(self, key: str) -> Path:
        return Path(self.base_dir) / key

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def write_bytes(self, key: str, data: bytes, content_type: str = "text/csv") -> None:
        path = self._path(key)
        # written beside the target, then renamed: a crash mid-write leaves only a temp file
        # (which the publication's sweep removes)
        tmp = _written_beside(path, data)
        try:
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def create_if_absent(self, key: str, data: bytes, content_type: str = "text/csv") -> bool:
        path = self._path(key)
        tmp = _written_beside(path, data)
        try:
            # a hard link fails when the name exists: the complete file appears, or nothing does
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        try:
            data = self.read_bytes(key)
        except FileNotFoundError:
            return None
        return data, hashlib.sha256(data).hexdigest()

    def replace_if(self, key: str, data: bytes, version: str | None, content_type: str = "text/csv") -> bool:
        path = self._path(key)
        tmp = _written_beside(path, data)
        # compare and rename under a lock on the folder itself: the kernel drops it when its
        # holder dies, so a killed writer blocks no one, and no lock file is left behind
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            current = self.read_versioned(key)
            if (current[1] if current else None) != version:
                return False
            os.replace(tmp, path)
            return True
        finally:
            os.close(folder)
            tmp.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_keys(self, prefix: str) -> list[str]:
        folder, _, name_prefix = prefix.rpartition("/")
        directory = Path(self.base_dir) / folder
        if not directory.is_dir():
            return []
        base = Path(self.base_dir)
        # every key under the prefix, in subfolders too (as S3 lists them); temp files excluded
        return sorted(
            p.relative_to(base).as_posix()
            for p in directory.rglob("*")
            if p.is_file() and not p.name.startswith(".") and p.relative_to(directory).as_posix().startswith(name_prefix)
        )

    def last_modified(self, key: str) -> float:
        return self._path(key).stat().st_mtime

    def remove_temp_files(self, older_than: float) -> list[str]:
        base = Path(self.base_dir)
        removed = []
        for path in base.rglob(f".*{TEMP_SUFFIX}"):
            try:
                if not path.is_file() or path.stat().st_mtime >= older_than:
                    continue  # perhaps a write in progress
            except FileNotFoundError:
                continue  # a write that just finished renamed it
            path.unlink(missing_ok=True)
            removed.append(path.relative_to(base).as_posix())
        return sorted(removed)

    def location(self, key: str) -> str:
        return str(self._path(key).resolve())


def _written_beside(path: Path, data: bytes) -> Path:
    """``data`` in a new temp file in ``path``'s folder (created if needed), flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)
