"""Function transforms in JAX's style: grad, value_and_grad, vjp, jvp, jacobian (jacrev,
jacfwd), hessian, hvp, linearize, and checkpoint (remat).

Layer: api (imports core, tensor, functions). ``f`` is ordinary Python written with
chainrule operations. At the outermost call inputs may be floats, lists, arrays
or Tensors and the results are NumPy arrays (Python floats for scalars). A
transform called while another one is running (``grad(grad(f))``, or ``grad``
inside a function being differentiated) records its own backward pass and
returns Tensors on the graph, so the outer transform can differentiate through it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

import numpy as np

from .core import backend, engine
from .core.backend import xp
from .core.mode import current_trace, enable_grad, no_grad, tracing
from .core.primitive import Primitive
from .errors import DtypeError, ShapeError
from .functions import reshape, stack
from .ops import shape as shape_ops
from .tensor import _NO_PARAMS, Tensor, _ones_like, _to_array, apply, get_default_dtype

#: How many transforms are running a user function in this context (thread, task):
#: inside one, a transform records its backward pass for the outer one to differentiate.
_DEPTH: ContextVar[int] = ContextVar("chainrule_transform_depth", default=0)


def _normalize_argnums(argnums: int | Sequence[int], nargs: int, name: str) -> tuple[int, ...]:
    items = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    if not items:
        raise ValueError(f"{name}: argnums is empty")
    normalized = []
    for a in items:
        if not isinstance(a, (int, np.integer)) or not -nargs <= a < nargs:
            raise ValueError(
                f"{name}: argnums {argnums!r} is out of range: the function was called with "
                f"{nargs} positional argument{'s' if nargs != 1 else ''}"
            )
        normalized.append(int(a) % nargs)
    return tuple(normalized)


def _float_array(value: Any, name: str, position: int) -> np.ndarray:
    """Inputs as floating point arrays; Python ints and int lists become the default dtype."""
    array = _to_array(value)
    if backend.kind(array) in "fc":
        return array
    if not isinstance(value, (np.ndarray, np.generic, Tensor)) and array.dtype.kind in "iub":
        return array.astype(get_default_dtype())
    raise DtypeError(
        f"{name}: argument {position} has dtype {array.dtype}; derivatives need floating point "
        "inputs (use floats, e.g. 2.0, or .astype(np.float64))"
    )


def _is_nested(args: Sequence[Any]) -> bool:
    return _DEPTH.get() > 0 or any(isinstance(a, Tensor) and a.requires_grad for a in args)


def _input_node(value: Any, name: str, position: int) -> Tensor:
    """A fresh differentiation variable holding ``value``.

    A Tensor already on a graph is passed through an identity node, so gradients
    stop at this transform's variable and still flow on to the outer graph.
    """
    if isinstance(value, Tensor) and value.requires_grad:
        with enable_grad():
            return apply(shape_ops.identity, (value,), _NO_PARAMS)
    return Tensor(_float_array(value, name, position), requires_grad=True)


def _call(f: Callable[..., Any], args: list[Any], kwargs: dict) -> Any:
    token = _DEPTH.set(_DEPTH.get() + 1)
    try:
        with enable_grad():
            return f(*args, **kwargs)
    finally:
        _DEPTH.reset(token)


def _prepare(
    f: Callable[..., Any], args: tuple, kwargs: dict, argnums: tuple[int, ...], name: str
) -> tuple[list[Tensor], Any]:
    inputs = [_input_node(args[i], name, i) for i in argnums]
    call_args = list(args)
    for i, node in zip(argnums, inputs, strict=True):
        call_args[i] = node
    return inputs, _call(f, call_args, kwargs)


def _as_output(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def _export(value: Any, nested: bool) -> Any:
    """Tensors inside a transform; arrays (floats for scalars) at the outermost call."""
    if nested:
        return value if isinstance(value, Tensor) else Tensor(value)
    array = value._data if isinstance(value, Tensor) else value
    if type(array) in backend.NUMPY_TYPES:
        array = np.asarray(array)
    if array.ndim or type(array) is not np.ndarray:
        return array  # another library's 0-d array stays one: no device-to-host copy
    number = array.item()
    trace = current_trace()
    if trace is not None:
        trace.export(value, number)
    return number


def _seed(array: Any, nested: bool) -> Any:
    """A sweep's seed: a Tensor when the sweep is recorded (a Tensor seed stays on its graph)."""
    if isinstance(array, Tensor) or not nested:
        return array
    return Tensor(array)


