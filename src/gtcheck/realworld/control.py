"""``Control``: the Python client of a running emulator's control endpoint
(``/__gtcheck/<action>`` on the emulator's own port, loopback only)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from gtcheck.kernel.errors import UserError


class Control:
    def __init__(self, endpoint: str, timeout: float = 10.0) -> None:
        if not endpoint.startswith(("http://127.0.0.1:", "http://localhost:")):
            raise UserError(f"the emulator's control endpoint is on loopback only, not {endpoint}",
                            where="--endpoint-url")
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def call(self, action: str, **args: Any) -> dict[str, Any]:
        data = json.dumps({k: v for k, v in args.items() if v is not None}).encode()
        req = urllib.request.Request(f"{self.endpoint}/__gtcheck/{action}", data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - loopback
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                msg = json.loads(exc.read()).get("error", str(exc))
            except ValueError:
                msg = str(exc)
            raise UserError(f"the emulator refused {action}: {msg}") from None
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

    def wait_quiet(self, timeout: float = 30.0, poll: float = 0.05) -> bool:
        """Wait until no version is in flight or held (True), or ``timeout`` passes."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.status()
            if s["in_flight"] == 0 and s["held"] == 0:
                return True
            time.sleep(poll)
        return False
