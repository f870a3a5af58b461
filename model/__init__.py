"""The executable model of DynamoDB global tables and its deterministic simulator.

``spec`` holds the item semantics as four small functions (partition, init, step,
describe); ``lww`` the conflict order; ``simulator`` drives regions, replication,
clocks and faults from one seed and streams a history plus its ground truth.
"""

from gtcheck.kernel.native import COMPILED, REASON, implementation

__all__ = ["COMPILED", "REASON", "implementation"]
