"""A free loopback port for a server a test starts (and stops) itself."""

from __future__ import annotations

import socket


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

