"""Neural-network primitives: softmax, log-softmax, the fused layer and losses.

Layer: ops. Softmax and log-softmax subtract the maximum before exponentiating, so
logits of 1000 give finite, exact results. ``linear`` and ``cross_entropy`` are
single primitives (one node, one rule each) because a training step spends most
of its time in them. (``erf``, which makes GELU exact, is an elementwise entry.)

Forwards and rules compute through :data:`~chainrule.core.backend.xp`, so they run on any
Array API library (NumPy, CuPy, array-api-strict) and on Tensors. Class-index targets
arrive as NumPy parameters and are moved to the operand's library where they are used;
the scatter of a target's share (``index_add`` on NumPy, where a compiled step follows the
targets) is a one-hot product on other libraries, which the standard gives no scatter.
"""

from __future__ import annotations

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.primitive import Primitive, raw, register
from ..errors import TargetError
from . import domains as d
from .arguments import along_axis
from .linalg import matmul
from .shape import index_add


def _sum(x, axis=None, keepdims=False):
    """``xp.sum``, by the ufunc's own reduction on NumPy arrays (np.sum's wrapper costs more
    than the sum of a small batch; the result is the same)."""
    if type(x) is np.ndarray:
        return np.add.reduce(x, axis=axis, keepdims=keepdims)
    return xp.sum(x, axis=axis, keepdims=keepdims)


def _max(x, axis, keepdims):
    """``xp.max``, by the ufunc's own reduction on NumPy arrays (as :func:`_sum`)."""
    if type(x) is np.ndarray:
        return np.maximum.reduce(x, axis=axis, keepdims=keepdims)
    return xp.max(x, axis=axis, keepdims=keepdims)


def _mean(x, axis=None):
    """``xp.mean``, by the array's own method on NumPy arrays (as :func:`_sum`)."""
    return x.mean(axis=axis) if type(x) is np.ndarray else xp.mean(x, axis=axis)


def _shifted(x, axis):
    """``x`` minus its largest (real part) along ``axis``: exponentials that cannot overflow."""
    largest = xp.real(x) if backend.is_complex(x) else x
    return x - _max(largest, axis, True)


def _softmax(x, *, axis):
    e = xp.exp(_shifted(x, axis))
    return e / _sum(e, axis=axis, keepdims=True)


def _log_softmax(x, *, axis):
    z = _shifted(x, axis)
    return z - xp.log(_sum(xp.exp(z), axis=axis, keepdims=True))


def _samples(rng):
    return [
        ((d.real(rng, (3, 4)),), {"axis": 1}),
        ((d.real(rng, (3, 4)),), {"axis": 0}),
        ((d.real(rng, (5,)),), {"axis": 0}),
    ]


def _batch_along_axis(prim):
    """The batching rule of softmax and log-softmax: along the shifted axis, or over each
    example's flattened entries when the axis is None (all of them)."""

    def rule(batched, x, *, axis):
        if axis is not None:
            return prim.bind(x, axis=axis + 1)
        shape = np.shape(x)
        return xp.reshape(prim.bind(xp.reshape(x, (shape[0], -1)), axis=1), shape)

    return rule


softmax = register(
    Primitive(
        "softmax",
        _softmax,
        (lambda g, ans, x, *, axis: ans * (g - _sum(g * ans, axis=axis, keepdims=True)),),
        (lambda t, ans, x, *, axis: ans * (t - _sum(t * ans, axis=axis, keepdims=True)),),
        kind="nn",
        sample=_samples,
        names=("softmax",),
        methods=("softmax",),
        signature=along_axis("softmax", -1),
        doc="exp(x) / sum(exp(x)) along ``axis`` (default -1; PyTorch's dim=), computed stably.",
    )
)
softmax.batch = _batch_along_axis(softmax)

log_softmax = register(
    Primitive(
        "log_softmax",
        _log_softmax,
        (lambda g, ans, x, *, axis: g - xp.exp(ans) * _sum(g, axis=axis, keepdims=True),),
        (lambda t, ans, x, *, axis: t - _sum(xp.exp(ans) * t, axis=axis, keepdims=True),),
        kind="nn",
        sample=_samples,
        names=("log_softmax",),
        methods=("log_softmax",),
        signature=along_axis("log_softmax", -1),
        doc="x - logsumexp(x) along ``axis`` (default -1; PyTorch's dim=), computed stably.",
    )
)
log_softmax.batch = _batch_along_axis(log_softmax)


