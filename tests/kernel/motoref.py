"""moto as the reference beside gtcheck's expression evaluator: the same condition or update
run through boto3 against moto's DynamoDB, in process (``mock_aws``; no server, no network).

Outcomes are normalised to what the evaluator answers: a condition is ``True`` (the
conditional delete went through), ``False`` (ConditionalCheckFailedException) or
``"rejected"`` (ValidationException); an update is the new item (evaluator values),
``False`` or ``"rejected"``. moto sometimes fails with a Python exception of its own (it
compares values with Python's operators); that is ``("crash", exception name)``.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from gtcheck.kernel import attrvalues as av
from tests.kernel.exprgen import KEY, Case

TABLE = "gtcheck-expr"


class Moto:
    """One moto DynamoDB table, started on entry and stopped on exit."""

    def __enter__(self) -> "Moto":
        self._mock = mock_aws()
        self._mock.start()
        self.client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        self.client.create_table(
            TableName=TABLE, KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST")
        return self

    def __exit__(self, *exc: Any) -> None:
        self._mock.stop()

    def _prepare(self, item: dict[str, Any] | None) -> None:
        if item is None:
            self.client.delete_item(TableName=TABLE, Key={KEY: {"S": "k"}})
        else:
            self.client.put_item(TableName=TABLE, Item=av.item_to_wire(item))

    def _params(self, case: Case) -> dict[str, Any]:
        p: dict[str, Any] = {}
        if case.names:
            p["ExpressionAttributeNames"] = dict(case.names)
        if case.values:
            p["ExpressionAttributeValues"] = {k: av.to_wire(v) for k, v in case.values.items()}
        return p

    def run(self, case: Case) -> Any:
        self._prepare(case.item)
        try:
            if case.kind == "condition":
                self.client.delete_item(TableName=TABLE, Key={KEY: {"S": "k"}},
                                        ConditionExpression=case.text, **self._params(case))
                return True
            out = self.client.update_item(TableName=TABLE, Key={KEY: {"S": "k"}},
                                          UpdateExpression=case.text, ReturnValues="ALL_NEW",
                                          **self._params(case))
            attrs = out.get("Attributes", {})
            empty = [k for k, v in attrs.items()
                     if len(v) == 1 and next(iter(v)) in ("SS", "NS", "BS") and not next(iter(v.values()))]
            if empty:   # moto holds an empty set (see aliasing); DynamoDB never stores one
                return ("empty-set-kept", av.item_from_wire(
                    {k: v for k, v in attrs.items() if k not in empty}))
            return av.item_from_wire(attrs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                return False
            if code == "ValidationException":
                return ("rejected", exc.response.get("Error", {}).get("Message", ""))
            return ("crash", code)
        except Exception as exc:  # moto's own failures surface as Python exceptions
            if any(c.__name__ in ("MockValidationException", "IncorrectOperandType")
                   for c in type(exc).__mro__):
                return ("rejected", str(exc))    # moto refusing, but not through HTTP
            return ("crash", type(exc).__name__)
