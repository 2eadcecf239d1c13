"""``ff.ops.einsum`` for one or two operands, as a composition of ops (sum, transpose,
expand_dims, reshape, matmul), so it runs eagerly and in a model alike. Letters and ``...``
(replaced by unused letters, NumPy's rules); no letter repeated within one operand. Two operands: letters of one operand only and
absent from the output are summed first; the rest is a batched matrix product with the shared
output letters as batch axes, the contracted letters as K, and each side's own output letters as
M and N. In a model the batch axis must stay first: its letter leads the output."""
import numpy as np

from ..layers.core import KerasTensor
from . import numpy as _ops


def _expand_ellipsis(subscripts, spec, ranks):
    """``...`` replaced by letters unused in the subscripts (NumPy's rules: the ellipsis axes
    aligned on the right across operands; an implicit output puts them first)."""
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise ValueError(f"ff.ops.einsum: {subscripts!r} names {len(terms)} operand(s), "
                         f"received {len(ranks)}")
    free = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec]
    counts = []
    for term, rank in zip(terms, ranks):
        if term.count("...") > 1 or term.replace("...", "").count("."):
            raise ValueError(f"ff.ops.einsum: {subscripts!r}: a term holds one '...' at most")
        n = rank - len(term.replace("...", "")) if "..." in term else 0
        if n < 0:
            raise ValueError(f"ff.ops.einsum: {subscripts!r}: term {term!r} names more axes than "
                             f"its operand's {rank}")
        counts.append(n)
    width = max(counts)
    if width > len(free):
        raise ValueError(f"ff.ops.einsum: {subscripts!r}: too many axes under '...'")
    letters = "".join(free[:width])
    terms = [t.replace("...", letters[width - n:]) for t, n in zip(terms, counts)]
    if arrow:
        if out.count("...") > 1 or out.replace("...", "").count("."):
            raise ValueError(f"ff.ops.einsum: {subscripts!r}: the output holds one '...' at most")
        if width and "..." not in out:
            raise ValueError(f"ff.ops.einsum: {subscripts!r}: the axes under '...' need a '...' "
                             "in the output too (as NumPy requires)")
        out = out.replace("...", letters)
    else:
        named = "".join(terms).replace(",", "")
        rest = "".join(sorted(c for c in set(named) if named.count(c) == 1 and c not in letters))
        out = letters + rest
    return ",".join(terms) + "->" + out


def _parse(subscripts, count, ranks=()):
    if not isinstance(subscripts, str):
        raise TypeError(f"ff.ops.einsum: subscripts must be a string, received {subscripts!r}")
    spec = subscripts.replace(" ", "")
    if "." in spec:
        spec = _expand_ellipsis(subscripts, spec, ranks)
    if "->" in spec:
        lhs, out = spec.split("->")
    else:
        lhs = spec
        letters = lhs.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = lhs.split(",")
    if len(ins) != count:
        raise ValueError(f"ff.ops.einsum: {subscripts!r} names {len(ins)} operand(s), received "
                         f"{count}")
    if count not in (1, 2):
        raise ValueError("ff.ops.einsum: one or two operands are supported")
    for term in ins + [out]:
        if not term.isalpha() and term:
            raise ValueError(f"ff.ops.einsum: {subscripts!r}: subscripts must be letters")
        if len(set(term)) != len(term):
            raise ValueError(f"ff.ops.einsum: {subscripts!r}: a letter repeated within one term "
                             "(a diagonal) is not supported")
    for c in out:
        if not any(c in t for t in ins):
            raise ValueError(f"ff.ops.einsum: output letter {c!r} of {subscripts!r} is in no input")
    return ins, out


def _shape(x):
    return tuple(x.shape) if isinstance(x, KerasTensor) else tuple(np.shape(x))


def _transpose(x, letters, order):
    perm = [letters.index(c) for c in order]
    return x if perm == list(range(len(perm))) else _ops.transpose(x, perm)


def _sum_out(x, letters, keep):
    axes = [i for i, c in enumerate(letters) if c not in keep]
    if not axes:
        return x, letters
    return _ops.sum(x, axis=axes), "".join(c for c in letters if c in keep)


def einsum(subscripts, *operands):
    """Einstein summation over one or two operands, for the patterns that are transposes,
    sums and matrix products (e.g. "ij,jk->ik", "bij,bjk->bik", "bqd,bkd->bqk", "ij->ji",
    "bi,bi->b"); computed with transpose, reshape, sum and matmul, so it runs eagerly and in a
    model alike (in a model the batch letter leads the output)."""
    ins, out = _parse(subscripts, len(operands), [len(_shape(o)) for o in operands])
    if len(operands) == 1:
        x, letters = _sum_out(operands[0], ins[0], out)
        return _transpose(x, letters, out)
    a, b = operands
    la, lb = ins
    if isinstance(b, KerasTensor) and not isinstance(a, KerasTensor):
        a, b, la, lb = b, a, lb, la  # the symbolic operand first: its batch axis leads
    dims = {}
    for x, letters in ((a, la), (b, lb)):
        shape = _shape(x)
        if len(shape) != len(letters):
            raise ValueError(f"ff.ops.einsum: {letters!r} names {len(letters)} axes of an operand "
                             f"of shape {shape}")
        for c, d in zip(letters, shape):
            if c in dims and dims[c] != d and 1 not in (d, dims[c]):
                raise ValueError(f"ff.ops.einsum: letter {c!r} has sizes {dims[c]} and {d}")
            dims[c] = d if c not in dims or dims[c] in (1, None) else dims[c]
    a, la = _sum_out(a, la, lb + out)
    b, lb = _sum_out(b, lb, la + out)
    batch = [c for c in out if c in la and c in lb]
    free_a = [c for c in out if c in la and c not in lb]
    free_b = [c for c in out if c in lb and c not in la]
    contracted = [c for c in la if c in lb and c not in out]
    a = _transpose(a, la, batch + free_a + contracted)
    b = _transpose(b, lb, batch + contracted + free_b)
    symbolic = isinstance(a, KerasTensor) or isinstance(b, KerasTensor)

    def size(group):
        n = 1
        for c in group:
            if dims[c] is None:
                return -1
            n *= dims[c]
        return n

    def target(groups):
        t = []
        for g in groups:
            t.extend([dims[c] if dims[c] is not None else -1 for c in g] if isinstance(g, list)
                     else [g])
        return t

    # Group each side to (batch..., M, K) and (batch..., K, N): one axis per group.
    nb = len(batch)
    ka = [size(contracted)] if contracted else [1]
    if batch or len(free_a) != 1 or len(contracted) != 1:
        if batch or not free_a:
            ma = [size(free_a)] if free_a else [1]
            a = _ops.reshape(a, target([batch, *ma, *ka]))
        else:  # no batch: a's own letters stay leading axes of the rows
            a = _ops.reshape(a, target([free_a, *ka]))
    nn = [size(free_b)] if free_b else [1]
    if batch or len(free_b) != 1 or len(contracted) != 1:
        b = _ops.reshape(b, target([batch, *ka, *nn]))
    y = _ops.matmul(a, b)
    y = _ops.reshape(y, target([batch, free_a, free_b])) if (
        nb or len(free_a) != 1 or len(free_b) != 1) else y
    return _transpose(y, "".join(batch + free_a + free_b), out)
