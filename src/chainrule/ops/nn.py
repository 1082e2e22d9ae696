"""Neural-network primitives: softmax, log-softmax, the fused layer and losses, erf.

Layer: ops. Softmax and log-softmax subtract the maximum before exponentiating, so
logits of 1000 give finite, exact results. ``linear`` and ``cross_entropy`` are
single primitives (one node, one rule each) because a training step spends most
of its time in them; ``erf`` makes GELU exact.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import Primitive, raw, register
from ..errors import TargetError
from . import domains as d
from .arguments import along_axis
from .linalg import matmul
from .shape import index_add


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


def _batch_along_axis(prim):
    """The batching rule of softmax and log-softmax: along the shifted axis, or over each
    example's flattened entries when the axis is None (all of them)."""

    def rule(batched, x, *, axis):
        if axis is not None:
            return prim.bind(x, axis=axis + 1)
        shape = np.shape(x)
        return prim.bind(x.reshape(shape[0], -1), axis=1).reshape(shape)

    return rule


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
softmax.batch = _batch_along_axis(softmax)

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
log_softmax.batch = _batch_along_axis(log_softmax)


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


def _batch_linear(batched, x, weight, bias=None):
    """One call when only the input is batched (the layer's usual case, leading axes are
    allowed); with batched weights, one batched matmul by matmul's rule plus the bias."""
    x_batched, weight_batched = batched[0], batched[1]
    bias_batched = len(batched) > 2 and batched[2]
    if not weight_batched and not bias_batched:
        return linear.bind(x, weight) if bias is None else linear.bind(x, weight, bias)
    flags = (x_batched, weight_batched)
    out = matmul.batch(flags, x, weight.swapaxes(-1, -2) if weight_batched else weight.T)
    if bias is None:
        return out
    if bias_batched:
        shape = np.shape(bias)
        bias = bias.reshape(shape[:1] + (1,) * (np.ndim(out) - 2) + shape[1:])
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


def _softmax_of(logits):
    return np.exp(log_softmax.bind(logits, axis=1))


def _target_share(g, reduction, rows, classes, target):
    """Each row's cotangent at its target class, zeros elsewhere: ``one_hot(target) * scale``.

    A recorded scatter (index_add) reads the targets, not a one-hot built from them with
    NumPy, so under vmap or compile targets that differ per call are followed, not frozen.
    """
    per_row = (
        g if reduction == "none" else _per_row(g, reduction, rows) * np.ones(rows, raw(g).dtype)
    )
    return index_add.bind(per_row, index=(np.arange(rows), target), shape=(rows, classes))


def _cross_entropy_vjp(g, ans, logits, *, target, label_smoothing, reduction, res):
    rows, classes = logits.shape
    scale = _per_row(g, reduction, rows)
    if res is None:  # a recorded backward pass: everything on Tensors
        slope = _softmax_of(logits) * scale
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
    losses = (p * t).sum(axis=1) - (1.0 - label_smoothing) * t[np.arange(rows), target]
    if label_smoothing:
        losses = losses - (label_smoothing / classes) * t.sum(axis=1)
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
        rows = logits.reshape(shape[0] * shape[1], shape[2])
        losses = prim.bind(rows, target=np.tile(target, shape[0]), reduction="none", **params)
        losses = losses.reshape(shape[:2])
        if reduction == "mean":
            return losses.mean(axis=1)
        return losses.sum(axis=1) if reduction == "sum" else losses

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
nll_loss.batch = _batch_rows(nll_loss)

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
        batch=lambda batched, p, *, target: binary_cross_entropy.bind(p, target=target),
    )
)

# --- the error function, for exact GELU -------------------------------------------
# Cephes' rational approximations (S. L. Moshier, public domain), the ones SciPy compiles:
# erf(x) = x T(x^2) / U(x^2) for |x| <= 1 (relative error < 3.7e-16 in IEEE double), and
# erf(x) = 1 - erfc(x) beyond, with erfc(x) = exp(-x^2) P(x) / Q(x) for 1 <= x < 8 and
# exp(-x^2) R(x) / S(x) from 8 on. U, Q and S have an implicit leading coefficient 1.

_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
_ERFC_R = (
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
)
_ERFC_S = (
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
)
_TWO_OVER_SQRT_PI = 1.1283791670955126


def _polynomial(x, coefficients, leading_one=False):
    """Horner's rule, highest power first (Cephes' polevl, or p1evl with ``leading_one``)."""
    result = x + coefficients[0] if leading_one else np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result = result * x + c
    return result


def _erf(x):
    """Cephes' rational approximations (within 4.3e-16 of math.erf) for real x.

    Piecewise in |x|, so not analytic: complex inputs (the complex-step method) are
    refused rather than answered wrongly.
    """
    if np.iscomplexobj(x):
        raise TypeError("erf: complex inputs are not supported (its formula is piecewise in |x|)")
    x = np.asarray(x)
    inside = np.abs(x) <= 1.0
    near = np.where(inside, x, 0.0)
    z = near * near
    erf_near = near * _polynomial(z, _ERF_T) / _polynomial(z, _ERF_U, leading_one=True)
    far = np.clip(np.abs(x), 1.0, 30.0)  # erfc(30) underflows to 0 already
    ratio = np.where(
        far < 8.0,
        _polynomial(far, _ERFC_P) / _polynomial(far, _ERFC_Q, leading_one=True),
        _polynomial(far, _ERFC_R) / _polynomial(far, _ERFC_S, leading_one=True),
    )
    erf_far = np.sign(x) * (1.0 - np.exp(-far * far) * ratio)
    return np.where(inside, erf_near, erf_far)


erf = register(
    Primitive(
        "erf",
        _erf,
        (lambda g, ans, x: g * (_TWO_OVER_SQRT_PI * np.exp(-x * x)),),
        (lambda t, ans, x: t * (_TWO_OVER_SQRT_PI * np.exp(-x * x)),),
        kind="elementwise",
        domains=(lambda rng, shape: rng.uniform(-3.0, 3.0, size=shape),),
        names=("erf",),
        methods=("erf",),
        signature="unary",
        doc="Elementwise error function (exact GELU uses it); real inputs only.",
    )
)
