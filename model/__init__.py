"""The executable model of DynamoDB global tables and its deterministic simulator.

The item semantics (partition, init, step, describe) are the kernel's ``itemspec``,
shared with the checker; ``lww`` holds the conflict order; ``simulator`` drives regions,
replication, clocks and faults from one seed and streams a history plus its ground truth.
"""

from gtcheck.kernel.native import COMPILED, REASON, implementation

__all__ = ["COMPILED", "REASON", "implementation"]
