"""Products and diagonals: dot, inner, tensordot, einsum, kron, cross, trace, diagonal;
vdot, outer and diag are composite items of the dot, tensordot and diagonal entries.

Layer: ops (imports numpy, chainrule.core, chainrule.errors and the shape entries).
Every forward on NumPy arrays is NumPy's own function, so results on plain arrays are
NumPy's, bit for bit. Other array libraries get the Array API standard's spelling
(``tensordot``, ``linalg.cross``, ``linalg.diagonal``, ``linalg.trace``) or, where the
standard has none (dot, inner, kron, einsum), a composition of standard functions named
in the entry's ``implementations``. The rules are products again, written with the
namespace ``xp`` and the entries themselves: a contraction's VJP contracts the cotangent
with the other operands (tensordot, einsum), trace's and diagonal's put the cotangent on a
diagonal, so every rule is itself differentiable (second order) and runs on any library.
The batching rules of the contractions are one einsum with an extra batch label.
"""

from __future__ import annotations

import functools
import math
import string
from collections import Counter
from typing import Any

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.primitive import Primitive, Traceable, composite, raw, register
from ..errors import ShapeError
from . import domains as d
from .arguments import leading_parameter, one_axis
from .shape import index_add, transpose

#: The labels np.einsum accepts.
_LETTERS = string.ascii_letters


def _product(name, forward, vjps, jvps, sample, batch, **surface):
    """Register a linalg entry; ``surface`` carries names, methods, implementations, ..."""
    return register(
        Primitive(name, forward, vjps, jvps, kind="linalg", sample=sample, batch=batch, **surface)
    )


def reshaped(x: Any, shape: tuple) -> Any:
    """``xp.reshape(x, shape)``, by NumPy's and Tensors' own method where the value has it:
    a rule's reshapes skip the namespace look-up on the NumPy path (a sixth of a small
    product's gradient)."""
    if isinstance(x, (np.ndarray, np.generic, Traceable)):
        return x.reshape(shape)
    return xp.reshape(x, shape)


def _array_like(x: Any) -> Any:
    """A second operand as it is when it has a shape (array, Tensor), else as an array."""
    return x if hasattr(x, "shape") and hasattr(x, "ndim") else np.asarray(x)


def _arranged(x: Any, order: list[int]) -> Any:
    """``x``, whose axis k is the operand's axis ``order[k]``, in the operand's axis order."""
    if order == sorted(order):
        return x
    return transpose.bind(x, axes=tuple(int(i) for i in np.argsort(order)))


def _spare_letters(used: str):
    """Labels that do not occur in ``used``, in order; a ShapeError when none is left."""
    for letter in _LETTERS:
        if letter not in used:
            yield letter
    raise ShapeError(f"einsum: needs more than the {len(_LETTERS)} labels a-z, A-Z")


# --- tensordot and the contractions reduced to it (dot, inner) ------------------------


def _free(ndim: int, contracted: tuple[int, ...]) -> list[int]:
    return [i for i in range(ndim) if i not in contracted]


def _tensordot_vjp_a(g, ans, a, b, *, axes):
    """Contract g with b over b's free axes; the result's trailing axes are a's contracted
    ones in the order of their partners in b, so permute them back."""
    axes_a, axes_b = axes
    free_a = _free(np.ndim(a), axes_a)
    free_b = _free(np.ndim(b), axes_b)
    pulled = xp.tensordot(g, b, axes=(tuple(range(len(free_a), np.ndim(g))), tuple(free_b)))
    return _arranged(pulled, free_a + [axes_a[k] for k in np.argsort(axes_b)])


def _tensordot_vjp_b(g, ans, a, b, *, axes):
    axes_a, axes_b = axes
    free_a = _free(np.ndim(a), axes_a)
    free_b = _free(np.ndim(b), axes_b)
    pulled = xp.tensordot(a, g, axes=(tuple(free_a), tuple(range(len(free_a)))))
    return _arranged(pulled, [axes_b[k] for k in np.argsort(axes_a)] + free_b)


def _contraction(a_ndim: int, b_ndim: int, axes: tuple) -> str:
    """The einsum subscripts of ``tensordot(a, b, axes)`` for operands of these ranks."""
    axes_a, axes_b = axes
    labels = iter(_LETTERS)
    sub_a = [next(labels) for _ in range(a_ndim)]
    sub_b = [next(labels) for _ in range(b_ndim)]
    for i, j in zip(axes_a, axes_b, strict=True):
        sub_b[j] = sub_a[i]
    out = [sub_a[i] for i in _free(a_ndim, axes_a)] + [sub_b[j] for j in _free(b_ndim, axes_b)]
    return f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out)}"


def _batched_contraction(axes_of):
    """The batching rule of a two-operand contraction whose axes ``axes_of(a_ndim, b_ndim)``
    gives for one example: one einsum with a batch label."""

    def batch(batched, a, b, **params):
        ranks = (np.ndim(a) - batched[0], np.ndim(b) - batched[1])
        subscripts = _contraction(*ranks, axes_of(*ranks, **params))
        return _einsum_batch(batched, a, b, subscripts=subscripts, optimize=True)

    return batch


