"""The emulator's DynamoDB wire protocol: reading a request safely and answering errors the way
DynamoDB does.

DynamoDB speaks JSON 1.0 over HTTP POST (``X-Amz-Target: DynamoDB_20120810.<Operation>``) and
answers every error with a JSON body ``{"__type": "com.amazonaws.dynamodb.v20120810#<Name>",
"message": ...}`` (``com.amazon.coral.service#<Name>`` for what its front end refuses: a body
that does not deserialize, an unknown operation, a missing or unknown signature). moto's server answers some malformed requests with werkzeug's HTML 500
page and a traceback on stderr; the emulator checks a request before moto sees it:

| what is wrong | status | ``__type`` |
| --- | --- | --- |
| ``Content-Length`` not a non-negative integer | 400 | ``SerializationException`` |
| body over ``MAX_BODY_BYTES`` (16 MiB, DynamoDB's request limit) | 413 | ``RequestEntityTooLargeException`` |
| body cut short (the client sent less than ``Content-Length``) | 400 | ``SerializationException`` |
| body not JSON, or not a JSON object | 400 | ``SerializationException`` |
| ``X-Amz-Target`` names no DynamoDB operation | 400 | ``UnknownOperationException`` |
| a field of the wrong JSON type (e.g. ``"TableName": 5``) | 400 | ``SerializationException`` |
| a required field missing | 400 | ``ValidationException`` |
| anything moto itself fails on | 500 | ``InternalServerError`` (message only, no traceback) |

The shape check walks the request against botocore's own model of the DynamoDB API (the one
boto3 sends with), so it refuses exactly the wrong types and missing required fields, and
leaves every value check (lengths, patterns, enums) to moto, as before.
"""

from __future__ import annotations

import json
import uuid
import zlib
from typing import Any

TARGET_PREFIX = "DynamoDB_20120810."
MAX_BODY_BYTES = 16 * 1024 * 1024
ERROR_NAMESPACE = "com.amazonaws.dynamodb.v20120810#"
# errors DynamoDB's front end (Coral) answers before the service sees the request carry its
# namespace; clients read only the name after '#'
CORAL_ERRORS = {name: "com.amazon.coral.service#" for name in (
    "SerializationException", "UnknownOperationException", "MissingAuthenticationTokenException",
    "UnrecognizedClientException")}

Response = tuple[str, list[tuple[str, str]], bytes]

_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 413: "Payload Too Large", 415: "Unsupported Media Type",
            500: "Internal Server Error", 503: "Service Unavailable"}


class WireError(Exception):
    """A request the emulator answers with a DynamoDB JSON error instead of passing it on."""

    def __init__(self, status: int, name: str, message: str, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.name, self.message, self.close = status, name, message, close

    def response(self) -> Response:
        return error(self.status, self.name, self.message, close=self.close)


def error(status: int, name: str, message: str, close: bool = False) -> Response:
    """DynamoDB's error answer: JSON ``__type`` and ``message``, ``x-amzn-ErrorType``."""
    data = json.dumps({"__type": CORAL_ERRORS.get(name, ERROR_NAMESPACE) + name, "message": message}).encode()
    headers = [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(data))),
               ("x-amzn-ErrorType", name), ("x-amzn-RequestId", uuid.uuid4().hex),
               ("x-amz-crc32", str(zlib.crc32(data) & 0xFFFFFFFF))]
    if close:
        headers.append(("Connection", "close"))
    return f"{status} {_REASONS.get(status, 'Error')}", headers, data


def json_response(doc: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    """A 200 answer carrying ``doc``, with moto's headers when given (length and checksum redone)."""
    data = json.dumps(doc).encode()
    return "200 OK", fix_length(headers or [("Content-Type", "application/x-amz-json-1.0")], data), data


def fix_length(headers: list[tuple[str, str]], data: bytes) -> list[tuple[str, str]]:
    """``headers`` with Content-Length and the CRC32 DynamoDB clients check redone for ``data``."""
    return [(k, v) for k, v in headers if k.lower() not in ("content-length", "x-amz-crc32")] + [
        ("Content-Length", str(len(data))), ("x-amz-crc32", str(zlib.crc32(data) & 0xFFFFFFFF))]


def read_body(environ: dict[str, Any], limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, never more than ``limit`` bytes, never read past what was announced."""
    raw = environ.get("CONTENT_LENGTH") or ""
    text = raw.strip()
    if not text:
        return b""
    if not text.isdigit():
        raise WireError(400, "SerializationException",
                        f"Content-Length {raw[:40]!r} is not a non-negative integer", close=True)
    length = int(text)
    if length > limit:
        raise WireError(413, "RequestEntityTooLargeException",
                        f"the request body of {length} bytes is over the limit of {limit} bytes", close=True)
    if length == 0:
        return b""
    try:
        data = environ["wsgi.input"].read(length)
    except (OSError, ValueError) as exc:
        raise WireError(400, "SerializationException", f"could not read the request body: {exc}", close=True) from None
    if len(data) < length:
        raise WireError(400, "SerializationException",
                        f"the request body ended after {len(data)} of its {length} bytes", close=True)
    return data


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object (an empty body is ``{}``, as moto reads it)."""
    if not body.strip():
        return {}
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError(400, "SerializationException", f"the request body is not JSON: {exc}") from None
    except RecursionError:
        # the JSON reader's own depth limit (about 1,000 levels): far past DynamoDB's 32
        raise WireError(400, "ValidationException", "Nesting Levels have exceeded supported limits") from None
    if not isinstance(doc, dict):
        raise WireError(400, "SerializationException",
                        f"the request body is a JSON {type(doc).__name__}, not an object")
    return doc
