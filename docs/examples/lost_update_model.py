"""A complete model of the protocol gtcheck's drivers run (docs/model.md, "Write your own
model"): two clients each increment a shared counter by reading it and then writing what
they read plus one, not atomically. Check it:

    gtcheck explore --model docs/examples/lost_update_model.py:LostUpdate

It finds the lost update: both read 0, both write 1 (exit 1, with the shortest path).
"""

from gtcheck.model.protocol import Model, Property

CLIENTS = 2


class LostUpdate(Model):
    """A state is a tuple: (counter, each client's step 0-2, each client's value read)."""

    def init(self):
        return [(0,) + (0,) * CLIENTS + (None,) * CLIENTS]

    def actions(self, state):
        steps = state[1:1 + CLIENTS]
        return [(c, "read" if step == 0 else "write") for c, step in enumerate(steps) if step < 2]

    def next(self, state, action):
        c, what = action
        counter, steps, seen = state[0], list(state[1:1 + CLIENTS]), list(state[1 + CLIENTS:])
        if what == "read":
            seen[c] = counter
        else:
            counter = seen[c] + 1
        steps[c] += 1
        event = {"process": c, "f": what, "value": counter}
        return (counter, *steps, *seen), [event]

    def label(self, action):
        return f"client {action[0]} {action[1]}s"

    def properties(self):
        return [Property.always("the counter never exceeds the increments",
                                lambda model, s: None if s[0] <= CLIENTS else f"counter {s[0]}"),
                Property.at_end("every increment is counted",
                                lambda model, s: None if s[0] == CLIENTS else
                                f"the counter ends at {s[0]} after {CLIENTS} increments")]
