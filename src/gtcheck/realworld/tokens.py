"""Where a running emulator leaves its control token, so that its owner's tools find it.

``gtcheck emulate`` makes a fresh random token per process, prints it on its first line, and
writes it to ``<runtime dir>/emulator-<port>.token`` (mode 0600, in a directory of mode 0700
that only its user owns); it removes the file when it stops. ``Control`` (and so
``gtcheck emulator ...`` and the pytest fixture) takes the token, first found wins, from: its
``token=`` argument (``--token``), the ``GTCHECK_EMULATOR_TOKEN`` environment variable, the
file of the port it talks to.

The runtime directory is ``$XDG_RUNTIME_DIR/gtcheck`` when ``XDG_RUNTIME_DIR`` is set (a
per-user directory the login session owns), else ``<tempdir>/gtcheck-<uid>``. A directory or
file that another user owns or can read is refused, never trusted.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
from pathlib import Path

from gtcheck.kernel.errors import UserError

ENV_TOKEN = "GTCHECK_EMULATOR_TOKEN"
HEADER = "X-Gtcheck-Token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def runtime_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and Path(base).is_dir():
        return Path(base) / "gtcheck"
    return Path(tempfile.gettempdir()) / f"gtcheck-{os.getuid()}"


def token_path(port: int) -> Path:
    return runtime_dir() / f"emulator-{port}.token"


def _private_dir() -> Path:
    d = runtime_dir()
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    _check_private(d, is_dir=True)
    return d


def _check_private(path: Path, is_dir: bool) -> None:
    st = path.lstat()
    kind_ok = stat.S_ISDIR(st.st_mode) if is_dir else stat.S_ISREG(st.st_mode)
    if not kind_ok or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise UserError(f"{path} is not private to this user (owner uid {st.st_uid}, mode "
                        f"{stat.S_IMODE(st.st_mode):o}); the emulator's token is kept only in a "
                        f"{'directory' if is_dir else 'file'} that only you own and can read",
                        hint="remove it, or set XDG_RUNTIME_DIR to a private directory")


def write_token(port: int, token: str) -> Path:
    """Write ``token`` for ``port`` (replacing a stale file of a process that died)."""
    path = _private_dir() / f"emulator-{port}.token"
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    os.replace(tmp, path)
    return path


def read_token(port: int) -> str | None:
    """The token written for ``port``, if a private file holds one."""
    path = token_path(port)
    try:
        _check_private(path.parent, is_dir=True)
        _check_private(path, is_dir=False)
        return path.read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def remove_token(port: int, token: str) -> None:
    """Remove the file of ``port`` if it still holds ``token`` (not another process's)."""
    path = token_path(port)
    try:
        if path.read_text(encoding="ascii").strip() == token:
            path.unlink()
    except (FileNotFoundError, UnicodeDecodeError, PermissionError):
        pass


def find_token(port: int | None, explicit: str | None = None) -> str | None:
    """The token a client uses: ``explicit``, else ``$GTCHECK_EMULATOR_TOKEN``, else the file."""
    if explicit:
        return explicit
    env = os.environ.get(ENV_TOKEN)
    if env:
        return env
    return read_token(port) if port is not None else None
