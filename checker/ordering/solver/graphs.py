"""The four graph algorithms of the solver, over a segment's precedence items: a
topological sort that orders the writes or finds a cycle (:func:`toposort`), the small sets
of guards that together close a cycle (:func:`conflicts`, learned clauses for the lazy
engine), strongly connected components (:func:`scc`), and one cycle, as items, for
explanations (:func:`find_cycle`)."""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from typing import TYPE_CHECKING

from gtcheck.checker.operations import OK
from gtcheck.checker.ordering.solver.context import completion_time

if TYPE_CHECKING:
    from gtcheck.checker.ordering.solver.segments import Segment


def toposort(g: Segment, items: list, eff: set[int]) -> tuple[list[int] | None, list | None]:
    """Kahn's algorithm, lowest (earliest-completing) write first; aux nodes eagerly.
    Returns (effective write nodes in order, None), or (None, alive) on a cycle, alive
    marking the nodes left over (the cycles and what follows them)."""
    n = g.n
    adj: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for u, v in zip(g.aux_u, g.aux_v):
        adj[u].append(v)
        indeg[v] += 1
    for it in items:
        adj[it[0]].append(it[1])
        indeg[it[1]] += 1
    ctx = g.ctx
    keys = []
    for i in range(g.nw):
        o = ctx.op[g.wops[i]]
        keys.append((completion_time(o) if o.outcome == OK else o.invoke_time, o.index))
    heap = []
    aux_ready = []
    for i in range(n):
        if indeg[i] == 0:
            if i < g.nw:
                heap.append((keys[i], i))
            else:
                aux_ready.append(i)
    heapq.heapify(heap)
    out = []
    seen = 0
    while heap or aux_ready:
        if aux_ready:
            x = aux_ready.pop()
        else:
            x = heapq.heappop(heap)[1]
            if x in eff:
                out.append(x)
        seen += 1
        for y in adj[x]:
            indeg[y] -= 1
            if indeg[y] == 0:
                if y < g.nw:
                    heapq.heappush(heap, (keys[y], y))
                else:
                    aux_ready.append(y)
    if seen < n:
        return None, [d > 0 for d in indeg]
    return out, None