def _prepare_tensordot(a, b, axes=2, **aliases):
    """``tensordot(a, b, axes)``: axes an int N (a's last N against b's first N) or a pair
    of axis sequences; PyTorch's ``dims=`` is accepted too."""
    if aliases:
        if set(aliases) != {"dims"}:
            raise TypeError(f"tensordot() got unexpected keyword arguments {sorted(aliases)}")
        axes = aliases["dims"]
    b = _array_like(b)
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ShapeError(
                f"tensordot: cannot contract {axes} axes of shapes {a.shape} and {b.shape}"
            )
        first, second = range(a.ndim - axes, a.ndim), range(axes)
    else:
        first, second = axes
    first = (first,) if isinstance(first, (int, np.integer)) else tuple(first)
    second = (second,) if isinstance(second, (int, np.integer)) else tuple(second)
    axes_a = tuple(one_axis(i, a.ndim, "tensordot") for i in first)
    axes_b = tuple(one_axis(j, b.ndim, "tensordot") for j in second)
    if (
        len(axes_a) != len(axes_b)
        or len(set(axes_a)) != len(axes_a)
        or len(set(axes_b)) != len(axes_b)
    ):
        raise ShapeError(f"tensordot: axes {axes} do not pair distinct axes of each operand")
    for i, j in zip(axes_a, axes_b, strict=True):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(
                f"tensordot: axis {i} of shape {a.shape} has length {a.shape[i]} but axis {j} "
                f"of shape {b.shape} has length {b.shape[j]}"
            )
    return (a, b), {"axes": (axes_a, axes_b)}


def _outer(a, b):
    """Every product of an entry of ``a`` with one of ``b``, both flattened (np.outer)."""
    return tensordot.bind(xp.reshape(a, (-1,)), xp.reshape(_array_like(b), (-1,)), axes=((), ()))


tensordot = _product(
    "tensordot",
    # The standard's tensordot: NumPy's own function on NumPy arrays.
    lambda a, b, *, axes: xp.tensordot(a, b, axes=axes),
    (_tensordot_vjp_a, _tensordot_vjp_b),
    (
        lambda t, ans, a, b, *, axes: xp.tensordot(t, b, axes=axes),
        lambda t, ans, a, b, *, axes: xp.tensordot(a, t, axes=axes),
    ),
    lambda rng: [
        ((d.real(rng, (2, 3, 4)), d.real(rng, (3, 4, 2))), {"axes": ((1, 2), (0, 1))}),
        ((d.real(rng, (3, 4)), d.real(rng, (2, 3))), {"axes": ((0,), (1,))}),
        ((d.real(rng, (2, 3, 4)), d.real(rng, (4, 2, 3))), {"axes": ((2, 1), (0, 2))}),
        ((d.real(rng, (3,)), d.real(rng, (2,))), {"axes": ((), ())}),
        ((d.real(rng, (2, 3)), d.real(rng, (2, 3))), {"axes": ((0, 1), (0, 1))}),
    ],
    _batched_contraction(lambda a_ndim, b_ndim, *, axes: axes),
    names=(
        "tensordot",
        ("linalg.tensordot", _prepare_tensordot),
        ("outer", composite(_outer)),
        ("linalg.outer", composite(_outer)),  # the standard's (of vectors), flattening as np.outer
    ),
    methods=("tensordot", ("outer", composite(_outer))),
    numpy=(
        np.tensordot,
        (np.linalg.tensordot, _prepare_tensordot),
        (np.outer, composite(_outer)),
    ),
    signature=_prepare_tensordot,
    doc="Sum of products over paired axes (np.tensordot: axes an int or two sequences).",
)


def _last_against(position):
    """Contraction axes of dot (a's last against b's second-to-last) or inner (last against
    last) for operands of these ranks; none when one is 0-d (a plain product)."""

    def axes_of(a_ndim, b_ndim):
        if a_ndim == 0 or b_ndim == 0:
            return (), ()
        return (a_ndim - 1,), (position(b_ndim),)

    return axes_of


def _pairing(name, numpy_function, axes_of, sample, doc, **surface):
    """An entry with NumPy's ``numpy_function`` as forward (the standard's tensordot over the
    same axes on other libraries) and tensordot's rules."""

    def vjp(pull):
        return lambda g, ans, a, b: pull(g, ans, a, b, axes=axes_of(np.ndim(a), np.ndim(b)))

    def standard(a, b):
        return xp.tensordot(a, b, axes=axes_of(np.ndim(a), np.ndim(b)))

    standard.__name__ = standard.__qualname__ = f"{name}_standard"
    entry = _product(
        name,
        numpy_function,
        (vjp(_tensordot_vjp_a), vjp(_tensordot_vjp_b)),
        (
            lambda t, ans, a, b: entry.bind(t, b),
            lambda t, ans, a, b: entry.bind(a, t),
        ),
        sample,
        _batched_contraction(axes_of),
        signature="binary",
        doc=doc,
        implementations={"array_api": standard},
        portable=False,
        **surface,
    )
    return entry


def _vdot(a, b):
    """The dot product of the flattened operands, the first one conjugated (np.vdot)."""
    b = _array_like(b)
    if a.size != math.prod(b.shape):
        raise ShapeError(f"vdot: operands of shapes {a.shape} and {b.shape} differ in size")
    if backend.is_complex(a):
        a = xp.conj(a)
    return dot.bind(xp.reshape(a, (-1,)), xp.reshape(b, (-1,)))