# --- fused layers and losses --------------------------------------------------


def _linear(x, weight, bias=None):
    """x @ weight.T + bias, as torch.nn.functional.linear: weight has shape (out, in)."""
    out = x @ weight.T
    if bias is not None:
        if bias.dtype != out.dtype and backend.is_complex(bias) and not backend.is_complex(out):
            return out + bias  # a complex step in the bias: the sum is complex
        out += bias
    return out


def _linear_vjp_weight(g, ans, x, weight, bias=None):
    """Sum over every leading (batch) axis of g_outer(x): (out, in), one matrix product."""
    if g.ndim == 2:
        return g.T @ x
    return xp.reshape(g, (-1, weight.shape[0])).T @ xp.reshape(x, (-1, weight.shape[1]))


def _linear_vjp_bias(g, ans, x, weight, bias=None):
    """Sum over every leading (batch) axis of g: (out,)."""
    return _sum(g, axis=0 if g.ndim == 2 else tuple(range(g.ndim - 1)))


def _batch_linear(batched, x, weight, bias=None):
    """One call when only the input is batched (the layer's usual case, leading axes are
    allowed); with batched weights, one batched matmul by matmul's rule plus the bias."""
    x_batched, weight_batched = batched[0], batched[1]
    bias_batched = len(batched) > 2 and batched[2]
    if not weight_batched and not bias_batched:
        return linear.bind(x, weight) if bias is None else linear.bind(x, weight, bias)
    flags = (x_batched, weight_batched)
    out = matmul.batch(flags, x, xp.moveaxis(weight, -1, -2) if weight_batched else weight.T)
    if bias is None:
        return out
    if bias_batched:
        shape = np.shape(bias)
        bias = xp.reshape(bias, shape[:1] + (1,) * (np.ndim(out) - 2) + shape[1:])
    return out + bias


linear = register(
    Primitive(
        "linear",
        _linear,
        (
            lambda g, ans, x, weight, bias=None: g @ weight,
            _linear_vjp_weight,
            _linear_vjp_bias,
        ),
        (
            lambda t, ans, x, weight, bias=None: t @ weight.T,
            lambda t, ans, x, weight, bias=None: x @ t.T,
            lambda t, ans, x, weight, bias=None: t,
        ),
        kind="nn",
        sample=lambda rng: [
            ((d.real(rng, (3, 4)), d.real(rng, (2, 4)), d.real(rng, (2,))), {}),
            ((d.real(rng, (4,)), d.real(rng, (3, 4)), d.real(rng, (3,))), {}),
            ((d.real(rng, (2, 3, 4)), d.real(rng, (2, 4)), d.real(rng, (2,))), {}),
            ((d.real(rng, (3, 4)), d.real(rng, (2, 4))), {}),
        ],
        label="linear",
        batch=_batch_linear,
        doc="x @ weight.T + bias in one node (nn.functional.linear).",
    )
)


def _reduce_rows(losses, reduction):
    if reduction == "mean":
        return _mean(losses)
    if reduction == "sum":
        return _sum(losses)
    return losses


def _per_row(g, reduction, rows):
    """The cotangent of each row's loss, shaped to broadcast over the class axis."""
    if reduction == "mean":
        return g / rows
    if reduction == "sum":
        return g
    return xp.reshape(g, (-1, 1))


def _out_of_bounds(op, target, classes):
    target = np.asarray(backend.to_device(target, backend.CPU))
    bad = target[(target < 0) | (target >= classes)][0]
    return TargetError(f"{op}: target {int(bad)} is out of bounds for {classes} classes")


def _on_library_of(like, target):
    """``target`` (class indices, or a float target given as a NumPy parameter) as an array
    of ``like``'s library, on its device."""
    space = backend.array_namespace(like)
    if space is np or backend.array_namespace(target) is space:
        return target
    return space.asarray(np.asarray(target), device=backend.native_device(like))


def _one_hot(target, classes, like):
    """(N, C) with 1 at each row's target class, in ``like``'s library and dtype."""
    space = backend.array_namespace(like)
    target = _on_library_of(like, target)
    columns = space.arange(classes, device=backend.native_device(like))
    return space.astype(xp.reshape(target, (-1, 1)) == columns, raw(like).dtype)


