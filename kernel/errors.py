"""Errors that reach the user as a message and an exit code, never a traceback."""

from __future__ import annotations

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNKNOWN = 2
EXIT_BAD_INPUT = 254
EXIT_INTERNAL = 255


class UserError(Exception):
    """Bad input or arguments: printed as one or more lines, exit code 254.

    ``where`` names the file and line (``histories/x.jsonl:12``) or the scenario
    field (``scenario.toml: workload.rate``); ``hint`` says how to fix it.
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ManyUserErrors(UserError):
    """Several problems found in one input (the validator reports all of them)."""

    def __init__(self, errors: list[UserError], limit: int = 50):
        self.errors = errors
        shown = errors[:limit]
        lines = [e.render() for e in shown]
        if len(errors) > limit:
            lines.append(f"... and {len(errors) - limit} more problems")
        super().__init__("\n".join(lines))

    def render(self) -> str:  # the joined lines already carry their places
        return self.message