dot = _pairing(
    "dot",
    np.dot,
    _last_against(lambda b_ndim: max(b_ndim - 2, 0)),
    lambda rng: [
        ((d.real(rng, (3, 4)), d.real(rng, (4, 3))), {}),
        ((d.real(rng, (4,)), d.real(rng, (4,))), {}),
        ((d.real(rng, (3, 4)), d.real(rng, (4,))), {}),
        ((d.real(rng, (4,)), d.real(rng, (4, 2))), {}),
        ((d.real(rng, (2, 3, 4)), d.real(rng, (2, 4, 2))), {}),
        ((d.real(rng, ()), d.real(rng, (2, 3))), {}),
    ],
    "np.dot: sum over a's last axis and b's second-to-last (only) one; a product for 0-d.",
    names=("dot", ("vdot", composite(_vdot))),
    methods=("dot", ("vdot", composite(_vdot))),
    numpy=(np.dot, (np.vdot, composite(_vdot))),
)

inner = _pairing(
    "inner",
    np.inner,
    _last_against(lambda b_ndim: b_ndim - 1),
    lambda rng: [
        ((d.real(rng, (3, 4)), d.real(rng, (2, 4))), {}),
        ((d.real(rng, (4,)), d.real(rng, (4,))), {}),
        ((d.real(rng, (2, 3, 4)), d.real(rng, (4,))), {}),
        ((d.real(rng, (2, 3)), d.real(rng, ())), {}),
    ],
    "np.inner: sum over the last axes of both operands; a product for 0-d.",
    names=("inner",),
    methods=("inner",),
    numpy=(np.inner,),
)


# --- einsum -----------------------------------------------------------------------------


def _split(subscripts: str) -> tuple[list[str], str]:
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _expand_ellipses(inputs: list[str], shapes: list, spare) -> tuple[list[str], str]:
    """Replace each ``...`` by labels of its own, aligned from the right across operands."""
    ranks = []
    for i, (sub, shape) in enumerate(zip(inputs, shapes, strict=True)):
        named = len(sub.replace("...", "", 1))
        if "." in sub.replace("...", "", 1) or not set(sub) <= set(_LETTERS + "."):
            raise ShapeError(f"einsum: invalid subscripts {sub!r} for operand {i}")
        rank = len(shape) - named if "..." in sub else 0
        if rank < 0 or ("..." not in sub and named != len(shape)):
            raise ShapeError(
                f"einsum: subscripts {sub!r} do not fit operand {i} of shape {tuple(shape)}"
            )
        ranks.append(rank)
    broadcast = "".join(next(spare) for _ in range(max(ranks, default=0)))
    expanded = [
        sub.replace("...", broadcast[len(broadcast) - rank :])
        for sub, rank in zip(inputs, ranks, strict=True)
    ]
    return expanded, broadcast


def _broadcast_labels(inputs: list[str], shapes: list, spare) -> list[str]:
    """Label sizes checked; an axis of length 1 whose label is longer elsewhere gets a label
    of its own (summed over one entry), which is how np.einsum broadcasts it."""
    sizes: dict[str, int] = {}
    for sub, shape in zip(inputs, shapes, strict=True):
        for label, n in zip(sub, shape, strict=True):
            if n != 1 and sizes.get(label, 1) not in (1, n):
                raise ShapeError(
                    f"einsum: label {label!r} has lengths {sizes[label]} and {n} "
                    f"(operand shapes {[tuple(s) for s in shapes]})"
                )
            if n != 1 or label not in sizes:
                sizes[label] = n
    relabelled = []
    for sub, shape in zip(inputs, shapes, strict=True):
        repeated = {label for label, count in Counter(sub).items() if count > 1}
        relabelled.append(
            "".join(
                next(spare) if n == 1 and sizes[label] != 1 and label not in repeated else label
                for label, n in zip(sub, shape, strict=True)
            )
        )
    return relabelled


@functools.lru_cache(maxsize=512)
def _explicit_subscripts(subscripts: str, shapes: tuple) -> str:
    """``subscripts`` for operands of ``shapes`` in the explicit form the entry computes:
    no ellipsis, no broadcast length-1 axes, an output (implicit: the broadcast axes, then
    the labels used once, sorted). Cached: a training loop parses the same call each step."""
    text = subscripts.replace(" ", "")
    if text.count("->") > 1:
        raise ShapeError(f"einsum: subscripts {subscripts!r} have more than one '->'")
    inputs_text, arrow, output = text.partition("->")
    inputs = inputs_text.split(",")
    if len(inputs) != len(shapes):
        raise ShapeError(
            f"einsum: subscripts {subscripts!r} name {len(inputs)} operands, got {len(shapes)}"
        )
    spare = _spare_letters(text)
    expanded, broadcast = _expand_ellipses(inputs, shapes, spare)
    if not arrow:
        counts = Counter(inputs_text.replace(".", "").replace(",", ""))
        output = broadcast + "".join(sorted(label for label, n in counts.items() if n == 1))
    elif "..." in output:
        output = output.replace("...", broadcast, 1)
    elif broadcast:
        raise ShapeError(
            f"einsum: subscripts {subscripts!r} broadcast over '...' but the output has none"
        )
    used = set("".join(expanded))
    if len(set(output)) != len(output) or not set(output) <= used:
        raise ShapeError(
            f"einsum: output {output!r} must name distinct labels of the inputs ({subscripts!r})"
        )
    return ",".join(_broadcast_labels(expanded, shapes, spare)) + "->" + output


