"""Neural-network primitives: softmax, log-softmax, the fused layer and losses.

Layer: ops. Softmax and log-softmax subtract the maximum before exponentiating, so
logits of 1000 give finite, exact results. ``linear`` and ``cross_entropy`` are
single primitives (one node, one rule each) because a training step spends most
of its time in them. (``erf``, which makes GELU exact, is an elementwise entry.)
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import Primitive, raw, register
from ..errors import TargetError
from . import domains as d
from .arguments import along_axis


def _shifted(x, axis):
    return x - np.max(x.real, axis=axis, keepdims=True)


def _softmax(x, *, axis):
    e = np.exp(_shifted(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, *, axis):
    z = _shifted(x, axis)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _samples(rng):
    return [
        ((d.real(rng, (3, 4)),), {"axis": 1}),
        ((d.real(rng, (3, 4)),), {"axis": 0}),
        ((d.real(rng, (5,)),), {"axis": 0}),
    ]


softmax = register(
    Primitive(
        "softmax",
        _softmax,
        (lambda g, ans, x, *, axis: ans * (g - (g * ans).sum(axis=axis, keepdims=True)),),
        (lambda t, ans, x, *, axis: ans * (t - (t * ans).sum(axis=axis, keepdims=True)),),
        kind="nn",
        sample=_samples,
        names=("softmax",),
        methods=("softmax",),
        signature=along_axis("softmax", -1),
        doc="exp(x) / sum(exp(x)) along ``axis`` (default -1; PyTorch's dim=), computed stably.",
    )
)

log_softmax = register(
    Primitive(
        "log_softmax",
        _log_softmax,
        (lambda g, ans, x, *, axis: g - np.exp(ans) * g.sum(axis=axis, keepdims=True),),
        (lambda t, ans, x, *, axis: t - (np.exp(ans) * t).sum(axis=axis, keepdims=True),),
        kind="nn",
        sample=_samples,
        names=("log_softmax",),
        methods=("log_softmax",),
        signature=along_axis("log_softmax", -1),
        doc="x - logsumexp(x) along ``axis`` (default -1; PyTorch's dim=), computed stably.",
    )
)


# --- fused layers and losses --------------------------------------------------


def _linear(x, weight, bias=None):
    """x @ weight.T + bias, as torch.nn.functional.linear: weight has shape (out, in)."""
    out = np.matmul(x, weight.T)
    if bias is not None:
        if bias.dtype.kind == "c" and out.dtype.kind != "c":  # a complex step in the bias
            return out + bias
        out += bias
    return out


def _linear_vjp_weight(g, ans, x, weight, bias=None):
    """Sum over every leading (batch) axis of g_outer(x): (out, in), one matrix product."""
    if g.ndim == 2:
        return g.T @ x
    return g.reshape(-1, weight.shape[0]).T @ x.reshape(-1, weight.shape[1])


def _linear_vjp_bias(g, ans, x, weight, bias=None):
    """Sum over every leading (batch) axis of g: (out,)."""
    return np.add.reduce(g, axis=0 if g.ndim == 2 else tuple(range(g.ndim - 1)))


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
        doc="x @ weight.T + bias in one node (nn.functional.linear).",
    )
)


def _smoothed_one_hot(target, classes, label_smoothing, dtype):
    """The target distribution: (1 - eps) on the true class plus eps spread over all classes."""
    q = np.full((target.shape[0], classes), label_smoothing / classes, dtype=dtype)
    q[np.arange(target.shape[0]), target] += 1.0 - label_smoothing
    return q


def _reduce_rows(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _per_row(g, reduction, rows):
    """The cotangent of each row's loss, shaped to broadcast over the class axis."""
    if reduction == "mean":
        return g / rows
    if reduction == "sum":
        return g
    return g.reshape(-1, 1)


def _out_of_bounds(op, target, classes):
    bad = target[(target < 0) | (target >= classes)][0]
    return TargetError(f"{op}: target {int(bad)} is out of bounds for {classes} classes")


def _picked(op, values, target):
    """``values[i, target[i]]`` for every row; targets are checked here, at every call
    (a negative index would silently wrap around)."""
    classes = values.shape[1]
    if target.size and target.min() < 0:
        raise _out_of_bounds(op, target, classes)
    try:
        return values[np.arange(values.shape[0]), target]
    except IndexError:
        raise _out_of_bounds(op, target, classes) from None