def _picked(op, values, target):
    """``values[i, target[i]]`` for every row; targets are checked here, at every call
    (a negative index would silently wrap around, and CuPy's indexing never raises)."""
    classes = values.shape[1]
    if type(values) is np.ndarray:
        if target.size and target.min() < 0:
            raise _out_of_bounds(op, target, classes)
        try:
            return values[np.arange(values.shape[0]), target]
        except IndexError:
            raise _out_of_bounds(op, target, classes) from None
    target = _on_library_of(values, target)
    if target.size and bool(xp.any((target < 0) | (target >= classes))):
        raise _out_of_bounds(op, target, classes)
    return xp.reshape(xp.take_along_axis(values, xp.reshape(target, (-1, 1)), axis=1), (-1,))


def _picked_tangent(t, target):
    """``t[i, target[i]]`` for every row of a tangent (an array or a recorded Tensor)."""
    if backend.array_namespace(t) is np:
        return t[np.arange(t.shape[0]), target]
    return _sum(t * _one_hot(target, t.shape[1], t), axis=1)


def _cross_entropy(logits, *, target, label_smoothing, reduction):
    """Softmax cross-entropy of (N, C) logits against class indices, from a stable log-softmax.

    Returns ``(loss, softmax)``: the softmax, one division away from the exponentials the
    log-softmax needs anyway, is the residual its rules use.
    """
    z = _shifted(logits, 1)
    e = xp.exp(z)
    total = _sum(e, axis=1, keepdims=True)
    logp = z - xp.log(total)
    losses = -_picked("cross_entropy", logp, target)
    if label_smoothing:
        losses = (1.0 - label_smoothing) * losses - label_smoothing * _mean(logp, axis=1)
    e /= total
    return _reduce_rows(losses, reduction), e


def _softmax_of(logits):
    return xp.exp(log_softmax.bind(logits, axis=1))


def _target_share(g, reduction, rows, classes, target):
    """Each row's cotangent at its target class, zeros elsewhere: ``one_hot(target) * scale``.

    On NumPy a recorded scatter (index_add) reads the targets, not a one-hot built from them,
    so under vmap or compile targets that differ per call are followed, not frozen; other
    libraries (no scatter in the standard) multiply by the one-hot.
    """
    if backend.array_namespace(g) is not np:
        return xp.reshape(_per_row(g, reduction, rows), (-1, 1)) * _one_hot(target, classes, g)
    per_row = (
        g if reduction == "none" else _per_row(g, reduction, rows) * np.ones(rows, raw(g).dtype)
    )
    return index_add.bind(per_row, index=(np.arange(rows), target), shape=(rows, classes))


def _cross_entropy_vjp(g, ans, logits, *, target, label_smoothing, reduction, res):
    rows, classes = logits.shape
    scale = _per_row(g, reduction, rows)
    if type(res) is not np.ndarray:  # a recorded backward pass, or another library's arrays
        slope = (_softmax_of(logits) if res is None else res) * scale
        slope = slope - (1.0 - label_smoothing) * _target_share(g, reduction, rows, classes, target)
        return slope - (label_smoothing / classes) * scale if label_smoothing else slope
    # (softmax - q) * scale without building q: scale the softmax, then take the target's
    # share from its class and the smoothing's from every class.
    slope = res * scale
    index = np.arange(rows)
    slope[index, target] -= (1.0 - label_smoothing) * (
        scale if np.ndim(scale) == 0 else scale[:, 0]
    )
    if label_smoothing:
        slope -= (label_smoothing / classes) * scale
    return slope


def _cross_entropy_jvp(t, ans, logits, *, target, label_smoothing, reduction, res):
    """(softmax - q) · t per row, the target's class read by indexing the tangent."""
    p = res if res is not None else _softmax_of(logits)
    rows, classes = logits.shape
    losses = _sum(p * t, axis=1) - (1.0 - label_smoothing) * _picked_tangent(t, target)
    if label_smoothing:
        losses = losses - (label_smoothing / classes) * _sum(t, axis=1)
    return _reduce_rows(losses, reduction)


