"""Secondary suppression: no suppressed cell can be recovered from the rest."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hdh.airlock.check import protect
from hdh.airlock.check.secondary import bridges


def recoverable(suppressed: np.ndarray, *, margins: bool) -> set[tuple[int, int]]:
    """Cells whose value the line equations determine, by linear algebra: cell j
    is determined iff e_j lies in the row space of the equations restricted to the
    unknowns (independent of the bridge argument used by the code)."""
    rows, columns = suppressed.shape
    unknowns = list(zip(*np.nonzero(suppressed), strict=True))
    if not unknowns:
        return set()
    equations = []
    lines = [("r", i) for i in range(rows)] + [("c", j) for j in range(columns)]
    for kind, k in lines:
        if not margins and (columns if kind == "r" else rows) < 2:
            continue
        equations.append(
            [
                (1.0 if (kind == "r" and i == k) or (kind == "c" and j == k) else 0.0)
                * (
                    -1.0
                    if margins
                    and ((kind == "r" and j == columns - 1) or (kind == "c" and i == rows - 1))
                    else 1.0
                )
                for i, j in unknowns
            ]
        )
    matrix = np.array(equations) if equations else np.zeros((0, len(unknowns)))
    rank = np.linalg.matrix_rank(matrix) if len(matrix) else 0
    found = set()
    for position, cell in enumerate(unknowns):
        unit = np.zeros(len(unknowns))
        unit[position] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.add((int(cell[0]), int(cell[1])))
    return found


def test_a_lone_cell_gets_a_partner_in_its_row_and_column() -> None:
    counts = np.array([[40, 30, 25], [12, 4, 33], [50, 60, 70]])
    primary = counts < 11
    added, leftover = protect(primary, counts, margins=False, assume_margins_known=True)
    suppressed = primary | added
    assert suppressed.sum(axis=1)[1] == 2
    assert suppressed.sum(axis=0)[1] == 2
    assert added[1, 0]
    assert added[0, 1]
    assert added[0, 0]  # which in turn need a partner: the four corners
    assert not leftover
    assert not recoverable(suppressed, margins=False)


def test_a_bridge_between_two_blocks_is_found_and_fixed() -> None:
    # Two 2x2 rectangles of suppressed cells joined by one cell: every line holds
    # two suppressed cells, yet the joining cell is recoverable.
    suppressed = np.zeros((4, 5), dtype=bool)
    suppressed[np.ix_([0, 1], [0, 1])] = True
    suppressed[np.ix_([2, 3], [2, 3])] = True
    suppressed[1, 2] = True
    row_eq = np.ones(4, dtype=bool)
    col_eq = np.ones(5, dtype=bool)
    assert bridges(suppressed, row_eq, col_eq) == [(1, 2)]
    assert recoverable(suppressed, margins=False) == {(1, 2)}
    cost = np.arange(20, dtype=float).reshape(4, 5) + 20
    added, leftover = protect(suppressed, cost, margins=False, assume_margins_known=True)
    assert not leftover
    assert not recoverable(suppressed | added, margins=False)


def test_a_single_row_with_margins_suppresses_the_column_totals() -> None:
    table = np.array([[5.0, 30.0, 35.0], [5.0, 30.0, 35.0]])  # row 1 is the total row
    primary = np.array([[True, False, False], [False, False, False]])
    added, leftover = protect(primary, table, margins=True, assume_margins_known=True)
    suppressed = primary | added
    assert suppressed[1, 0]
    assert suppressed[0, 1]
    assert suppressed[1, 1]
    assert not leftover
    assert not recoverable(suppressed, margins=True)


def test_nothing_to_protect() -> None:
    primary = np.zeros((3, 3), dtype=bool)
    added, leftover = protect(primary, np.ones((3, 3)), margins=True, assume_margins_known=True)
    assert not added.any()
    assert not leftover


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda r: st.integers(2, 6).flatmap(
            lambda c: st.tuples(
                st.lists(
                    st.lists(st.integers(0, 40), min_size=c, max_size=c), min_size=r, max_size=r
                ),
                st.booleans(),
            )
        )
    )
)
def test_no_suppressed_cell_is_ever_recoverable(case: tuple[list[list[int]], bool]) -> None:
    cells, margins = case
    table = np.array(cells, dtype=float)
    if margins:
        table = np.vstack([table, table.sum(axis=0)])
        table = np.hstack([table, table.sum(axis=1, keepdims=True)])
    primary = table < 11
    added, leftover = protect(primary, table, margins=margins, assume_margins_known=True)
    suppressed = primary | added
    assert not (added & primary).any()
    assert set(leftover) == recoverable(suppressed, margins=margins)
    if not leftover:
        assert not recoverable(suppressed, margins=margins)