def _cross_entropy(logits, *, target, label_smoothing, reduction):
    """Softmax cross-entropy of (N, C) logits against class indices, from a stable log-softmax.

    Returns ``(loss, softmax)``: the softmax, one division away from the exponentials the
    log-softmax needs anyway, is the residual its rules use.
    """
    z = _shifted(logits, 1)
    e = np.exp(z)
    total = np.add.reduce(e, axis=1, keepdims=True)
    logp = z - np.log(total)
    losses = -_picked("cross_entropy", logp, target)
    if label_smoothing:
        losses = (1.0 - label_smoothing) * losses - label_smoothing * logp.mean(axis=1)
    e /= total
    return _reduce_rows(losses, reduction), e


def _cross_entropy_slope(logits, target, label_smoothing, res):
    """d loss_row / d logits = softmax - q, with the softmax recomputed from the logits
    (differentiably, when they are Tensors) where no residual was saved."""
    p = res if res is not None else _softmax_of(logits)
    return p - _smoothed_one_hot(target, logits.shape[1], label_smoothing, raw(logits).dtype)


def _softmax_of(logits):
    return np.exp(log_softmax.bind(logits, axis=1))


def _cross_entropy_vjp(g, ans, logits, *, target, label_smoothing, reduction, res):
    scale = _per_row(g, reduction, logits.shape[0])
    if res is None:  # a recorded backward pass: everything on Tensors
        return _cross_entropy_slope(logits, target, label_smoothing, res) * scale
    # (softmax - q) * scale without building q: scale the softmax, then take the target's
    # share from its class and the smoothing's from every class.
    slope = res * scale
    rows = np.arange(slope.shape[0])
    slope[rows, target] -= (1.0 - label_smoothing) * (scale if np.ndim(scale) == 0 else scale[:, 0])
    if label_smoothing:
        slope -= (label_smoothing / slope.shape[1]) * scale
    return slope


def _cross_entropy_jvp(t, ans, logits, *, target, label_smoothing, reduction, res):
    slope = _cross_entropy_slope(logits, target, label_smoothing, res)
    return _reduce_rows((slope * t).sum(axis=1), reduction)


def _cross_entropy_samples(rng):
    target = np.array([0, 3, 1])
    return [
        ((d.real(rng, (3, 4)),), {"target": target, "label_smoothing": 0.0, "reduction": r})
        for r in ("mean", "sum", "none")
    ] + [((d.real(rng, (3, 4)),), {"target": target, "label_smoothing": 0.1, "reduction": "mean"})]


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


def _nll_loss(log_probs, *, target, reduction):
    """Negative log-likelihood: minus each row's log-probability at its class index."""
    return _reduce_rows(-_picked("nll_loss", log_probs, target), reduction)


def _nll_loss_vjp(g, ans, log_probs, *, target, reduction):
    one_hot = _smoothed_one_hot(target, log_probs.shape[1], 0.0, raw(log_probs).dtype)
    return -one_hot * _per_row(g, reduction, log_probs.shape[0])


def _nll_loss_jvp(t, ans, log_probs, *, target, reduction):
    return _reduce_rows(-t[np.arange(log_probs.shape[0]), target], reduction)


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

#: PyTorch's floor on log(p) in binary cross-entropy, so p = 0 or 1 gives a finite loss.
_LOG_FLOOR = -100.0
#: PyTorch's floor on p (1 - p) in the gradient of binary cross-entropy.
_BCE_EPS = 1e-12


def _binary_cross_entropy(p, *, target):
    target = np.asarray(target, dtype=p.dtype)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), _LOG_FLOOR)
        log_not_p = np.maximum(np.log1p(-p), _LOG_FLOOR)
    return -(target * log_p + (1.0 - target) * log_not_p)


def _bce_slope(p, target):
    """d loss / d p = (p - y) / (p (1 - p)), with PyTorch's floor on the denominator."""
    target = np.asarray(target, dtype=raw(p).dtype)
    return (p - target) / np.maximum(p * (1.0 - p), _BCE_EPS)


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
    )
)
