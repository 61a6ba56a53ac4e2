"""scipy.sparse designs: validated once into the canonical CSR blocks the core maps.

The core reads a sparse task design as CSR arrays ``(data, indices, indptr)``
in place, so every sparse block handed to it is a ``csr_array`` or
``csr_matrix`` (the caller's kind) that is canonical (sorted column indices,
no duplicate entries), with int32 ``indices`` and ``indptr`` (starting at 0)
and ``data`` of exactly ``nnz`` floats, all C-contiguous.

- CSR input that already is such a matrix is used as it is (no copy).
- CSC input is converted to CSR: a copy of the sparse structure and values,
  O(nnz) memory, never a dense array. Other formats (COO, LIL, DOK, DIA, BSR)
  go through their ``tocsr()``, which merges duplicate COO entries by summing.
- int64 index arrays are copied to int32 when the matrix fits (nnz and the
  number of columns below 2**31), else ValueError.

Unsorted or duplicate indices in CSR/CSC input are an error, not silently
repaired: scipy's ``has_canonical_format`` flag is cached and goes stale when
the arrays are edited in place, so the structure is checked on the caller's own
arrays, before any conversion (which could hide the problem or, for duplicates,
change the matrix's meaning).

The finiteness of the values and the float dtype rule are the caller's
(:func:`multitask._input.check_design`), shared with dense input.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np
import scipy.sparse as sp

__all__ = ["CSRBlock", "is_sparse", "as_canonical_csr", "check_compressed_structure", "csr_row_range", "core_block", "core_blocks"]

CSRBlock = Union[sp.csr_array, sp.csr_matrix]
INT32_MAX = np.iinfo(np.int32).max


def is_sparse(x: Any) -> bool:
    """Whether ``x`` is a scipy.sparse matrix or array (any format)."""
    return sp.issparse(x)


def check_compressed_structure(X: Any, name: str) -> None:
    """ValueError naming ``name`` unless the CSR or CSC ``X`` is well formed and canonical.

    Checks ``indptr`` (one entry per row, or per column for CSC, plus one;
    starting at 0; non-decreasing; within the stored arrays), the index range,
    and that indices strictly increase within each row (column for CSC): no
    unsorted indices, no duplicate entries. Vectorised, O(nnz) temporaries.

    Parameters
    ----------
    X : csr_array, csr_matrix, csc_array or csc_matrix
    name : str
        The argument name for messages, e.g. ``"X[1]"``.
    """
    n_major, n_minor = X.shape if X.format == "csr" else X.shape[::-1]
    major, minor = ("row", "column") if X.format == "csr" else ("column", "row")
    indptr, indices = np.asarray(X.indptr), np.asarray(X.indices)
    if indptr.ndim != 1 or indptr.size != n_major + 1:
        raise ValueError(f"{name}.indptr has shape {indptr.shape}, expected ({n_major + 1},) ({major}s + 1)")
    if indptr[0] != 0:
        raise ValueError(f"{name}.indptr must start at 0, got {indptr[0]}")
    if np.any(indptr[1:] < indptr[:-1]):
        raise ValueError(f"{name}.indptr must be non-decreasing")
    nnz, stored = int(indptr[-1]), min(indices.size, np.size(X.data))
    if nnz > stored:
        raise ValueError(f"{name}.indptr ends at {nnz} but {name} stores only {stored} entries")
    indices = indices[:nnz]
    if nnz and (indices.min() < 0 or indices.max() >= n_minor):
        raise ValueError(f"{name} has {minor} indices out of range [0, {n_minor})")
    # Indices must increase strictly from each entry to the next, except where
    # the next entry starts a new row (a row's last entry against the next row's first).
    bad = indices[1:] <= indices[:-1]
    row_ends = indptr[1:-1]
    bad[row_ends[(row_ends > 0) & (row_ends < nnz)] - 1] = False
    if bad.any():
        k = int(np.argmax(bad))
        row = int(np.searchsorted(indptr, k, side="right")) - 1
        if indices[k + 1] == indices[k]:
            raise ValueError(
                f"{name} has duplicate entries ({major} {row} stores {minor} {indices[k]} twice); "
                f"{_fix(X, name, 'sum_duplicates')} to add them up first"
            )
        raise ValueError(
            f"{name} has unsorted indices (in {major} {row}); {_fix(X, name, 'sort_indices')} first "
            f"(or {name}.sum_duplicates(), which also merges duplicate entries)"
        )


def _fix(X: Any, name: str, method: str) -> str:
    """How to repair ``X`` with ``method``, even when scipy's cached flags are stale.

    scipy trusts its cached ``has_sorted_indices``/``has_canonical_format``:
    if they were computed before the arrays were edited in place, they still
    claim a canonical matrix and ``sort_indices()``/``sum_duplicates()`` do
    nothing. Resetting the sorted flag resets both. (Reads scipy's private
    cache; without it the hint is just the call.)
    """
    call = f"call {name}.{method}()"
    if getattr(X, "_has_sorted_indices", False) or getattr(X, "_has_canonical_format", False):
        return f"set {name}.has_sorted_indices = False (scipy cached a stale True) and {call}"
    return call


def _exact(array: np.ndarray, size: int, dtype: type) -> np.ndarray:
    """``array[:size]`` as a C-contiguous ``dtype`` array; ``array`` itself when it already is one."""
    return np.ascontiguousarray(array if array.size == size else array[:size], dtype=dtype)


def as_canonical_csr(X: Any, name: str, dtype: type) -> CSRBlock:
    """A sparse design as a canonical CSR block with int32 indices and ``dtype`` data.

    Parameters
    ----------
    X : scipy.sparse matrix or array, 2-D
        CSR or CSC is checked as it is (see :func:`check_compressed_structure`);
        other formats are converted with ``tocsr()`` first.
    name : str
        The argument name for messages.
    dtype : {numpy.float64, numpy.float32}
        Float dtype of the returned ``data``.

    Returns
    -------
    csr_array or csr_matrix
        ``X`` itself when it already is such a block, else a new one that
        shares every array that needs no conversion. Values are not checked
        for finiteness here.

    Raises
    ------
    ValueError
        Not 2-D, no rows or no columns, malformed or non-canonical structure,
        or too large for int32 indices.
    """
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D sparse matrix, got shape {X.shape}")
    for size, what in zip(X.shape, ("sample", "feature")):
        if size == 0:  # the message dense input gets (scikit-learn's, named)
            message = f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum of 1 is required."
            raise ValueError(f"{name}: {message}")
    if X.format in ("csr", "csc"):
        check_compressed_structure(X, name)  # on the caller's arrays, before conversion can mask anything
        X = X.tocsr()  # a no-op for CSR; for CSC an O(nnz) copy, canonical since the CSC was
    else:
        X = X.tocsr()
        check_compressed_structure(X, name)
    nnz = int(X.indptr[-1])
    if max(nnz, X.shape[1]) > INT32_MAX:
        raise ValueError(
            f"{name} is too large for 32-bit sparse indices ({nnz} stored entries, {X.shape[1]} columns); "
            "split it into smaller tasks or reduce the number of features"
        )
    data = _exact(X.data, nnz, dtype)
    indices = _exact(X.indices, nnz, np.int32)
    indptr = _exact(X.indptr, X.shape[0] + 1, np.int32)
    if data is X.data and indices is X.indices and indptr is X.indptr:
        return X
    return _csr_over(X, data, indices, indptr, X.shape)


def _csr_over(
    like: CSRBlock, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]
) -> CSRBlock:
    """A canonical CSR block of ``like``'s kind (array or matrix) over these very arrays.

    Not ``csr_array((data, indices, indptr), copy=False)``: its ``prune()``
    copies ``data`` and ``indices`` when they are views of less than half of a
    larger array, exactly the case of one task's rows. The arrays must already
    form a valid canonical CSR structure (the callers checked it).
    """
    csr_class = sp.csr_array if isinstance(like, sp.csr_array) else sp.csr_matrix
    block = csr_class(shape, dtype=data.dtype)  # empty, then pointed at the arrays
    block.data, block.indices, block.indptr = data, indices, indptr
    block.has_canonical_format = True  # known: saves scipy a pass over the indices
    return block


def csr_row_range(X: CSRBlock, start: int, stop: int) -> CSRBlock:
    """Rows ``start:stop`` of a canonical int32 CSR block, sharing its data and indices.

    Only ``indptr`` is copied (``stop - start + 1`` integers, shifted to start
    at 0); ``data`` and ``indices`` are views of ``X``'s, so a task's rows of
    a long-format design cost no O(nnz) copy.
    """
    low, high = X.indptr[start], X.indptr[stop]
    indptr = X.indptr[start : stop + 1] - low
    return _csr_over(X, X.data[low:high], X.indices[low:high], indptr, (stop - start, X.shape[1]))


def core_block(block: np.ndarray | CSRBlock) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """What the C++ core takes for one task's design.

    Parameters
    ----------
    block : ndarray or csr_array or csr_matrix
        A block of :class:`multitask._input.TaskBlocks` (already validated).

    Returns
    -------
    ndarray or tuple
        The dense C-contiguous block unchanged, or for CSR the tuple
        ``(data, indices, indptr, n_features)`` of its own arrays (float data,
        int32 indices and indptr starting at 0), which the core maps without copying.
    """
    if is_sparse(block):
        return (block.data, block.indices, block.indptr, int(block.shape[1]))
    return block


def core_blocks(blocks: list) -> list:
    """The task designs as the core takes them: all dense, or all CSR when any is sparse.

    Dense blocks mixed with sparse ones become CSR (a copy of their non-zeros),
    since the core runs on one kind of design at a time.
    """
    if not any(is_sparse(block) for block in blocks):
        return list(blocks)
    return [
        core_block(block if is_sparse(block) else as_canonical_csr(sp.csr_array(block), f"X[{t}]", block.dtype))
        for t, block in enumerate(blocks)
    ]