def _cross_entropy_samples(rng):
    target = np.array([0, 3, 1])
    return [
        ((d.real(rng, (3, 4)),), {"target": target, "label_smoothing": 0.0, "reduction": r})
        for r in ("mean", "sum", "none")
    ] + [((d.real(rng, (3, 4)),), {"target": target, "label_smoothing": 0.1, "reduction": "mean"})]


def _batch_rows(prim):
    """The batching rule of a class-index loss whose targets are shared by the examples:
    the batch's rows as one (B·N, C) call without reduction, then each example's reduction.
    (Targets that differ per example are parameters with a batch axis: vmap runs those
    once per example.)"""

    def rule(batched, logits, *, target, reduction, **params):
        shape = np.shape(logits)
        rows = xp.reshape(logits, (shape[0] * shape[1], shape[2]))
        losses = prim.bind(rows, target=xp.tile(target, (shape[0],)), reduction="none", **params)
        losses = xp.reshape(losses, shape[:2])
        if reduction == "mean":
            return _mean(losses, axis=1)
        return _sum(losses, axis=1) if reduction == "sum" else losses

    return rule


cross_entropy = register(
    Primitive(
        "cross_entropy",
        _cross_entropy,
        (_cross_entropy_vjp,),
        (_cross_entropy_jvp,),
        kind="nn",
        sample=_cross_entropy_samples,
        label="CE",
        residuals=True,
    )
)
cross_entropy.batch = _batch_rows(cross_entropy)


def _nll_loss(log_probs, *, target, reduction):
    """Negative log-likelihood: minus each row's log-probability at its class index."""
    return _reduce_rows(-_picked("nll_loss", log_probs, target), reduction)


def _nll_loss_vjp(g, ans, log_probs, *, target, reduction):
    rows, classes = log_probs.shape
    return -_target_share(g, reduction, rows, classes, target)


def _nll_loss_jvp(t, ans, log_probs, *, target, reduction):
    return _reduce_rows(-_picked_tangent(t, target), reduction)


nll_loss = register(
    Primitive(
        "nll_loss",
        _nll_loss,
        (_nll_loss_vjp,),
        (_nll_loss_jvp,),
        kind="nn",
        sample=lambda rng: [
            ((d.real(rng, (3, 4)),), {"target": np.array([0, 3, 1]), "reduction": r})
            for r in ("mean", "sum", "none")
        ],
        label="NLL",
    )
)
nll_loss.batch = _batch_rows(nll_loss)

#: PyTorch's floor on log(p) in binary cross-entropy, so p = 0 or 1 gives a finite loss.
_LOG_FLOOR = -100.0
#: PyTorch's floor on p (1 - p) in the gradient of binary cross-entropy.
_BCE_EPS = 1e-12


def _float_target(p, target):
    """A float target in ``p``'s library and dtype."""
    if backend.array_namespace(p) is np:
        return np.asarray(target, dtype=raw(p).dtype)
    return xp.astype(_on_library_of(p, target), raw(p).dtype)


def _binary_cross_entropy(p, *, target):
    target = _float_target(p, target)
    with np.errstate(divide="ignore"):
        log_p = xp.maximum(xp.log(p), _LOG_FLOOR)
        log_not_p = xp.maximum(xp.log1p(-p), _LOG_FLOOR)
    return -(target * log_p + (1.0 - target) * log_not_p)


def _bce_slope(p, target):
    """d loss / d p = (p - y) / (p (1 - p)), with PyTorch's floor on the denominator."""
    return (p - _float_target(p, target)) / xp.maximum(p * (1.0 - p), _BCE_EPS)


binary_cross_entropy = register(
    Primitive(
        "binary_cross_entropy",
        _binary_cross_entropy,
        (lambda g, ans, p, *, target: g * _bce_slope(p, target),),
        (lambda t, ans, p, *, target: t * _bce_slope(p, target),),
        kind="nn",
        sample=lambda rng: [
            ((rng.uniform(0.05, 0.95, (3, 4)),), {"target": rng.uniform(0.0, 1.0, (3, 4))}),
            ((rng.uniform(0.05, 0.95, (5,)),), {"target": (rng.random(5) < 0.5) * 1.0}),
        ],
        label="BCE",
        batch=lambda batched, p, *, target: binary_cross_entropy.bind(p, target=target),
    )
)
