"""Reading an input file: every way a path can fail to be a script becomes an `InputError`
that names the file and says why (exit 2), never an `OSError` from deep inside.

Reads are bounded: at most `MAX_BYTES` (a larger regular file is refused before it is read,
a stream such as `/dev/zero` once it has sent more), and a pipe or FIFO that sends nothing
for the time the check has left (`budget`) is given up on. `-` is standard input.
"""

from __future__ import annotations

import errno
import os
import select
import stat
import sys

from .. import budget
from .errors import SessrefError

MAX_BYTES = 8 << 20  # 8 MiB: a script or C file larger than this is refused
STDIN = "-"
STDIN_NAME = "<stdin>"


class InputError(SessrefError):
    """The path cannot be read as a script: missing, a directory, unreadable, too large..."""


def display_name(path: str) -> str:
    return STDIN_NAME if path == STDIN else path


def read_bytes(path: str, limit: int = MAX_BYTES) -> bytes:
    """The file's bytes, or an `InputError` saying why they cannot be had."""
    if path == STDIN:
        return _read_stream(sys.stdin.buffer.fileno(), STDIN_NAME, limit, wait=not _is_tty(0))
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(f"cannot read `{path}`: {_reason(path, exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"cannot read `{path}`: it is a directory",
                         help="give the directory itself to `sessref check`: it checks the `.sess` files inside")
    if stat.S_ISREG(info.st_mode) and info.st_size > limit:
        raise InputError(_too_large(path, limit), help="split the script, or check the parts that handle sessions")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"cannot read `{path}`: {_reason(path, exc)}") from None
    try:
        if stat.S_ISREG(info.st_mode):
            _blocking(fd)
            return _read_all(fd, path, limit)
        if stat.S_ISSOCK(info.st_mode):
            raise InputError(f"cannot read `{path}`: it is a socket, not a file")
        return _read_stream(fd, path, limit, wait=True)  # a FIFO or a device: bounded in size and time
    finally:
        os.close(fd)


def _read_all(fd: int, name: str, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError as exc:
            raise InputError(f"cannot read `{name}`: {exc.strerror or exc}") from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise InputError(_too_large(name, limit), help="split the script, or check the parts that handle sessions")
        chunks.append(chunk)


def _read_stream(fd: int, name: str, limit: int, wait: bool) -> bytes:
    """Read until end of file, at most `limit` bytes; with `wait`, give up when nothing
    arrives for the time the check has left."""
    if not wait:
        return _read_all(fd, name, limit)
    _blocking(fd)
    chunks: list[bytes] = []
    size = 0
    while True:
        seconds = budget.remaining_ms() / 1000 if budget.active() else None
        try:
            ready, _, _ = select.select([fd], [], [], seconds)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read `{name}`: {exc}") from None
        if not ready:
            raise InputError(f"cannot read `{name}`: nothing arrived within the time budget (--timeout); "
                             "is anything writing to it?")
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                continue
            raise InputError(f"cannot read `{name}`: {exc.strerror or exc}") from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise InputError(_too_large(name, limit, stream=True),
                             help="a script is a text file; a device such as /dev/zero never ends")
        chunks.append(chunk)


def _blocking(fd: int) -> None:
    try:
        os.set_blocking(fd, True)
    except OSError:
        pass


def _is_tty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _too_large(name: str, limit: int, stream: bool = False) -> str:
    what = "sent more than" if stream else "is larger than"
    return f"cannot read `{name}`: it {what} {limit >> 20} MiB, the largest input sessref reads"


def _reason(path: str, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "its symbolic links form a loop"
    if exc.errno == errno.ENOENT and os.path.islink(path):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"it is a symbolic link to `{target}`, which does not exist"
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)