@leading_parameter
def _prepare_einsum(subscripts, *operands, optimize=False, **unsupported):
    """``einsum(subscripts, *operands, optimize=False)`` with NumPy's subscripts."""
    if not isinstance(subscripts, str):
        raise TypeError(
            "einsum: the first argument must be the subscripts string ('ij,jk->ik'); the "
            "interleaved (operand, sublist) form is not supported"
        )
    if unsupported:
        raise TypeError(f"einsum() got unsupported keyword arguments {sorted(unsupported)}")
    if isinstance(optimize, list):
        optimize = tuple(optimize)  # an explicit contraction path, kept hashable
    shapes = tuple(x.shape for x in operands)
    return operands, {"subscripts": _explicit_subscripts(subscripts, shapes), "optimize": optimize}


#: Above this many terms (the product of all label lengths), a VJP's contraction is planned
#: (pairwise, through BLAS) even when the forward's is not: planning costs tens of
#: microseconds, NumPy's unplanned loop over a large contraction costs far more.
_PLANNED = 1 << 16


def _rule_optimize(optimize, sizes):
    """How a VJP contracts: as the forward asked, except that the forward's own path fits only
    the forward, and a large contraction is planned whatever the forward asked."""
    if not isinstance(optimize, (bool, str)):
        return True
    if optimize is False and math.prod(sizes.values()) > _PLANNED:
        return True
    return optimize


def _einsum_vjp(argnum):
    """Contract the cotangent with the other operands into this operand's labels. A label
    repeated in the operand (a diagonal: 'ii->i') is written once and tied to its other
    places by identity matrices; a label summed in this operand alone gets a ones vector."""

    def rule(g, ans, *operands, subscripts, optimize):
        inputs, output = _split(subscripts)
        sizes = {
            label: n
            for sub, x in zip(inputs, operands, strict=True)
            for label, n in zip(sub, np.shape(x), strict=True)
        }
        dtype = raw(g).dtype
        space, device = backend.array_namespace(g), backend.native_device(g)
        spare = _spare_letters(subscripts)
        terms, values = [output], [g]
        for k, (sub, x) in enumerate(zip(inputs, operands, strict=True)):
            if k != argnum:
                terms.append(sub)
                values.append(x)
        written, seen = [], []
        for label in inputs[argnum]:
            if label in seen:
                tied = next(spare)
                terms.append(label + tied)
                values.append(space.eye(sizes[label], dtype=dtype, device=device))
                written.append(tied)
            else:
                seen.append(label)
                written.append(label)
        present = set("".join(terms))
        for label in seen:
            if label not in present:
                terms.append(label)
                values.append(space.ones(sizes[label], dtype=dtype, device=device))
        return einsum.bind(
            *values,
            subscripts=",".join(terms) + "->" + "".join(written),
            optimize=_rule_optimize(optimize, sizes),
        )

    return rule


def _einsum_jvp(argnum):
    """einsum is linear in each operand: the same contraction with the tangent in its place."""

    def rule(t, ans, *operands, subscripts, optimize):
        moved = list(operands)
        moved[argnum] = t
        return einsum.bind(*moved, subscripts=subscripts, optimize=optimize)

    return rule


def _einsum_batch(batched, *operands, subscripts, optimize):
    """One einsum with a new label on the batched operands' axis 0 and the output's."""
    inputs, output = _split(subscripts)
    label = next(_spare_letters(subscripts))
    inputs = [label + sub if b else sub for sub, b in zip(inputs, batched, strict=True)]
    return einsum.bind(
        *operands, subscripts=",".join(inputs) + "->" + label + output, optimize=optimize
    )


def _einsum_samples(rng):
    def case(subscripts, *shapes, optimize=False):
        operands = tuple(d.real(rng, shape) for shape in shapes)
        return operands, {"subscripts": subscripts, "optimize": optimize}

    return [
        case("ij,jk->ik", (4, 4), (4, 4)),  # first: the public surface's test operands
        case("ij,jk->ik", (3, 4), (4, 2)),
        case("ii->i", (3, 3)),
        case("ii->", (3, 3)),
        case("ijk->kji", (2, 3, 4)),
        case("bij,bjk->bik", (2, 3, 4), (2, 4, 2)),
        case("i,i->", (4,), (4,)),
        case("ij,jk,kl->il", (2, 3), (3, 4), (4, 2), optimize=True),
        case("iij,j->ji", (3, 3, 2), (2,)),
        case("ij->", (2, 3)),
        case("i,j->ij", (3,), (2,)),
        case("aij,Bj->aBi", (2, 3, 4), (1, 4)),
        case(",ij->ij", (), (2, 3)),
    ]


