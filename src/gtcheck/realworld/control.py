"""``Control``: the Python client of a running emulator's control plane (``/__gtcheck/<action>``
on the emulator's own port, loopback only).

Every call is a POST with a JSON body; state-changing ones carry the emulator's token
(``X-Gtcheck-Token``), found as ``tokens.find_token`` says: the ``token`` argument, the
``GTCHECK_EMULATOR_TOKEN`` environment variable, or the file the emulator wrote for its port.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from gtcheck.kernel.errors import UserError
from gtcheck.realworld import tokens


class Control:
    def __init__(self, endpoint: str, timeout: float = 10.0, token: str | None = None) -> None:
        if not endpoint.startswith(("http://127.0.0.1:", "http://localhost:")):
            raise UserError(f"the emulator's control endpoint is on loopback only, not {endpoint}",
                            where="--endpoint-url")
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        try:
            self.port: int | None = urlsplit(self.endpoint).port
        except ValueError:
            self.port = None
        self._token = token

    @property
    def token(self) -> str | None:
        return tokens.find_token(self.port, self._token)

    def call(self, action: str, **args: Any) -> dict[str, Any]:
        data = json.dumps({k: v for k, v in args.items() if v is not None}).encode()
        headers = {"Content-Type": "application/json"}
        token = self.token
        if token:
            headers[tokens.HEADER] = token
        req = urllib.request.Request(f"{self.endpoint}/__gtcheck/{action}", data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - loopback
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                msg = json.loads(exc.read()).get("error", str(exc))
            except ValueError:
                msg = str(exc)
            hint = None
            if exc.code == 401:
                hint = (f"pass --token (or set {tokens.ENV_TOKEN}) with the token `gtcheck emulate` printed, or run "
                        f"as the user that started it (it keeps the token in {tokens.token_path(self.port or 0)})")
            raise UserError(f"the emulator refused {action}: {msg}", hint=hint) from None
        except (urllib.error.URLError, OSError) as exc:
            raise UserError(f"no emulator answers at {self.endpoint}: {exc}",
                            hint="start one with `gtcheck emulate`") from None

    def status(self) -> dict[str, Any]:
        return self.call("status")

    def isolate(self, region: str) -> dict[str, Any]:
        return self.call("isolate", region=region)

    def heal(self, region: str | None = None) -> dict[str, Any]:
        return self.call("heal", region=region)

    def stop(self, region: str) -> dict[str, Any]:
        return self.call("stop", region=region)

    def start(self, region: str) -> dict[str, Any]:
        return self.call("start", region=region)

    def delay(self, extra: str | None, source: str = "*", target: str = "*") -> dict[str, Any]:
        return self.call("delay", source=source, target=target, extra=extra)

    def replication(self, target: str, enabled: bool) -> dict[str, Any]:
        return self.call("replication", target=target, enabled=enabled)

    def clock(self, region: str, offset: str | int) -> dict[str, Any]:
        return self.call("clock", region=region, offset=offset)

    def heal_all(self) -> dict[str, Any]:
        return self.call("heal-all")

    def reset(self) -> dict[str, Any]:
        return self.call("reset")

    def ttl(self, paused: bool | None = None, sweep: bool = False) -> dict[str, Any]:
        """Pause or resume the TTL sweeper; ``sweep=True`` runs one pass now."""
        return self.call("ttl", paused=paused, sweep=sweep or None)

    def ttl_deletes(self, since: int = 0) -> list[dict[str, Any]]:
        """The TTL sweeper's deletes after sequence number ``since`` (monotonic times)."""
        return self.call("ttl-deletes", since=since)["deletes"]

    def wait_quiet(self, timeout: float = 30.0, poll: float = 0.05, stop: Any = None) -> bool:
        """Wait until no version is in flight or held (True), ``timeout`` passes or ``stop``
        (a ``threading.Event``) is set."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.status()
            if s["in_flight"] == 0 and s["held"] == 0:
                return True
            if stop is not None:
                if stop.wait(poll):
                    return False
            else:
                time.sleep(poll)
        return False
