"""Secondary suppression: no suppressed cell may be recoverable from the others.

A table with margins is a system of linear equations: every row and every column,
margin included, sums to its total. Take the suppressed cells as unknowns and the
lines as equations; draw the unknowns as edges of a graph whose vertices are the
rows and columns. A suppressed cell is exactly recoverable from the published
cells if and only if its edge lies on no cycle of that graph, that is, if it is a
*bridge* (the null space of a graph's incidence matrix is its cycle space; the
margin signs keep every cycle balanced). A lone suppressed cell in a line is the
simplest bridge; two suppressed cells joined to the rest by a single cell are
another.

Method (greedy, as in the "hypercube" family of τ-ARGUS but restricted to two
dimensions): repeat until the graph has no bridge — for each bridge, suppress the
cheapest published cell (smallest value, interior cells before margins) in the
line at its lighter end. Lone cells are handled first for the whole table at once
with array operations; the remaining bridges are found with Tarjan's linear
algorithm. The result is safe against exact recovery by differencing; it is not
optimal (more cells may be suppressed than a linear programme would choose) and
it does not audit the width of the intervals an attacker can infer.

Without displayed margins the totals are assumed known (they are usually
published elsewhere) for every line of at least two cells; a line of one cell
has no equation of its own, which is modelled by merging its vertex into a single
"ground" vertex.
"""

from __future__ import annotations

import numpy as np