def _diagonals_taken(x, labels: str):
    """``x`` with each label it repeats ('ii') read once, as its diagonal on a last axis."""
    labels = list(labels)
    while len(set(labels)) < len(labels):
        label = next(k for k in labels if labels.count(k) > 1)
        first = labels.index(label)
        second = labels.index(label, first + 1)
        others = [i for i in range(len(labels)) if i not in (first, second)]
        x = xp.linalg.diagonal(xp.permute_dims(x, (*others, first, second)))
        labels = [labels[i] for i in others] + [label]
    return x, labels


def _summed_out(x, labels: list[str], kept: set[str]):
    """``x`` summed over its labels that are not in ``kept``."""
    lone = tuple(i for i, label in enumerate(labels) if label not in kept)
    if not lone:
        return x, labels
    return xp.sum(x, axis=lone), [label for label in labels if label in kept]


def _matmul_pair(a, labels_a: list[str], b, labels_b: list[str], needed: set[str]):
    """Two operands contracted over their shared labels that are not ``needed`` later, as one
    batched matmul: (shared needed, a's own, contracted) @ (shared needed, contracted, b's
    own). The result's labels: the shared needed ones, then a's own, then b's own."""
    sizes = dict(zip(labels_a, np.shape(a), strict=True)) | dict(
        zip(labels_b, np.shape(b), strict=True)
    )
    shared = [label for label in labels_a if label in labels_b]
    batch = [label for label in shared if label in needed]
    summed = [label for label in shared if label not in needed]
    own_a = [label for label in labels_a if label not in shared]
    own_b = [label for label in labels_b if label not in shared]

    def laid_out(x, labels, order, rows, cols):
        x = xp.permute_dims(x, tuple(labels.index(label) for label in order))
        shape = (*(sizes[k] for k in batch), math.prod(sizes[k] for k in rows))
        return xp.reshape(x, (*shape, math.prod(sizes[k] for k in cols)))

    left = laid_out(a, labels_a, batch + own_a + summed, own_a, summed)
    right = laid_out(b, labels_b, batch + summed + own_b, summed, own_b)
    product = xp.matmul(left, right)
    labels = batch + own_a + own_b
    return xp.reshape(product, tuple(sizes[k] for k in labels)), labels


def _einsum_standard(*operands, subscripts, optimize):
    """einsum with the Array API standard's functions only, for libraries without one:
    diagonals taken, labels no one else needs summed, then the operands contracted left to
    right by matmul, and the output's axes put in order (``optimize`` plans nothing here)."""
    inputs, output = _split(subscripts)
    terms = [_diagonals_taken(x, sub) for x, sub in zip(operands, inputs, strict=True)]
    result, labels = terms[0]
    for k, (x, x_labels) in enumerate(terms[1:], start=2):
        needed = set(output).union(*(set(later) for later in inputs[k:]))
        result, labels = _summed_out(result, labels, needed | set(x_labels))
        x, x_labels = _summed_out(x, x_labels, needed | set(labels))
        result, labels = _matmul_pair(result, labels, x, x_labels, needed)
    result, labels = _summed_out(result, labels, set(output))
    return xp.permute_dims(result, tuple(labels.index(label) for label in output))


def _einsum_library(*operands, subscripts, optimize):
    """The operands' library's own einsum (CuPy's), which plans its contractions itself."""
    return backend.library_function("einsum")(subscripts, *operands)


def _vecdot(x1, x2, axis=-1):
    """The standard's vecdot: sum(conj(x1) * x2) along ``axis`` of the broadcast operands,
    which must have the same length there (an einsum over the trailing axes)."""
    x2 = _array_like(x2)
    rank = max(x1.ndim, x2.ndim)
    if not isinstance(axis, (int, np.integer)) or not -rank <= axis < rank:
        raise ShapeError(
            f"vecdot: axis {axis!r} is out of range for shapes {x1.shape} and {x2.shape}"
        )
    depth = rank - axis if axis >= 0 else -axis  # the axis counted from the right
    if depth > min(x1.ndim, x2.ndim) or x1.shape[-depth] != x2.shape[-depth]:
        raise ShapeError(
            f"vecdot: axis {axis} must have one length in both operands, got shapes "
            f"{x1.shape} and {x2.shape}"
        )
    if backend.is_complex(x1):
        x1 = xp.conj(x1)
    tail = _LETTERS[:depth]
    subscripts = f"...{tail},...{tail}->...{tail[1:]}"
    return einsum.bind(
        x1,
        x2,
        subscripts=_explicit_subscripts(subscripts, (x1.shape, x2.shape)),
        optimize=False,
    )


einsum = _product(
    "einsum",
    lambda *operands, subscripts, optimize: np.einsum(subscripts, *operands, optimize=optimize),
    _einsum_vjp,
    _einsum_jvp,
    _einsum_samples,
    _einsum_batch,
    names=("einsum", ("vecdot", composite(_vecdot)), ("linalg.vecdot", composite(_vecdot))),
    numpy=(np.einsum, (np.linalg.vecdot, composite(_vecdot))),
    signature=_prepare_einsum,
    implementations={"array_api": _einsum_standard, "cupy": _einsum_library},
    portable=False,
    doc=(
        "Einstein summation with NumPy's subscripts ('ij,jk->ik', '...', 'ii->i', implicit "
        "output); ``optimize`` plans the gradient's contractions too, and large ones always."
    ),
)


