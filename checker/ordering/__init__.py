"""A key's conflict order: which version each read saw, and which write wins (rules 2, 5
and 10 of the history format).

* :mod:`.key_order` -- the result, :class:`~.key_order.KeyOrder`, whichever path made it;
* :mod:`.timestamps` -- the timestamp path, O(n log n), for keys whose ok writes all carry
  ``ts``;
* :mod:`.inversions` -- rule 10: the real-time constraints the recorded ``ts`` contradict
  (``ts-inversion``), found first on both paths and left out;
* :mod:`.solver` -- the solver path (z3 and graph algorithms) for keys whose writes lack
  ``ts``, and :mod:`.solver.explain`, its contradictions in words.

:func:`.paths.order_key` picks the path for one key. This package's ``__init__`` imports
nothing, so that importing the result shape (``key_order``) pulls in no path.
"""