def _gradients(
    out: Tensor, seed: np.ndarray, inputs: list[Tensor], nested: bool, retain: bool
) -> list[Any]:
    if out.requires_grad:
        grads = engine.backprop(
            out, _seed(seed, nested), inputs, create_graph=nested, retain_graph=retain or nested
        )
    else:
        grads = [None] * len(inputs)
    return [xp.zeros_like(x._data) if g is None else g for g, x in zip(grads, inputs, strict=True)]


def _check_complex(
    name: str, out: Tensor, inputs: list[Tensor], holomorphic: bool, real: str = "output"
) -> None:
    """JAX's rules: ``grad`` and a reverse-mode Jacobian need a real output, a forward-mode
    Jacobian real inputs (``real``), unless ``holomorphic`` says f is holomorphic; then its
    inputs must be complex and the derivative is f′(z)."""
    if holomorphic:
        for i, x in enumerate(inputs):
            if backend.kind(x) != "c":
                raise DtypeError(
                    f"{name}(holomorphic=True): input {i} has dtype {x.dtype}; a holomorphic "
                    "function's inputs must be complex (e.g. x.astype(np.complex128))"
                )
        return
    values = [out] if real == "output" else inputs
    for value in values:
        if backend.kind(value) == "c":
            raise DtypeError(
                f"{name}: f has a complex {real} (dtype {value.dtype}), where this derivative "
                f"needs a real one. Pass holomorphic=True if f is holomorphic; otherwise "
                "differentiate a real function of it (cr.abs, cr.real, ...), or use vjp/jvp"
            )


def _refuse_complex_for_real(value: Any, dtype: np.dtype, what: str) -> None:
    """A complex cotangent (tangent) for a real output (input) would lose its imaginary
    part in the cast: refused, as JAX refuses a mismatched dtype."""
    given = value if isinstance(value, (Tensor, np.ndarray, np.generic)) else np.asarray(value)
    if not backend.is_complex_dtype(dtype) and backend.kind(given) == "c":
        raise DtypeError(f"{what} is complex but has to match the real dtype {dtype}")