# --- kron and cross -------------------------------------------------------------------


def _kron_shapes(a_shape: tuple, b_shape: tuple) -> tuple[tuple, tuple]:
    """Both shapes padded with leading ones to one rank, as np.kron aligns them."""
    rank = max(len(a_shape), len(b_shape))
    return (1,) * (rank - len(a_shape)) + a_shape, (1,) * (rank - len(b_shape)) + b_shape


def _interleaved(shape: tuple, first: bool) -> tuple:
    """(s0, 1, s1, 1, ...) for ``a`` (first) or (1, s0, 1, s1, ...) for ``b``."""
    return tuple(n for s in shape for n in ((s, 1) if first else (1, s)))


def _kron_vjp(argnum):
    """g seen as (a0, b0, a1, b1, ...), times the other operand, summed over its axes."""

    def rule(g, ans, a, b):
        shape_a, shape_b = _kron_shapes(np.shape(a), np.shape(b))
        pairs = tuple(n for pair in zip(shape_a, shape_b, strict=True) for n in pair)
        paired = reshaped(g, pairs)
        if argnum == 0:
            weighted = paired * reshaped(b, _interleaved(shape_b, first=False))
        else:
            weighted = paired * reshaped(a, _interleaved(shape_a, first=True))
        summed = xp.sum(weighted, axis=tuple(range(1 - argnum, 2 * len(shape_a), 2)))
        return reshaped(summed, np.shape((a, b)[argnum]))

    return rule


def _kron_standard(a, b):
    """np.kron with the standard's functions: each operand spread on interleaved axes, one
    broadcast product (the same products NumPy forms), one reshape."""
    shape_a, shape_b = _kron_shapes(np.shape(a), np.shape(b))
    product = xp.reshape(a, _interleaved(shape_a, first=True)) * xp.reshape(
        b, _interleaved(shape_b, first=False)
    )
    return xp.reshape(product, tuple(p * q for p, q in zip(shape_a, shape_b, strict=True)))


def _kron_batch(batched, a, b):
    """The per-example Kronecker products as one broadcast product, then one reshape."""
    rank = max(np.ndim(a) - batched[0], np.ndim(b) - batched[1])

    def spread(x, is_batched, first):
        example = np.shape(x)[1:] if is_batched else np.shape(x)
        example = (1,) * (rank - len(example)) + example
        lead = np.shape(x)[0] if is_batched else 1
        return xp.reshape(x, (lead, *_interleaved(example, first))), example

    a_spread, shape_a = spread(a, batched[0], True)
    b_spread, shape_b = spread(b, batched[1], False)
    product = a_spread * b_spread
    sizes = tuple(p * q for p, q in zip(shape_a, shape_b, strict=True))
    return xp.reshape(product, (np.shape(product)[0], *sizes))


kron = _product(
    "kron",
    np.kron,
    (_kron_vjp(0), _kron_vjp(1)),
    (lambda t, ans, a, b: kron.bind(t, b), lambda t, ans, a, b: kron.bind(a, t)),
    lambda rng: [
        ((d.real(rng, (2, 3)), d.real(rng, (3, 2))), {}),
        ((d.real(rng, (3,)), d.real(rng, (2,))), {}),
        ((d.real(rng, (2,)), d.real(rng, (2, 1, 3))), {}),
    ],
    _kron_batch,
    names=("kron",),
    methods=("kron",),
    numpy=(np.kron,),
    signature="binary",
    implementations={"array_api": _kron_standard},
    portable=False,
    doc="Kronecker product (np.kron): blocks of b scaled by each entry of a.",
)


