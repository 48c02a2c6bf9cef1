"""Data that every run builds from files shipped with sessref (the function catalogue, the
headers' constants), kept between runs in the user's cache directory, so that a start does
not parse them again. A cached copy is named by a hash of every file it is built from, so a
change to any of them is a new file; anything wrong with a copy (absent, unreadable, from
another build) means building it again, and a cache that cannot be written is no error."""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")


def cache_root() -> Path:
    """`$SESSREF_CACHE`, else `$XDG_CACHE_HOME/sessref` (`~/.cache/sessref`): the data here,
    the reproducers' binaries (`memcheck.py`)."""
    root = os.environ.get("SESSREF_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")), "sessref")
    return Path(root)


def data_file(name: str, digest: str, suffix: str) -> Path | None:
    """The cache file for data `name` built from sources whose hash is `digest`, its folder
    made; None when the folder cannot be made (a read-only home: build at every start)."""
    directory = cache_root() / "data"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return directory / f"{name}-{digest[:32]}{suffix}"


def cached(name: str, sources: list[Path], build: Callable[[], T]) -> T:
    """`build()`, or its copy from an earlier run with the same `sources`."""
    path = _path(name, sources)
    if path is not None:
        try:
            return pickle.loads(path.read_bytes())
        except Exception:
            pass
    value = build()
    if path is not None:
        try:
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(partial, path)
        except OSError:
            pass
    return value


def _path(name: str, sources: list[Path]) -> Path | None:
    digest = hashlib.sha256()
    try:
        for source in sources:
            digest.update(source.read_bytes())
    except OSError:
        return None
    return data_file(name, digest.hexdigest(), f"-py{sys.version_info[0]}{sys.version_info[1]}.pickle")
