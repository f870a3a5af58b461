"""The emulator's control plane, ``/__gtcheck/<action>`` on its own port: only its owner
changes faults.

A web page open in a local browser can send requests to 127.0.0.1, so a state-changing call
must prove it comes from a program that read the emulator's token (``tokens.py``), and the
checks below refuse, before anything changes, what a browser can send:

| check | refused with |
| --- | --- |
| the ``Host`` header is ``127.0.0.1:PORT``, ``localhost:PORT`` or ``[::1]:PORT`` (DNS rebinding) | 403 |
| no ``Origin`` header (every browser sends one with a cross-origin request) | 403 |
| a state-changing action is a ``POST`` (``status`` and ``ttl-deletes`` may be ``GET``) | 405 |
| its ``Content-Type`` is ``application/json`` (an HTML form cannot send it without a CORS preflight, which is never answered) | 415 |
| it carries the token in ``X-Gtcheck-Token`` | 401 |
| its body is a JSON object with the action's fields, of their types | 400 |

Reads (``status``, ``ttl-deletes``) need no token: they change nothing, and without CORS
headers a page cannot read their answers. Every answer is JSON; no request makes it fail with
a 500 and keep failing (arguments are checked before anything is stored).
"""

from __future__ import annotations

import hmac
import json
from typing import Any, Callable
from urllib.parse import parse_qs

from gtcheck.kernel.errors import UserError
from gtcheck.realworld import tokens, wire
from gtcheck.realworld.regions import Regions, signed_duration
from gtcheck.realworld.ttl import Sweeper
from gtcheck.realworld.wire import Response, WireError

READS = frozenset({"status", "ttl-deletes"})
ACTIONS = ("status", "ttl-deletes", "isolate", "heal", "stop", "start", "delay", "replication", "clock",
           "heal-all", "reset", "ttl")


def _answer(status: int, doc: Any) -> Response:
    data = json.dumps(doc).encode()
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
              405: "Method Not Allowed", 413: "Payload Too Large", 415: "Unsupported Media Type",
              500: "Internal Server Error"}.get(status, "Error")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
               ("Cache-Control", "no-store")]
    if status == 405:
        headers.append(("Allow", "POST"))
    return f"{status} {reason}", headers, data


def _refuse(status: int, message: str) -> Response:
    return _answer(status, {"error": message})


class ControlPlane:
    def __init__(self, emu: Regions, sweeper: Sweeper, status: Callable[[], dict[str, Any]],
                 token: str | None = None) -> None:
        self.emu, self.sweeper, self.status = emu, sweeper, status
        self.token = token or tokens.new_token()
        self.port: int | None = None

    def bind(self, port: int) -> None:
        self.port = port

    def _host_ok(self, host: str) -> bool:
        return host in {f"127.0.0.1:{self.port}", f"localhost:{self.port}", f"[::1]:{self.port}"}

    def handle(self, environ: dict[str, Any], action: str) -> Response:
        try:
            return self._handle(environ, action)
        except WireError as exc:
            return _refuse(exc.status, exc.message)
        except UserError as exc:
            return _refuse(400, exc.render())
        except Exception as exc:  # noqa: BLE001 - never a traceback, never a stuck control plane
            self.emu.errors += 1
            return _refuse(500, f"{type(exc).__name__}: {exc}")

    def _handle(self, environ: dict[str, Any], action: str) -> Response:
        action = action.strip("/")
        if not self._host_ok(environ.get("HTTP_HOST", "")):
            return _refuse(403, f"the control plane answers only Host 127.0.0.1:{self.port} or localhost:{self.port}")
        if environ.get("HTTP_ORIGIN") is not None:
            return _refuse(403, "cross-origin requests to the control plane are refused")
        if action not in ACTIONS:
            return _refuse(404, f"unknown control action {action!r}; one of {', '.join(ACTIONS)}")
        method = environ.get("REQUEST_METHOD", "GET")
        if action in READS and method == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            return _answer(200, self.read(action, {k: v[-1] for k, v in query.items()}))
        if method != "POST":
            return _refuse(405, f"{action} takes a POST with a JSON body")
        ctype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if ctype != "application/json":
            return _refuse(415, "the control plane takes Content-Type application/json")
        body = wire.read_body(environ, limit=64 * 1024)
        try:
            args = json.loads(body) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            return _refuse(400, "the body is not JSON")
        if not isinstance(args, dict):
            return _refuse(400, "the body must be a JSON object (the action's arguments, {} for none)")
        if action in READS:
            return _answer(200, self.read(action, args))
        given = environ.get("HTTP_X_GTCHECK_TOKEN", "")
        if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
            return _refuse(401, f"a state-changing call needs the emulator's token in {tokens.HEADER} "
                                f"(printed at start and kept in {tokens.token_path(self.port or 0)})")
        result = self.change(action, args) or {}
        out = self.status()
        out.update(result)
        return _answer(200, out)

    def read(self, action: str, args: dict[str, Any]) -> Any:
        if action == "status":
            return self.status()
        since = args.get("since", 0)
        try:
            seq = int(since)
        except (TypeError, ValueError):
            raise UserError(f"since must be an integer, not {since!r}") from None
        return {"deletes": self.sweeper.since(seq)}

    def change(self, action: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """Carry out a state-changing action; every argument is checked first. What it
        returns is added to the status it answers (``ttl`` with ``sweep``: the deletes made)."""
        emu = self.emu
        fields: dict[str, tuple[Any, bool]] = {
            "isolate": {"region": (str, True)}, "heal": {"region": (str, False)}, "stop": {"region": (str, True)},
            "start": {"region": (str, True)},
            "delay": {"source": (str, False), "target": (str, False), "extra": (str, False)},
            "replication": {"target": (str, True), "enabled": (bool, True)},
            "clock": {"region": (str, True), "offset": ((str, int), True)},
            "heal-all": {}, "reset": {}, "ttl": {"paused": (bool, False), "sweep": (bool, False)},
        }[action]
        for name in args:
            if name not in fields:
                raise UserError(f"{action} takes no field {name!r}", hint="its fields: " + (", ".join(fields) or "none"))
        for name, (kind, required) in fields.items():
            value = args.get(name)
            if value is None:
                if required:
                    raise UserError(f"{action} needs the field {name!r}")
                continue
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise UserError(f"{action}: {name} must be a {getattr(kind, '__name__', 'string or integer')}, "
                                f"not {value!r}")
        do: dict[str, Callable[[], Any]] = {
            "isolate": lambda: emu.isolate(args["region"]),
            "heal": lambda: emu.heal(args.get("region")),
            "stop": lambda: emu.stop_region(args["region"]),
            "start": lambda: emu.start_region(args["region"]),
            "delay": lambda: emu.set_delay(args.get("source") or "*", args.get("target") or "*", args.get("extra")),
            "replication": lambda: emu.set_replication(args["target"], args["enabled"]),
            "clock": lambda: emu.set_clock_offset(args["region"], signed_duration(args["offset"], "offset")),
            "heal-all": emu.heal_all,
            "reset": emu.reset_faults,
            "ttl": lambda: self._ttl(args),
        }
        return do[action]()

    def _ttl(self, args: dict[str, Any]) -> dict[str, Any]:
        sweeper = self.sweeper
        if args.get("paused") is not None:
            sweeper.paused = args["paused"]
        # paused first: a sweep asked with paused=True is the last until resumed
        return {"swept": sweeper.sweep()} if args.get("sweep") else {}
