"""The emulator's control plane is driven only by its owner (issue 20): a GET, a cross-origin
request, a form post, a request with another Host or without the per-process token cannot change
faults; bad arguments are refused without breaking later calls; the token is printed at start and
left, private, where `gtcheck emulator ...`, ``Control`` and the fixture find it.

Each test starts `gtcheck emulate` in a child process on a free loopback port and stops it."""

from __future__ import annotations

import http.client
import json
import os
import stat

import pytest

import boto3  # noqa: E402,F401  (the test extra installs it: no skip)
import moto  # noqa: E402,F401

from gtcheck.pytest_plugin import EmulatorProcess  # noqa: E402
from gtcheck.realworld import tokens  # noqa: E402
from gtcheck.realworld.control import Control  # noqa: E402

pytestmark = pytest.mark.emulator

REGIONS = ["us-east-1", "eu-west-1"]


@pytest.fixture(scope="module")
def emu():
    e = EmulatorProcess(REGIONS, delay="constant(10ms)")
    yield e
    e.stop()


def _send(emu, action, method="POST", body=None, headers=None, host=None):
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=30)
    head = {"Host": host or f"127.0.0.1:{emu.port}"}
    head.update(headers or {})
    data = body.encode() if isinstance(body, str) else body
    conn.request(method, f"/__gtcheck/{action}", body=data, headers=head)
    resp = conn.getresponse()
    out = resp.status, json.loads(resp.read())
    conn.close()
    return out


def _faults(emu):
    s = Control(emu.endpoint).status()
    return s["isolated"], s["stopped"], s["extra_delays"], s["replication_off_to"]


NO_FAULTS = ([], [], {}, [])