def value_and_grad(
    f: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """A function returning ``(f(*args), gradient)`` of a scalar-valued ``f``.

    With a tuple ``argnums`` the gradient is a tuple; with ``has_aux`` ``f``
    returns ``(value, aux)`` and the result is ``((value, aux), gradient)``.
    As in JAX, a real-valued ``f`` of complex z = x + iy has gradient ∂f/∂x − i·∂f/∂y;
    a complex-valued ``f`` needs ``holomorphic=True`` (and complex inputs), and then
    its gradient is the complex derivative f′(z).

    >>> import chainrule as cr
    >>> cr.value_and_grad(lambda x: x ** 3)(2.0)
    (8.0, 12.0)
    """

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nums = _normalize_argnums(argnums, len(args), "grad")
        nested = _is_nested(args)
        inputs, result = _prepare(f, args, kwargs, nums, "grad")
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError("grad with has_aux=True: f must return a pair (value, aux)")
            result, aux = result
        out = _as_output(result)
        if out.size != 1:
            raise ShapeError(
                f"grad: f must return a scalar (one element) to have a gradient, but it "
                f"returned shape {out.shape}; use jacobian or vjp for vector outputs"
            )
        _check_complex("grad", out, inputs, holomorphic)
        grads = _gradients(out, _ones_like(out._data), inputs, nested, retain=False)
        grads = [_export(g, nested) for g in grads]
        gradient = grads[0] if isinstance(argnums, (int, np.integer)) else tuple(grads)
        value = _export(out, nested)
        return ((value, aux) if has_aux else value), gradient

    return wrapped


def grad(
    f: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The gradient of a scalar-valued ``f`` with respect to argument(s) ``argnums``.

    Complex inputs follow JAX's convention (see :func:`value_and_grad`).

    >>> import chainrule as cr
    >>> cr.grad(lambda x: cr.sin(x) * x)(0.0)
    0.0
    >>> cr.grad(cr.grad(lambda x: x ** 3))(2.0)
    12.0
    >>> cr.grad(cr.abs)(3 + 4j)
    (0.6000000000000001-0.8j)
    >>> cr.grad(lambda z: z * z, holomorphic=True)(1 + 2j)
    (2+4j)
    """
    value_and_gradient = value_and_grad(f, argnums, has_aux, holomorphic)

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        value, gradient = value_and_gradient(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapped


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangent)`` gives one gradient per primal.

    The graph is kept, so ``vjp_fn`` may be called with many cotangents. The pullback
    is differentiable in its cotangent and, inside a transform, in the primals: called
    under ``grad``, ``jvp`` or ``hessian`` (or with a Tensor that requires grad) it
    records its backward pass.

    >>> import chainrule as cr, numpy as np
    >>> out, pullback = cr.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> pullback(np.array([1.0, 10.0]))
    (array([ 2., 40.]),)
    >>> f = lambda x: 3.0 * cr.sin(x)
    >>> dx, dv = cr.grad(lambda x, v: cr.vjp(f, x)[1](v)[0], argnums=(0, 1))(0.3, 1.0)
    >>> print(f"{dx:.4f} {dv:.4f}")
    -0.8866 2.8660
    """
    nums = tuple(range(len(primals)))
    nested = _is_nested(primals)
    inputs, result = _prepare(f, primals, {}, nums, "vjp")
    out = _as_output(result)

    def vjp_fn(cotangent: Any) -> tuple:
        recorded = nested or _is_nested((cotangent,))
        _refuse_complex_for_real(cotangent, out.dtype, "vjp: the cotangent of f's output")
        if isinstance(cotangent, Tensor) and recorded:
            seed = cotangent if cotangent.dtype == out.dtype else cotangent.astype(out.dtype)
        else:
            seed = _to_array(cotangent, out.dtype)
        if seed.shape != out.shape:
            raise ShapeError(
                f"vjp: the cotangent has shape {seed.shape} but f's output has shape {out.shape}"
            )
        grads = _gradients(out, seed, inputs, recorded, retain=True)
        return tuple(_export(g, recorded) for g in grads)

    return _export(out, nested), vjp_fn


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J @ tangents)`` by forward mode.

    ``f`` is traced once; the tangents are then pushed forward through every
    recorded primitive's JVP rule in evaluation order (no reverse rule is used).

    >>> import chainrule as cr
    >>> cr.jvp(cr.sin, (0.0,), (2.0,))
    (0.0, 2.0)
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: got {len(primals)} primals but {len(tangents)} tangents; give one tangent "
            "per primal"
        )
    nested = _is_nested(primals) or _is_nested(tangents)
    inputs, result = _prepare(f, primals, {}, tuple(range(len(primals))), "jvp")
    out = _as_output(result)
    seeds = []
    for i, (x, t) in enumerate(zip(inputs, tangents, strict=True)):
        _refuse_complex_for_real(t, x.dtype, f"jvp: tangent {i}")
        if isinstance(t, Tensor) and nested:
            tangent = t if t.dtype == x.dtype else t.astype(x.dtype)
        else:
            tangent = _seed(_to_array(t, x.dtype), nested)
        if tangent.shape != x.shape:
            raise ShapeError(
                f"jvp: tangent {i} has shape {tangent.shape} but primal {i} has shape {x.shape}"
            )
        seeds.append(tangent)
    (tangent_out,) = engine.push_tangents([out], inputs, seeds, create_graph=nested)
    if tangent_out is None:
        tangent_out = xp.zeros_like(out._data)
    return _export(out, nested), _export(tangent_out, nested)


def _unit(like: Any, k: int) -> Any:
    """The k-th unit array of ``like``'s shape, dtype and library."""
    if type(like) in backend.NUMPY_TYPES:
        basis = np.zeros(int(np.prod(np.shape(like))), dtype=like.dtype)
        basis[k] = 1
        return basis.reshape(np.shape(like))
    space = backend.namespace(like)
    flat = space.arange(math.prod(like.shape), device=like.device) == k
    return space.reshape(space.astype(flat, like.dtype), like.shape)