def conflicts(g: Segment, items: list, alive: list, limit: int = 24) -> list[frozenset]:
    """Guard sets of a few short cycles in the left-over part of a failed toposort: each
    is a combination of guards that cannot all hold (a clause to learn)."""
    n = g.n
    eu: list[int] = []
    ev: list[int] = []
    eg: list = []
    for u, v in zip(g.aux_u, g.aux_v):
        if alive[u] and alive[v]:
            eu.append(u)
            ev.append(v)
            eg.append(())
    for it in items:
        if alive[it[0]] and alive[it[1]]:
            eu.append(it[0])
            ev.append(it[1])
            eg.append(it[3])
    # what is left after Kahn also holds everything downstream of the cycles: peel off
    # nodes without a surviving successor so only cycles and paths between them remain
    outdeg = [0] * n
    rin: list[list[int]] = [[] for _ in range(n)]
    for e, u in enumerate(eu):
        outdeg[u] += 1
        rin[ev[e]].append(e)
    keep = list(alive)
    stack = [x for x in range(n) if keep[x] and outdeg[x] == 0]
    while stack:
        x = stack.pop()
        keep[x] = False
        for e in rin[x]:
            u = eu[e]
            outdeg[u] -= 1
            if outdeg[u] == 0 and keep[u]:
                stack.append(u)
    adj: list[list[int]] = [[] for _ in range(n)]
    for e, u in enumerate(eu):
        if keep[u] and keep[ev[e]]:
            adj[u].append(e)
    comp = scc(n, [x for x in range(n) if keep[x]], adj, ev)
    by_comp: dict[int, list[int]] = defaultdict(list)
    for e in range(len(eu)):
        if eg[e] and keep[eu[e]] and comp[eu[e]] >= 0 and comp[eu[e]] == comp[ev[e]]:
            by_comp[comp[eu[e]]].append(e)
    out: list[frozenset] = []
    seen: set = set()
    comps = sorted(by_comp, key=lambda c: len(by_comp[c]))
    per = max(1, limit // max(1, len(comps)))
    for c in comps:
        cand = by_comp[c]
        step = max(1, len(cand) // per)
        for e in cand[::step][:per]:
            u, v = eu[e], ev[e]
            prev = {v: -1}
            dq = deque([v])
            while dq and u not in prev:
                x = dq.popleft()
                for f in adj[x]:
                    y = ev[f]
                    if y not in prev and comp[y] == c:
                        prev[y] = f
                        dq.append(y)
            if u not in prev and u != v:
                continue
            gs = set(eg[e])
            x = u
            while x != v:
                f = prev[x]
                gs.update(eg[f])
                x = eu[f]
            fs = frozenset(gs)
            if fs not in seen:
                seen.add(fs)
                out.append(fs)
    if not out:         # a cycle with no guard at all (cannot happen once hard is acyclic)
        out.append(frozenset())
    return out


def scc(n: int, nodes: list[int], adj: list[list[int]], ev: list[int]) -> list[int]:
    """Tarjan's strongly connected components, iteratively: node -> component (-1 if the
    node was not given)."""
    index = [-1] * n
    low = [0] * n
    comp = [-1] * n
    on = [False] * n
    stack: list[int] = []
    counter = 0
    ncomp = 0
    for root in nodes:
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on[root] = True
        while work:
            x, i = work[-1]
            edges = adj[x]
            if i < len(edges):
                work[-1] = (x, i + 1)
                y = ev[edges[i]]
                if index[y] < 0:
                    index[y] = low[y] = counter
                    counter += 1
                    stack.append(y)
                    on[y] = True
                    work.append((y, 0))
                elif on[y] and index[y] < low[x]:
                    low[x] = index[y]
                continue
            work.pop()
            if work:
                p = work[-1][0]
                if low[x] < low[p]:
                    low[p] = low[x]
            if low[x] == index[x]:
                while True:
                    y = stack.pop()
                    on[y] = False
                    comp[y] = ncomp
                    if y == x:
                        break
                ncomp += 1
    return comp


def find_cycle(g: Segment, items: list, lead_kinds: tuple) -> list[tuple]:
    """A short cycle in the graph of aux edges + items, as [(u, v, tag)] edges, preferring
    one through an item whose tag kind is in lead_kinds."""
    n = g.n
    edges = [(u, v, None) for u, v in zip(g.aux_u, g.aux_v)] + \
            [(it[0], it[1], it[2]) for it in items]
    adj: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for e, (u, v, _t) in enumerate(edges):
        adj[u].append(e)
        indeg[v] += 1
    stack = [i for i in range(n) if indeg[i] == 0]
    while stack:
        x = stack.pop()
        for e in adj[x]:
            y = edges[e][1]
            indeg[y] -= 1
            if indeg[y] == 0:
                stack.append(y)
    alive = [d > 0 for d in indeg]
    if not any(alive):
        return []
    cand = [e for e, (u, v, t) in enumerate(edges)
            if alive[u] and alive[v] and t is not None and t[0] in lead_kinds]
    if not cand:
        cand = [e for e, (u, v, t) in enumerate(edges) if alive[u] and alive[v]]
    best = None
    for e in cand[:50]:
        u, v, _t = edges[e]
        # BFS from v back to u inside the cyclic part
        prev = {v: None}
        dq = deque([v])
        found = False
        while dq and not found:
            x = dq.popleft()
            for f in adj[x]:
                y = edges[f][1]
                if alive[y] and y not in prev:
                    prev[y] = f
                    if y == u:
                        found = True
                        break
                    dq.append(y)
        if u == v:
            found = True
        if not found:
            continue
        path = []
        x = u
        while x != v:
            f = prev[x]
            path.append(f)
            x = edges[f][0]
        path.reverse()
        cyc = [e] + path
        nw_count = sum(1 for f in cyc if edges[f][1] < g.nw)
        if best is None or nw_count < best[0]:
            best = (nw_count, cyc)
            if nw_count <= 2:
                break
    if best is None:
        return []
    return [edges[f] for f in best[1]]
