"""The history format's vocabulary (HISTORY-FORMAT.md): the words every layer shares.

The model writes these words, the checker reads them; neither defines them.
"""

from __future__ import annotations

FORMAT_NAME = "gt-history"
FORMAT_VERSION = 1

READ, WRITE, UPDATE, DELETE, CAS = "read", "write", "update", "delete", "cas"
FUNCTIONS = (READ, WRITE, UPDATE, DELETE, CAS)
WRITE_FUNCTIONS = (WRITE, UPDATE, DELETE, CAS)
INVOKE, OK, FAIL, INFO = "invoke", "ok", "fail", "info"
NEMESIS = "nemesis"
NEMESIS_FUNCTIONS = (
    "partition", "heal", "region-down", "region-up", "clock-skew", "replication-delay",
)
MODES = ("eventual", "strong")