def _prepare_cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, **aliases):
    """np.cross's axis arguments (``axis`` sets all three), or PyTorch's ``dim=``. Axes are
    kept negative, counted from the right, where broadcasting aligns operands."""
    if aliases:
        if set(aliases) != {"dim"}:
            raise TypeError(f"cross() got unexpected keyword arguments {sorted(aliases)}")
        axis = aliases["dim"]
    b = _array_like(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    axisa = one_axis(axisa, a.ndim, "cross") - a.ndim
    axisb = one_axis(axisb, b.ndim, "cross") - b.ndim
    if a.shape[axisa] != 3 or b.shape[axisb] != 3:
        raise ShapeError(
            f"cross: needs vectors of length 3 on the chosen axes, got shapes {a.shape} (axis "
            f"{axisa}) and {b.shape} (axis {axisb}); NumPy 2 deprecates length-2 vectors"
        )
    out_ndim = max(a.ndim, b.ndim)
    axisc = one_axis(axisc, out_ndim, "cross") - out_ndim
    return (a, b), {"axisa": axisa, "axisb": axisb, "axisc": axisc}


def _prepare_linalg_cross(x1, x2, *, axis=-1):
    """The standard's linalg.cross: the 3-vectors on ``axis`` of both operands."""
    return _prepare_cross(x1, x2, axis=axis)


def _lifted(x, is_batched, rank, target):
    """A batched operand with unit axes after its batch axis, up to ``target`` per example."""
    if not is_batched or rank >= target:
        return x
    shape = np.shape(x)
    return xp.reshape(x, (shape[0], *(1,) * (target - rank), *shape[1:]))


def _cross_batch(batched, a, b, *, axisa, axisb, axisc):
    ranks = (np.ndim(a) - batched[0], np.ndim(b) - batched[1])
    target = max(ranks)
    return cross.bind(
        _lifted(a, batched[0], ranks[0], target),
        _lifted(b, batched[1], ranks[1], target),
        axisa=axisa,
        axisb=axisb,
        axisc=axisc,
    )


def _cross_standard(a, b, *, axisa, axisb, axisc):
    """np.cross with the standard's linalg.cross, which takes the vectors on the last axis."""
    crossed = xp.linalg.cross(xp.moveaxis(a, axisa, -1), xp.moveaxis(b, axisb, -1), axis=-1)
    return xp.moveaxis(crossed, -1, axisc)


cross = _product(
    "cross",
    lambda a, b, *, axisa, axisb, axisc: np.cross(a, b, axisa=axisa, axisb=axisb, axisc=axisc),
    (
        # <g, a x b> = <a, b x g> = <b, g x a>
        lambda g, ans, a, b, *, axisa, axisb, axisc: cross.bind(
            b, g, axisa=axisb, axisb=axisc, axisc=axisa
        ),
        lambda g, ans, a, b, *, axisa, axisb, axisc: cross.bind(
            g, a, axisa=axisc, axisb=axisa, axisc=axisb
        ),
    ),
    (
        lambda t, ans, a, b, *, axisa, axisb, axisc: cross.bind(
            t, b, axisa=axisa, axisb=axisb, axisc=axisc
        ),
        lambda t, ans, a, b, *, axisa, axisb, axisc: cross.bind(
            a, t, axisa=axisa, axisb=axisb, axisc=axisc
        ),
    ),
    lambda rng: [
        ((d.real(rng, (4, 3)), d.real(rng, (4, 3))), {"axisa": -1, "axisb": -1, "axisc": -1}),
        ((d.real(rng, (3,)), d.real(rng, (2, 3))), {"axisa": -1, "axisb": -1, "axisc": -1}),
        ((d.real(rng, (3, 2)), d.real(rng, (2, 3))), {"axisa": -2, "axisb": -1, "axisc": -2}),
    ],
    _cross_batch,
    names=("cross", ("linalg.cross", _prepare_linalg_cross)),
    methods=("cross",),
    numpy=(np.cross, (np.linalg.cross, _prepare_linalg_cross)),
    signature=_prepare_cross,
    implementations={"array_api": _cross_standard},
    portable=False,
    doc="Cross product of 3-vectors along an axis, broadcasting the others (np.cross).",
)


# --- trace, diagonal, diag ------------------------------------------------------------


def _two_axes(op, x, axis1, axis2):
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs at least 2 dimensions, got shape {x.shape}")
    first, second = one_axis(axis1, x.ndim, op), one_axis(axis2, x.ndim, op)
    if first == second:
        raise ShapeError(f"{op}: axis1 and axis2 are the same axis ({first}) of shape {x.shape}")
    return first, second


def _prepare_trace(x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    if dtype is not None or out is not None:
        raise TypeError("trace(): dtype= and out= are not supported")
    axis1, axis2 = _two_axes("trace", x, axis1, axis2)
    return (x,), {"offset": int(offset), "axis1": axis1, "axis2": axis2}


def _prepare_linalg_trace(x, *, offset=0, dtype=None):
    """The standard's linalg.trace: the traces of the matrices on the last two axes."""
    return _prepare_trace(x, offset, -2, -1, dtype)


def _trace_vjp(g, ans, x, *, offset, axis1, axis2):
    """g on the summed diagonal, zero elsewhere: g times an identity placed on axis1, axis2."""
    shape = np.shape(x)
    space = backend.array_namespace(g)
    eye = space.eye(
        shape[axis1], shape[axis2], k=offset, dtype=raw(g).dtype, device=backend.native_device(g)
    )
    placed = [1] * len(shape)
    placed[axis1], placed[axis2] = shape[axis1], shape[axis2]
    eye = reshaped(eye if axis1 < axis2 else eye.T, tuple(placed))
    return reshaped(g, _with_unit_axes(np.shape(g), (axis1, axis2))) * eye


def _with_unit_axes(shape: tuple, axes: tuple) -> tuple:
    """``shape`` with length-1 axes inserted so they sit at ``axes`` of the result."""
    widened = list(shape)
    for axis in sorted(axes):
        widened.insert(axis, 1)
    return tuple(widened)


def _planes_last(x, axis1: int, axis2: int):
    """``x`` with axis1 and axis2 moved to the end, the others in order: where the standard's
    linalg.diagonal and linalg.trace read the matrices."""
    others = [i for i in range(np.ndim(x)) if i not in (axis1, axis2)]
    return xp.permute_dims(x, (*others, axis1, axis2))


def _diagonal_samples(rng):
    return [
        ((d.real(rng, (3, 4)),), {"offset": 0, "axis1": 0, "axis2": 1}),
        ((d.real(rng, (3, 4)),), {"offset": 1, "axis1": 0, "axis2": 1}),
        ((d.real(rng, (4, 3)),), {"offset": -2, "axis1": 0, "axis2": 1}),
        ((d.real(rng, (2, 3, 4)),), {"offset": 0, "axis1": 2, "axis2": 0}),
        ((d.real(rng, (3, 2, 3)),), {"offset": -1, "axis1": 0, "axis2": 2}),
    ]


trace = _product(
    "trace",
    lambda x, *, offset, axis1, axis2: np.trace(x, offset, axis1, axis2),
    (_trace_vjp,),
    (
        lambda t, ans, x, *, offset, axis1, axis2: trace.bind(
            t, offset=offset, axis1=axis1, axis2=axis2
        ),
    ),
    _diagonal_samples,
    lambda batched, x, *, offset, axis1, axis2: trace.bind(
        x, offset=offset, axis1=axis1 + 1, axis2=axis2 + 1
    ),
    names=("trace", ("linalg.trace", _prepare_linalg_trace)),
    methods=("trace",),
    numpy=(np.trace, (np.linalg.trace, _prepare_linalg_trace)),
    signature=_prepare_trace,
    implementations={
        "array_api": lambda x, *, offset, axis1, axis2: xp.linalg.trace(
            _planes_last(x, axis1, axis2), offset=offset
        )
    },
    portable=False,
    doc="Sum of the diagonal ``offset`` of the axis1/axis2 planes (np.trace).",
)


def _prepare_diagonal(x, offset=0, axis1=0, axis2=1, **aliases):
    """np.diagonal's arguments, or PyTorch's ``dim1=``/``dim2=``."""
    unknown = set(aliases) - {"dim1", "dim2"}
    if unknown:
        raise TypeError(f"diagonal() got unexpected keyword arguments {sorted(unknown)}")
    axis1, axis2 = _two_axes("diagonal", x, aliases.get("dim1", axis1), aliases.get("dim2", axis2))
    return (x,), {"offset": int(offset), "axis1": axis1, "axis2": axis2}


def _prepare_linalg_diagonal(x, *, offset=0):
    """The standard's linalg.diagonal: the diagonals of the matrices on the last two axes."""
    return _prepare_diagonal(x, offset, -2, -1)


def _on_diagonal(values, rows: int, cols: int, offset: int):
    """Zero (rows, cols) matrices, one per leading index of ``values``, with ``values``' last
    axis on their diagonal ``offset``. The diagonal is a strided slice of each flattened
    matrix, so this is a plain assignment (exact bits, no scatter-add) and a reshape."""
    length = np.shape(values)[-1]
    start = max(-offset, 0) * cols + max(offset, 0)
    stop = start + (length - 1) * (cols + 1) + 1 if length else start
    leading = tuple(np.shape(values)[:-1])
    flat = index_add.bind(
        values, index=(Ellipsis, slice(start, stop, cols + 1)), shape=(*leading, rows * cols)
    )
    return reshaped(flat, (*leading, rows, cols))


def _diagonal_vjp(g, ans, x, *, offset, axis1, axis2):
    """g put back on the diagonal (zeros elsewhere), then axis1 and axis2 returned to place."""
    shape = np.shape(x)
    others = [i for i in range(len(shape)) if i not in (axis1, axis2)]
    embedded = _on_diagonal(g, shape[axis1], shape[axis2], offset)
    return _arranged(embedded, [*others, axis1, axis2])


def _diag(x, k=0, **aliases):
    """np.diag: the diagonal ``k`` of a matrix, or a square matrix with a vector on it."""
    if aliases:
        if set(aliases) != {"diagonal"}:
            raise TypeError(f"diag() got unexpected keyword arguments {sorted(aliases)}")
        k = aliases["diagonal"]
    k = int(k)
    if x.ndim == 2:
        return diagonal.bind(x, offset=k, axis1=0, axis2=1)
    if x.ndim != 1:
        raise ShapeError(f"diag: needs a 1-D or 2-D input, got shape {x.shape}")
    size = x.shape[0] + abs(k)
    return _on_diagonal(x, size, size, k)


diagonal = _product(
    "diagonal",
    # NumPy's read-only view: an in-place write to the result copies it first (Tensor._writable).
    lambda x, *, offset, axis1, axis2: np.diagonal(x, offset, axis1, axis2),
    (_diagonal_vjp,),
    (
        lambda t, ans, x, *, offset, axis1, axis2: diagonal.bind(
            t, offset=offset, axis1=axis1, axis2=axis2
        ),
    ),
    _diagonal_samples,
    lambda batched, x, *, offset, axis1, axis2: diagonal.bind(
        x, offset=offset, axis1=axis1 + 1, axis2=axis2 + 1
    ),
    names=(
        "diagonal",
        ("linalg.diagonal", _prepare_linalg_diagonal),
        ("diag", composite(_diag)),
    ),
    methods=("diagonal", ("diag", composite(_diag))),
    numpy=(
        np.diagonal,
        (np.linalg.diagonal, _prepare_linalg_diagonal),
        (np.diag, composite(_diag)),
    ),
    signature=_prepare_diagonal,
    implementations={
        "array_api": lambda x, *, offset, axis1, axis2: xp.linalg.diagonal(
            _planes_last(x, axis1, axis2), offset=offset
        )
    },
    portable=False,
    doc="The diagonal ``offset`` of the axis1/axis2 planes, on a new last axis (np.diagonal).",
)
