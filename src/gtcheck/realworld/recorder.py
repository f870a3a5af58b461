"""Record what boto3 DynamoDB clients see as a gt-history (../shared/HISTORY-FORMAT.md).

``Recorder.attach(client)`` patches the data-plane methods of one low-level boto3 DynamoDB
client *instance* (the client stays a real botocore client; other methods are untouched).
Every call becomes operations whose meaning the checker can judge; docs/emulator.md ("The
recorder") has the table of what each call records. In short:

* single-item calls (:mod:`.record_items`): GetItem is a ``read``; PutItem a ``write`` (a
  ``cas [null, item]`` when its condition is exactly "the item does not exist"); UpdateItem
  an ``update`` whose invocation carries the UpdateExpression verbatim and whose ``ok``
  carries the whole item after it, whatever ``ReturnValues`` the application asked (the
  recorder asks DynamoDB for what it needs and hands back exactly what was asked);
  DeleteItem a ``delete``. Conditions are written verbatim (format rule 11); the legacy
  ``Expected`` and ``AttributeUpdates`` as their equivalent expressions (:mod:`.translate`);
* multi-item calls (:mod:`.record_many`): TransactWriteItems, TransactGetItems,
  BatchWriteItem and BatchGetItem, one operation per item, each on its own process
  (``"<pid>.<i>"``) with the call's real window;
* Query and Scan (:mod:`.record_pages`): each page is a read of every item it returned
  and, where the page proves it, of the absence of the keys the history knows;
* PartiQL: statements that only read pass through unrecorded; a statement that may write
  raises :class:`UnrecordableCall` before anything is sent.

**Version token.** Every written item gets a unique attribute (``gt_token`` by default,
``"<recorder id>-<n>"``) so that versions of a key can be told apart (format rule 4). Pass
``token_attribute=None`` when the application already writes a unique version attribute.

**Outcomes.** ``ok`` on success. ``fail`` when the request certainly had no effect: any 4xx
answer (ConditionalCheckFailed, TransactionCanceled, ValidationException, throttling
(ProvisionedThroughputExceeded, ThrottlingException, RequestLimitExceeded: refused before
any work), ResourceNotFound, AccessDenied...) and client-side ParamValidationError (never
sent). ``info`` when it may have taken effect: 5xx answers (InternalServerError,
ServiceUnavailable), TransactionInProgress, timeouts, connection errors, anything else.

**Timestamps.** Against the gtcheck emulator, each write's completion carries the ``ts`` and
``origin`` the emulator stamped (its ``x-gtcheck-versions`` response header), so the checker
orders writes exactly; real DynamoDB sends no such header and the fields are left out.
``emulator_ts=False`` leaves them out always.

**Keys.** ``"<table>/<hash key value>"`` or ``"<table>/<hash>/<range>"``; the key schema
comes from one DescribeTable per table (not recorded) unless given as ``key_schema``.

**Times and order.** ``time.monotonic_ns()`` from the recorder's creation, taken under the
recorder's lock when the event takes its place in the history, so times never decrease
down the file. A Query or Scan page learns which items it read only from its answer: it
takes its place (and its invocation time) when it is sent, and its operations fill that
place when the answer comes. An event's ``index`` is its position in the history written;
it is final once the recorder is closed. The recorder is thread-safe; a process is one
(thread, client) pair.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

from gtcheck.realworld import record_items, record_many, record_pages
from gtcheck.realworld.recording import INFO_CODES, Recording, UnrecordableCall, classify_error, error_name

__all__ = ["Recorder", "UnrecordableCall", "classify_error", "error_name", "INFO_CODES", "HANDLERS"]

_READ_ONLY_PARTIQL = re.compile(r"\s*SELECT\b", re.IGNORECASE)


class Recorder(Recording):
    """One history per run; attach it to one boto3 client per region."""

    # -- attaching ------------------------------------------------------------------------------
    def attach(self, client: Any) -> Any:
        """Record every data-plane call of ``client`` (patched in place; returned)."""
        if getattr(client, "_gtcheck_recorder", None) is self:
            return client
        region = client.meta.region_name
        if region not in self.regions:
            raise ValueError(f"client region {region!r} is not one of the recorder's regions {self.regions}")
        client._gtcheck_original = {name: getattr(client, name) for name in HANDLERS if hasattr(client, name)}
        for name in client._gtcheck_original:
            setattr(client, name, functools.partial(HANDLERS[name], self, client, region))
        client._gtcheck_recorder = self
        return client

    def detach(self, client: Any) -> Any:
        orig = getattr(client, "_gtcheck_original", None)
        if orig:
            for name, fn in orig.items():
                setattr(client, name, fn)
            del client._gtcheck_original
            del client._gtcheck_recorder
        return client


# -- PartiQL ------------------------------------------------------------------------------------------
_PARTIQL_INSTEAD = ("Use GetItem/PutItem/UpdateItem/DeleteItem, TransactWriteItems or Query while "
                    "recording (they are recorded exactly), or make this call on a client the recorder "
                    "is not attached to; a write missing from the history makes the reads after it "
                    "look wrong")


def _partiql(name: str, call: str, statements: Callable[[dict[str, Any]], list[str]]) -> Callable[..., Any]:
    def handler(rec: Recorder, client: Any, region: str, **kw: Any) -> Any:
        if all(_READ_ONLY_PARTIQL.match(s or "") for s in statements(kw)):
            return rec.original(client, name)(**kw)       # a SELECT reads only: not recorded
        raise UnrecordableCall(call, "a PartiQL statement that writes is not translated into the history",
                               _PARTIQL_INSTEAD)
    return handler


HANDLERS: dict[str, Callable[..., Any]] = {
    "get_item": record_items.get_item, "put_item": record_items.put_item,
    "update_item": record_items.update_item, "delete_item": record_items.delete_item,
    "transact_write_items": record_many.transact_write_items,
    "transact_get_items": record_many.transact_get_items,
    "batch_write_item": record_many.batch_write_item, "batch_get_item": record_many.batch_get_item,
    "query": record_pages.query, "scan": record_pages.scan,
    "execute_statement": _partiql("execute_statement", "ExecuteStatement",
                                  lambda kw: [kw.get("Statement", "")]),
    "batch_execute_statement": _partiql("batch_execute_statement", "BatchExecuteStatement",
                                        lambda kw: [s.get("Statement", "") for s in kw.get("Statements", [])]),
    "execute_transaction": _partiql("execute_transaction", "ExecuteTransaction",
                                    lambda kw: [s.get("Statement", "") for s in kw.get("TransactStatements", [])]),
}