@pytest.mark.parametrize("attempt, status", [
    ({"action": "heal-all", "method": "GET"}, 405),
    ({"action": "reset", "method": "GET"}, 405),
    ({"action": "isolate", "method": "GET"}, 405),
    # what any web page can send: a "simple" cross-origin POST, no preflight
    ({"action": "isolate", "body": '{"region": "eu-west-1"}',
      "headers": {"Content-Type": "text/plain", "Origin": "http://evil.example"}}, 403),
    ({"action": "isolate", "body": '{"region": "eu-west-1"}', "headers": {"Content-Type": "text/plain"}}, 415),
    ({"action": "isolate", "body": "region=eu-west-1",
      "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 415),
    ({"action": "isolate", "body": '{"region": "eu-west-1"}', "headers": {"Content-Type": "application/json"}}, 401),
    ({"action": "isolate", "body": '{"region": "eu-west-1"}',
      "headers": {"Content-Type": "application/json", "X-Gtcheck-Token": "guess"}}, 401),
])
def test_what_a_web_page_or_a_stranger_can_send_changes_nothing(emu, attempt, status):
    attempt = dict(attempt)
    code, doc = _send(emu, attempt.pop("action"), **attempt)
    assert code == status and "error" in doc, doc
    assert _faults(emu) == NO_FAULTS


def test_even_with_the_token_a_browser_request_is_refused(emu):
    ok = {"Content-Type": "application/json", "X-Gtcheck-Token": emu.token}
    code, doc = _send(emu, "isolate", body='{"region": "eu-west-1"}', headers={**ok, "Origin": "http://evil.example"})
    assert code == 403 and "cross-origin" in doc["error"]
    code, doc = _send(emu, "isolate", body='{"region": "eu-west-1"}', headers=ok, host=f"evil.example:{emu.port}")
    assert code == 403 and "Host" in doc["error"]          # DNS rebinding: a page on evil.example resolving to us
    assert _faults(emu) == NO_FAULTS
    code, doc = _send(emu, "isolate", body='{"region": "eu-west-1"}', headers=ok)
    assert code == 200 and doc["isolated"] == ["eu-west-1"]
    code, doc = _send(emu, "heal-all", body="{}", headers=ok, host=f"localhost:{emu.port}")
    assert code == 200 and doc["isolated"] == []


def test_status_is_open_on_loopback_but_not_to_pages(emu):
    code, doc = _send(emu, "status", method="GET")
    assert code == 200 and doc["regions"] == REGIONS
    code, doc = _send(emu, "status", method="GET", headers={"Origin": "http://evil.example"})
    assert code == 403
    code, doc = _send(emu, "ttl-deletes?since=0", method="GET")
    assert code == 200 and doc == {"deletes": []}


@pytest.mark.parametrize("action, body, message", [
    ("delay", {"extra": {"median": "1s"}}, "extra must be a str"),
    ("delay", {"extra": "weird(1)"}, "cannot read the delay"),
    ("delay", {"extra": "2s", "source": "mars-1"}, "unknown region"),
    ("clock", {"region": "eu-west-1", "offset": {"ms": 40}}, "offset must be"),
    ("clock", {"region": "eu-west-1", "offset": "soon"}, "offset"),
    ("isolate", {}, "needs the field 'region'"),
    ("isolate", {"region": 7}, "region must be a str"),
    ("isolate", {"region": "eu-west-1", "force": True}, "no field 'force'"),
    ("replication", {"target": "eu-west-1", "enabled": "no"}, "enabled must be a bool"),
    ("nonsense", {}, "unknown control action"),
])
def test_bad_arguments_are_refused_and_break_nothing(emu, action, body, message):
    code, doc = _send(emu, action, body=json.dumps(body),
                      headers={"Content-Type": "application/json", "X-Gtcheck-Token": emu.token})
    assert code in (400, 404) and message in doc["error"], doc
    assert _faults(emu) == NO_FAULTS
    assert Control(emu.endpoint).status()["regions"] == REGIONS     # every later call still answers


def test_non_object_and_oversized_bodies(emu):
    ok = {"Content-Type": "application/json", "X-Gtcheck-Token": emu.token}
    assert _send(emu, "isolate", body="[1]", headers=ok)[0] == 400
    assert _send(emu, "isolate", body="{nope", headers=ok)[0] == 400
    assert _send(emu, "isolate", body='{"region": "' + "x" * 70_000 + '"}', headers=ok)[0] == 413
    assert _faults(emu) == NO_FAULTS


def test_the_token_file_is_private_found_by_the_cli_and_removed_at_stop(capsys, monkeypatch):
    from tests.clihelp import run_cli

    monkeypatch.delenv(tokens.ENV_TOKEN, raising=False)
    emu = EmulatorProcess(REGIONS, delay="constant(10ms)")
    try:
        path = tokens.token_path(emu.port)
        assert path.read_text().strip() == emu.token
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        # the owner's command line finds it without being told
        code, out, _ = run_cli(["emulator", "isolate", "eu-west-1", "--port", emu.port], capsys)
        assert code == 0 and json.loads(out)["isolated"] == ["eu-west-1"]
        # a wrong token given explicitly (or in the environment) is refused, saying how to fix it
        code, _, err = run_cli(["emulator", "heal", "--port", emu.port, "--token", "wrong"], capsys)
        assert code == 254 and "token" in err and "--token" in err
        monkeypatch.setenv(tokens.ENV_TOKEN, "wrong")
        assert run_cli(["emulator", "heal", "--port", emu.port], capsys)[0] == 254
        monkeypatch.setenv(tokens.ENV_TOKEN, emu.token)
        code, out, _ = run_cli(["emulator", "heal", "--port", emu.port], capsys)
        assert code == 0 and json.loads(out)["isolated"] == []
        # reading status needs no token at all
        monkeypatch.setenv(tokens.ENV_TOKEN, "wrong")
        assert run_cli(["emulator", "status", "--port", emu.port], capsys)[0] == 0
    finally:
        assert emu.stop() == 0
    assert not tokens.token_path(emu.port).exists()


def test_a_token_file_others_can_read_is_not_trusted(tmp_path, monkeypatch):
    from gtcheck.kernel.errors import UserError

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv(tokens.ENV_TOKEN, raising=False)
    path = tokens.write_token(4242, "secret")
    assert tokens.find_token(4242) == "secret"
    os.chmod(path, 0o644)
    with pytest.raises(UserError, match="not private"):
        tokens.read_token(4242)
    os.chmod(path, 0o600)
    os.chmod(path.parent, 0o755)
    with pytest.raises(UserError, match="not private"):
        tokens.read_token(4242)
    os.chmod(path.parent, 0o700)
    tokens.remove_token(4242, "another process's")
    assert path.exists()                      # only the writer's own token is removed
    tokens.remove_token(4242, "secret")
    assert not path.exists() and tokens.find_token(4242) is None