def _lines(
    shape: tuple[int, int], margins: bool, assume_known: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each row and each column carries an equation."""
    rows, columns = shape
    if margins:
        return np.ones(rows, dtype=bool), np.ones(columns, dtype=bool)
    known = assume_known
    return (
        np.full(rows, known and columns >= 2, dtype=bool),
        np.full(columns, known and rows >= 2, dtype=bool),
    )


def _on_rectangles(suppressed: np.ndarray) -> np.ndarray | None:
    """For each suppressed cell (in ``np.nonzero`` order), whether it is a corner
    of a rectangle of suppressed cells, so lies on a cycle and is no bridge.
    With S the 0/1 matrix, the rectangles through (r, c) number
    (S Sᵀ S)[r, c] - deg(r) - deg(c) + 1: two matrix products, far cheaper than
    a graph search over a million cells. None when the products are too big."""
    rows, columns = suppressed.shape
    small = min(rows, columns)
    if small * small > 4_000_000 or rows * columns * small > 4_000_000_000:
        return None
    matrix = suppressed.astype(np.float32)
    paths = matrix @ matrix.T @ matrix if rows <= columns else matrix @ (matrix.T @ matrix)
    degree_rows = matrix.sum(axis=1, keepdims=True)
    degree_cols = matrix.sum(axis=0, keepdims=True)
    rectangles = paths - degree_rows - degree_cols + 1
    return np.asarray(rectangles[suppressed] > 0.5)


def _components(u: np.ndarray, v: np.ndarray, vertices: int) -> np.ndarray | None:
    """Connected-component label of every vertex (label propagation with
    pointer jumping); None if it does not settle quickly (long chains)."""
    labels = np.arange(vertices)
    for _ in range(64):
        low = np.minimum(labels[u], labels[v])
        before = labels.copy()
        np.minimum.at(labels, u, low)
        np.minimum.at(labels, v, low)
        labels = labels[labels]
        if np.array_equal(labels, before):
            return labels
    return None


def bridges(
    suppressed: np.ndarray, row_eq: np.ndarray, col_eq: np.ndarray
) -> list[tuple[int, int]]:
    """The suppressed cells that the line equations determine exactly."""
    rows, columns = suppressed.shape
    cell_rows, cell_cols = np.nonzero(suppressed)
    ground = rows + columns
    u = np.where(row_eq[cell_rows], cell_rows, ground)
    v = np.where(col_eq[cell_cols], rows + cell_cols, ground)
    keep = u != v  # an unknown with no equation at either end is never determined
    vertices = ground + 1
    if row_eq.all() and col_eq.all() and len(u) > 10_000:
        # Contract the cells that sit on rectangles (never bridges): contracting
        # non-bridges keeps every other edge's status. Tarjan then runs on what
        # is left, usually nothing.
        on_cycle = _on_rectangles(suppressed)
        if on_cycle is not None:
            labels = _components(u[on_cycle], v[on_cycle], vertices)
            if labels is not None:
                u, v = labels[u], labels[v]
                keep = ~on_cycle & (u != v)
    edge_ids = np.nonzero(keep)[0]
    u, v = u[keep], v[keep]
    ends = np.concatenate([u, v])
    others = np.concatenate([v, u])
    ids = np.concatenate([np.arange(len(u)), np.arange(len(u))])
    order = np.argsort(ends, kind="stable")
    adjacency_to = others[order].tolist()
    adjacency_id = ids[order].tolist()
    starts = np.searchsorted(ends[order], np.arange(vertices + 1)).tolist()

    discovered = [-1] * vertices
    low = [0] * vertices
    found: list[int] = []
    clock = 0
    for root in range(vertices):
        if discovered[root] != -1 or starts[root] == starts[root + 1]:
            continue
        discovered[root] = low[root] = clock
        clock += 1
        stack = [(root, -1, starts[root])]
        while stack:
            vertex, parent_edge, cursor = stack[-1]
            if cursor < starts[vertex + 1]:
                stack[-1] = (vertex, parent_edge, cursor + 1)
                target, edge = adjacency_to[cursor], adjacency_id[cursor]
                if edge == parent_edge:
                    continue
                if discovered[target] == -1:
                    discovered[target] = low[target] = clock
                    clock += 1
                    stack.append((target, edge, starts[target]))
                else:
                    low[vertex] = min(low[vertex], discovered[target])
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[vertex])
                    if low[vertex] > discovered[parent]:
                        found.append(parent_edge)
    cells = edge_ids[np.asarray(found, dtype=np.int64)] if found else np.array([], dtype=np.int64)
    return [(int(cell_rows[k]), int(cell_cols[k])) for k in sorted(cells.tolist())]


def _cheapest(costs: np.ndarray, taken: np.ndarray) -> int:
    masked = np.where(taken, np.inf, costs)
    index = int(np.argmin(masked))
    return -1 if not np.isfinite(masked[index]) else index


def protect(
    primary: np.ndarray,
    cost: np.ndarray,
    *,
    margins: bool,
    assume_margins_known: bool,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Return (the secondary cells to suppress, cells still recoverable).

    ``primary`` and ``cost`` have the displayed table's shape; with ``margins``
    the last row and the last column are the totals.
    """
    suppressed = primary.astype(bool).copy()
    if not suppressed.any():
        return np.zeros_like(suppressed), []
    rows, columns = suppressed.shape
    row_eq, col_eq = _lines(suppressed.shape, margins, assume_margins_known)
    # Costs become ranks (cheapest first), margins after every interior cell.
    size = rows * columns
    flat = np.nan_to_num(np.abs(cost.astype(float)), nan=0.0, posinf=np.finfo(float).max).ravel()
    ranks = np.empty(size)
    ranks[np.argsort(flat, kind="stable")] = np.arange(size)
    costs = ranks.reshape(rows, columns)
    if margins:
        costs[-1, :] += size
        costs[:, -1] += size

    remaining: list[tuple[int, int]] = []
    for _ in range(size + 1):
        changed = False
        # Lone suppressed cells, a whole direction at a time. A partner that also
        # sits in a lone line of the other direction fixes both: it comes first.
        while True:
            added = False
            lone_rows = np.nonzero(row_eq & (suppressed.sum(axis=1) == 1))[0]
            if len(lone_rows):
                lone_cols = col_eq & (suppressed.sum(axis=0) == 1)
                block = costs[lone_rows] + np.where(lone_cols, 0.0, 2.0 * size)[None, :]
                block = np.where(suppressed[lone_rows], np.inf, block)
                best = np.argmin(block, axis=1)
                ok = np.isfinite(block[np.arange(len(lone_rows)), best])
                if ok.any():
                    suppressed[lone_rows[ok], best[ok]] = True
                    added = True
            lone_cols_index = np.nonzero(col_eq & (suppressed.sum(axis=0) == 1))[0]
            if len(lone_cols_index):
                lone_rows_mask = row_eq & (suppressed.sum(axis=1) == 1)
                block = (
                    costs[:, lone_cols_index] + np.where(lone_rows_mask, 0.0, 2.0 * size)[:, None]
                )
                block = np.where(suppressed[:, lone_cols_index], np.inf, block)
                best = np.argmin(block, axis=0)
                ok = np.isfinite(block[best, np.arange(len(lone_cols_index))])
                if ok.any():
                    suppressed[best[ok], lone_cols_index[ok]] = True
                    added = True
            if not added:
                break
            changed = True
        remaining = bridges(suppressed, row_eq, col_eq)
        if not remaining:
            return suppressed & ~primary.astype(bool), []
        touched_rows: set[int] = set()
        touched_cols: set[int] = set()
        for row, column in remaining:
            if row in touched_rows or column in touched_cols:
                continue
            row_count = int(suppressed[row].sum()) if row_eq[row] else rows * columns
            col_count = int(suppressed[:, column].sum()) if col_eq[column] else rows * columns
            options = sorted([(row_count, "row"), (col_count, "column")])
            for _count, kind in options:
                if kind == "row" and row_eq[row]:
                    pick = _cheapest(costs[row], suppressed[row])
                    if pick >= 0:
                        suppressed[row, pick] = True
                        touched_rows.add(row)
                        touched_cols.add(pick)
                        changed = True
                        break
                if kind == "column" and col_eq[column]:
                    pick = _cheapest(costs[:, column], suppressed[:, column])
                    if pick >= 0:
                        suppressed[pick, column] = True
                        touched_cols.add(column)
                        touched_rows.add(pick)
                        changed = True
                        break
        if not changed:
            break
    leftover = bridges(suppressed, row_eq, col_eq) if changed else remaining
    return suppressed & ~primary.astype(bool), leftover