def jacobian(
    f: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    mode: str = "rev",
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The Jacobian of ``f``: an array of shape ``out.shape + input.shape``.

    ``mode="rev"`` runs one reverse sweep per output element; ``mode="fwd"`` one
    forward sweep per input element (better when inputs are fewer than outputs).
    As JAX's jacrev and jacfwd, complex outputs ("rev") or inputs ("fwd") need
    ``holomorphic=True`` (and complex inputs); the result is then f′(z).

    >>> import chainrule as cr, numpy as np
    >>> cr.jacobian(lambda x: x * x, mode="fwd")(np.array([1.0, 3.0]))
    array([[2., 0.],
           [0., 6.]])
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', got {mode!r}")

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nums = _normalize_argnums(argnums, len(args), "jacobian")
        nested = _is_nested(args)
        inputs, result = _prepare(f, args, kwargs, nums, "jacobian")
        out = _as_output(result)
        _check_complex("jacobian", out, inputs, holomorphic, "output" if mode == "rev" else "input")
        if mode == "rev":
            blocks = _jacobian_rev(out, inputs, nested)
        else:
            blocks = _jacobian_fwd(out, inputs, nested)
        blocks = [_export(b, nested) for b in blocks]
        return blocks[0] if isinstance(argnums, (int, np.integer)) else tuple(blocks)

    return wrapped


def _combine(rows: list[Any], shape: tuple[int, ...], nested: bool) -> Any:
    if nested:
        return reshape(stack(rows), shape)
    return xp.reshape(xp.stack(rows), shape)


def _jacobian_rev(out: Tensor, inputs: list[Tensor], nested: bool) -> list[Any]:
    rows: list[list[Any]] = [[] for _ in inputs]
    for k in range(out.size):
        grads = _gradients(out, _unit(out._data, k), inputs, nested, retain=True)
        for row, g in zip(rows, grads, strict=True):
            row.append(g)
    return [
        _combine(row, out.shape + x.shape, nested) if row else np.zeros(out.shape + x.shape)
        for row, x in zip(rows, inputs, strict=True)
    ]


def _jacobian_fwd(out: Tensor, inputs: list[Tensor], nested: bool) -> list[Any]:
    blocks = []
    for x in inputs:
        columns = []
        for k in range(x.size):
            (t,) = engine.push_tangents(
                [out], [x], [_seed(_unit(x._data, k), nested)], create_graph=nested
            )
            columns.append(xp.zeros_like(out._data) if t is None else t)
        if not columns:
            blocks.append(np.zeros(out.shape + x.shape))
            continue
        # columns[k] is dOut/dx_k; stack them last, then unflatten x's axes.
        stacked = _combine(columns, (x.size,) + out.shape, nested)
        order = tuple(range(1, out.ndim + 1)) + (0,)
        moved = xp.permute_dims(stacked, order)
        blocks.append(xp.reshape(moved, out.shape + x.shape))
    return blocks


def hessian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """The Hessian of a scalar-valued ``f``, forward-over-reverse: shape ``x.shape + x.shape``.

    >>> import chainrule as cr
    >>> cr.hessian(lambda x: x ** 3)(2.0)
    12.0
    """
    if not isinstance(argnums, (int, np.integer)):
        raise ValueError("hessian: argnums must be a single int")
    return jacobian(grad(f, argnums), argnums, mode="fwd")


def jacrev(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, holomorphic: bool = False
) -> Callable[..., Any]:
    """The Jacobian of ``f`` by reverse mode (JAX's name): one reverse sweep per output
    element, so it suits functions with fewer outputs than inputs.

    >>> import chainrule as cr, numpy as np
    >>> cr.jacrev(lambda x: x.sum() * x)(np.array([1.0, 2.0]))
    array([[4., 1.],
           [2., 5.]])
    """
    return jacobian(f, argnums, mode="rev", holomorphic=holomorphic)


def jacfwd(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0, holomorphic: bool = False
) -> Callable[..., Any]:
    """The Jacobian of ``f`` by forward mode (JAX's name): one forward sweep per input
    element, so it suits functions with fewer inputs than outputs.

    >>> import chainrule as cr, numpy as np
    >>> cr.jacfwd(lambda x: x.sum() * x)(np.array([1.0, 2.0]))
    array([[4., 1.],
           [2., 5.]])
    """
    return jacobian(f, argnums, mode="fwd", holomorphic=holomorphic)


def hvp(f: Callable[..., Any], *point: Any) -> Any:
    """Hessian-vector product of a scalar-valued ``f``: ``hvp(f, x, v)`` is H(x) @ v.

    Forward over reverse, as JAX's documentation writes it: ``jvp(grad(f), (x,), (v,))``,
    so the Hessian is never formed. ``hvp(f)`` is the curried form, ``hvp(f)(x, v)``.

    >>> import chainrule as cr, numpy as np
    >>> f = lambda x: (x ** 3).sum()
    >>> cr.hvp(f, np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([6., 0.])
    """
    if not point:
        return lambda x, v: hvp(f, x, v)
    if len(point) != 2:
        raise TypeError(f"hvp: call it as hvp(f, x, v) or hvp(f)(x, v), got {len(point)} points")
    x, v = point
    return jvp(grad(f), (x,), (v,))[1]


def linearize(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(f(*primals), f_jvp)`` where ``f_jvp(*tangents)`` is J @ tangents (JAX's linearize).

    ``f`` runs once; each ``f_jvp`` call pushes its tangents forward through the graph
    recorded then (no re-run of ``f``), so many tangents at one point are cheap.

    >>> import chainrule as cr, numpy as np
    >>> out, f_jvp = cr.linearize(cr.sin, 0.0)
    >>> out, f_jvp(2.0)
    (0.0, 2.0)
    """
    nested = _is_nested(primals)
    inputs, result = _prepare(f, primals, {}, tuple(range(len(primals))), "linearize")
    out = _as_output(result)

    def f_jvp(*tangents: Any) -> Any:
        if len(tangents) != len(inputs):
            raise ValueError(
                f"linearize: got {len(tangents)} tangents for {len(inputs)} primals; give one "
                "tangent per primal"
            )
        recorded = nested or _is_nested(tangents)
        seeds = []
        for i, (x, t) in enumerate(zip(inputs, tangents, strict=True)):
            _refuse_complex_for_real(t, x.dtype, f"linearize: tangent {i}")
            if isinstance(t, Tensor) and recorded:
                tangent = t if t.dtype == x.dtype else t.astype(x.dtype)
            else:
                tangent = _seed(_to_array(t, x.dtype), recorded)
            if tangent.shape != x.shape:
                raise ShapeError(
                    f"linearize: tangent {i} has shape {tangent.shape} but primal {i} has shape "
                    f"{x.shape}"
                )
            seeds.append(tangent)
        (tangent_out,) = engine.push_tangents([out], inputs, seeds, create_graph=recorded)
        if tangent_out is None:
            tangent_out = xp.zeros_like(out._data)
        return _export(tangent_out, recorded)

    return _export(out, nested), f_jvp


# --- checkpointing: recompute instead of storing ------------------------------------


def _is_operand(value: Any) -> bool:
    return isinstance(value, (Tensor, np.ndarray, np.generic, float))


def _checkpoint_forward(*args: Any, fn: Callable[..., Any]) -> Any:
    """``fn`` on the operands with nothing recorded: its intermediate values are dropped as
    soon as it returns (no graph, and no trace sees inside; it is one operation)."""
    with tracing(None), no_grad():
        result = fn(*(Tensor(a) if _is_operand(a) else a for a in args))
    if not isinstance(result, (Tensor, np.ndarray, np.generic, float, int)):
        raise TypeError(
            f"checkpoint: {getattr(fn, '__name__', 'f')} must return one array or Tensor, got "
            f"{type(result).__name__}"
        )
    return result._data if isinstance(result, Tensor) else np.asarray(result)


def _rerun(fn: Callable[..., Any], args: tuple) -> tuple[list[Any], Tensor]:
    """Run ``fn`` again, recording, on fresh variables for the operands (identity nodes of
    Tensors, so a recorded backward pass stays connected to the outer graph)."""
    inputs: list[Any] = []
    with enable_grad():
        for a in args:
            if isinstance(a, Tensor) and a.requires_grad:
                inputs.append(apply(shape_ops.identity, (a,), _NO_PARAMS))
            elif _is_operand(a) and np.result_type(_value(a)).kind in "fc":
                inputs.append(Tensor(a._data if isinstance(a, Tensor) else a, requires_grad=True))
            else:
                inputs.append(a)
        out = _as_output(fn(*inputs))
    variables = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    own = {id(x) for x in variables}
    stray = [
        node
        for node in engine.toposort([out], frozenset(variables))
        if node._prim is None and node.requires_grad and id(node) not in own
    ]
    if stray:
        raise ValueError(
            f"checkpoint: {getattr(fn, '__name__', 'f')} uses a tensor that requires grad without "
            f"taking it as an argument (shape {stray[0].shape}, such as a module's parameter); "
            "its gradient would be lost, so pass it as an argument of the checkpointed function"
        )
    return inputs, out


#: The last checkpointed node's recomputed gradients, in this context: the engine asks one
#: node for the cotangent of each operand in turn, and the function is re-run once, not
#: once per operand.
_LAST_PULLBACK: ContextVar[tuple | None] = ContextVar("chainrule_checkpoint", default=None)


def _checkpoint_vjp(argnum: int) -> Callable[..., Any]:
    def rule(g: Any, ans: Any, *args: Any, fn: Callable[..., Any]) -> Any:
        entry = _LAST_PULLBACK.get()
        if entry is None or entry[0] is not g or entry[1] is not ans:
            recorded = isinstance(g, Tensor) or any(isinstance(a, Tensor) for a in args)
            inputs, out = _rerun(fn, args)
            variables = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
            grads = (
                engine.backprop(out, g, variables, create_graph=recorded)
                if out.requires_grad
                else [None] * len(variables)
            )
            found = dict(zip(map(id, variables), grads, strict=True))
            entry = (g, ans, [found.get(id(x)) for x in inputs])
            _LAST_PULLBACK.set(entry)
        gradient = entry[2][argnum]
        return np.zeros_like(_value(args[argnum])) if gradient is None else gradient

    return rule


def _checkpoint_jvp(argnum: int) -> Callable[..., Any]:
    def rule(t: Any, ans: Any, *args: Any, fn: Callable[..., Any]) -> Any:
        recorded = isinstance(t, Tensor) or any(isinstance(a, Tensor) for a in args)
        inputs, out = _rerun(fn, args)
        (tangent,) = engine.push_tangents([out], [inputs[argnum]], [t], create_graph=recorded)
        if tangent is None:
            return np.zeros_like(ans._data if isinstance(ans, Tensor) else ans)
        return tangent if recorded else tangent._data if isinstance(tangent, Tensor) else tangent

    return rule


def _value(value: Any) -> Any:
    """The array behind a Tensor, or the value itself."""
    return value._data if isinstance(value, Tensor) else value


#: One application of a checkpointed function: a node whose rules re-run the function.
#: Not in the registry: it is a transform's node, made only by :func:`checkpoint`.
_CHECKPOINT = Primitive(
    "checkpoint",
    _checkpoint_forward,
    _checkpoint_vjp,
    _checkpoint_jvp,
    kind="custom",
    doc="A checkpointed function: its intermediate values are recomputed in the backward pass.",
)


def checkpoint(f: Callable[..., Any]) -> Callable[..., Tensor]:
    """``f`` whose intermediate values are not kept for the backward pass (JAX's checkpoint,
    alias :func:`remat`): only its arguments and result are stored, and the backward pass
    runs ``f`` again to recompute the rest. Gradients are the same; memory drops from
    every intermediate of ``f`` to its inputs and output, for one more forward of ``f``.

    ``f`` takes arrays or Tensors and returns one; every tensor that requires grad must be
    an argument (a closed-over parameter is refused, since its gradient would be lost).
    Higher-order derivatives and ``chainrule.compile`` work through it.

    >>> import chainrule as cr, numpy as np
    >>> layer = cr.checkpoint(lambda x, w: cr.tanh(x @ w))
    >>> w = np.array([[1.0], [2.0]])
    >>> cr.grad(lambda w: layer(np.array([0.5, 0.0]), w).sum())(w).round(4)
    array([[0.3932],
           [0.    ]])
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> Tensor:
        operands = tuple(
            a
            if isinstance(a, (Tensor, np.ndarray, np.generic)) or not _is_operand(a)
            else _to_array(a)
            for a in args
        )
        return apply(_CHECKPOINT, operands, {"fn": f})

    return wrapped


#: JAX's other name for :func:`checkpoint` (rematerialization).
remat = checkpoint
