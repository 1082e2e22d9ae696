"""Evaluation traces (Wengert lists) and the forward and reverse sweeps, worked step by step.

Layer: explain (imports core, tensor, ops' registry). A function is evaluated once on
Tensors; the recorded graph is read back in evaluation order and every primitive
becomes one named intermediate variable ``v1, v2, ...``. A value used twice is one
variable, so ``x*z`` in the seed's function is computed once.

Names never collide: the user's inputs keep their names, and the trace picks a
prefix for its own variables (``v``, else ``w``, ``u``, ``vv``, ...) and a name for
the output (``y``, else ``f``, ``out``, ...) that no input uses. Constants are
operands written as numbers, never names.

The sweeps are then worked the way the recitation does them, with the registry's
rules: each adjoint is the sum over the variable's children of
child adjoint x local partial; each tangent is the sum over its operands of
local partial x operand tangent. The local partials come from the same VJP and
JVP rules the engine uses.
"""

from __future__ import annotations

import inspect
import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.engine import operand_values, unbroadcast
from ..core.mode import enable_grad
from ..core.primitive import Primitive, Traceable
from ..errors import ChainruleError
from ..tensor import Tensor


class DomainError(ChainruleError, ValueError):
    """A primitive was evaluated outside its domain (log of a negative number, ...)."""


@dataclass
class Variable:
    """One row of the evaluation trace: an input or an intermediate variable."""

    name: str
    op: str  # the primitive's name, or "input"
    label: str  # what the box in a drawing shows: "*", "exp", "x"
    operands: tuple[str, ...]  # variable names, or literal constants as text
    formula: str  # the operation written with operand names, e.g. "exp(v1)"
    value: Any
    node: Any = field(repr=False, default=None)  # the recorded Tensor


@dataclass
class Term:
    """One product in a chain-rule sum: ``other`` (an adjoint or tangent) times a local partial."""

    other: str  # the child (reverse) or operand (forward) variable
    partial: str  # the local partial, as written: "∂v4/∂v3"
    partial_value: Any
    other_value: Any
    value: Any  # the product


@dataclass
class SweepRow:
    """A variable's adjoint (reverse) or tangent (forward) and the terms that sum to it."""

    name: str
    terms: list[Term]
    value: Any


def _format_constant(value: Any) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        number = array.item()
        if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    return f"const{array.shape}"


def _param_text(params: Mapping[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in params.items() if v is not None and k != "keepdims"]
    if params.get("keepdims"):
        shown.append("keepdims=True")
    return "".join(", " + s for s in shown)


def _constant_key(value: Any) -> tuple:
    """What makes two constant operands the same value (not just the same printed text)."""
    array = np.asarray(value.data if isinstance(value, Traceable) else value)
    return (array.shape, array.dtype.str, array.tobytes())


def _formula(prim: Primitive, operands: tuple[str, ...], params: Mapping[str, Any]) -> str:
    """The operation written with its operands' names, recitation style: ``x*z``, ``exp(v1)``."""
    if prim.infix is not None and len(operands) == 2:
        spaced = f" {prim.infix} " if prim.infix in "+-" else prim.infix
        return f"{operands[0]}{spaced}{operands[1]}"
    if prim.infix is not None and len(operands) == 1:
        return f"{prim.infix}{operands[0]}"
    if prim.name == "matmul":
        return f"{operands[0]} @ {operands[1]}"
    if prim.name == "transpose" and tuple(params["axes"]) == tuple(
        reversed(range(len(params["axes"])))
    ):
        return f"{operands[0]}ᵀ"
    if prim.name == "getitem":
        return f"{operands[0]}[{', '.join(map(_index_text, params['index']))}]"
    return f"{prim.name}({', '.join(operands)}{_param_text(params)})"


def _index_text(item: Any) -> str:
    if isinstance(item, slice):
        parts = ["" if v is None else str(v) for v in (item.start, item.stop, item.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if item.step is not None else "")
    if item is Ellipsis:
        return "..."
    return str(item)


def _evaluation_order(output: Tensor) -> list[Tensor]:
    """Recorded nodes in the order a person evaluates them: operands left to right, then the op.

    An iterative post-order walk from the output (no recursion, so long traces are fine).
    """
    order: list[Tensor] = []
    done: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(output, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if expanded or node._prim is None:
            done.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        for inp in reversed(node._inputs):
            if isinstance(inp, Traceable) and inp.requires_grad and id(inp) not in done:
                stack.append((inp, False))
    return order


class Trace:
    """The Wengert list of one evaluation, plus the sweeps worked from it.

    ``inputs`` are the independent variables, ``variables`` the intermediate ones
    in evaluation order (the last is the output). ``output_name`` is what the
    tables call the output (``y`` in dy/dx), chosen to differ from every input.
    """

    def __init__(
        self, inputs: list[Variable], variables: list[Variable], output_name: str = "y"
    ) -> None:
        self.inputs = inputs
        self.variables = variables
        self.by_name = {v.name: v for v in inputs + variables}
        self.output_name = output_name

    @property
    def output(self) -> Variable:
        return self.variables[-1] if self.variables else self.inputs[0]

    def __len__(self) -> int:
        return len(self.variables)

    def _uses(self) -> dict[str, dict[str, tuple[Variable, list[int]]]]:
        """For each variable, its children and the argument positions where each uses it."""
        uses: dict[str, dict[str, tuple[Variable, list[int]]]] = {name: {} for name in self.by_name}
        for child in self.variables:
            for position, name in enumerate(child.operands):
                if name in uses:
                    uses[name].setdefault(child.name, (child, []))[1].append(position)
        return uses

    def reverse(self) -> list[SweepRow]:
        """The adjoint of every variable, output first: v̄ = Σ over children c of c̄ · ∂c/∂v."""
        uses = self._uses()
        adjoint: dict[str, Any] = {self.output.name: np.ones_like(self.output.value)}
        rows = [SweepRow(self.output.name, [], adjoint[self.output.name])]
        for var in [*reversed(self.variables[:-1]), *self.inputs]:
            if var is self.output:  # f(x) = x: the output is an input, already seeded
                continue
            terms = []
            for child, positions in uses[var.name].values():
                partial = _local_partial(child, positions, reverse=True)
                value = sum(_pull(child, p, adjoint[child.name]) for p in positions)
                label = f"∂{child.name}/∂{var.name}"
                terms.append(Term(child.name, label, partial, adjoint[child.name], value))
            adjoint[var.name] = _total(terms, var.value)
            rows.append(SweepRow(var.name, terms, adjoint[var.name]))
        return rows

    def forward(self, direction: str) -> list[SweepRow]:
        """Tangents with respect to input ``direction``: v̇ = Σ over operands u of ∂v/∂u · u̇."""
        if direction not in {v.name for v in self.inputs}:
            raise ValueError(f"{direction!r} is not an input of this trace")
        tangent: dict[str, Any] = {}
        rows = []
        for var in self.inputs:
            tangent[var.name] = (
                np.ones_like(var.value) if var.name == direction else np.zeros_like(var.value)
            )
            rows.append(SweepRow(var.name, [], tangent[var.name]))
        for var in self.variables:
            positions_of: dict[str, list[int]] = {}
            for position, name in enumerate(var.operands):
                if name in tangent:
                    positions_of.setdefault(name, []).append(position)
            terms = []
            for name, positions in positions_of.items():
                partial = _local_partial(var, positions, reverse=False)
                value = sum(_push(var, p, tangent[name]) for p in positions)
                terms.append(Term(name, f"∂{var.name}/∂{name}", partial, tangent[name], value))
            tangent[var.name] = _total(terms, var.value)
            rows.append(SweepRow(var.name, terms, tangent[var.name]))
        return rows

    def gradient(self) -> dict[str, Any]:
        """dy/d(input) for every input, read off the reverse sweep."""
        adjoints = {row.name: row.value for row in self.reverse()}
        return {v.name: adjoints[v.name] for v in self.inputs}


def _total(terms: list[Term], like: Any) -> Any:
    """The sum of the terms' values, shaped like the variable (zero when nothing flows)."""
    return sum((t.value for t in terms), np.zeros_like(like))


def _rule_operands(var: Variable) -> tuple[Any, tuple, dict]:
    node = var.node
    params = node._params
    if node._prim.residuals:
        params = {**params, "res": node._res}
    return node.data, operand_values(node._inputs), params


def _pull(child: Variable, position: int, cotangent: Any) -> Any:
    """The contribution of ``child``'s adjoint to its operand at ``position`` (a VJP)."""
    ans, values, params = _rule_operands(child)
    rule = child.node._prim.vjp(position)
    if rule is None:
        return np.zeros_like(values[position], dtype=ans.dtype)
    return unbroadcast(
        np.asarray(rule(cotangent, ans, *values, **params)), np.shape(values[position])
    )


def _push(var: Variable, position: int, tangent: Any) -> Any:
    """The contribution of operand ``position``'s tangent to ``var``'s tangent (a JVP)."""
    ans, values, params = _rule_operands(var)
    rule = var.node._prim.jvp(position)
    if rule is None:
        return np.zeros_like(ans)
    return np.asarray(rule(tangent, ans, *values, **params)) + np.zeros_like(ans)


def _local_partial(var: Variable, positions: list[int], reverse: bool) -> Any:
    """∂var/∂operand as a number (summed over the positions where the operand appears).

    None for arrays, where the local derivative is a Jacobian rather than a number.
    """
    if np.ndim(var.value) != 0 or any(np.ndim(var.node._inputs[p].data) != 0 for p in positions):
        return None
    one = np.ones((), dtype=np.asarray(var.value).dtype)
    step = _pull if reverse else _push
    return sum(step(var, p, one) for p in positions)


def _candidates(stems: tuple[str, ...]) -> Iterator[str]:
    """``stems``, then each stem doubled, tripled, ...: an endless supply of names to try."""
    for repeat in itertools.count(1):
        yield from (stem * repeat for stem in stems)


def variable_prefix(taken: set[str]) -> str:
    """A prefix p for the trace's own variables p1, p2, ... that no name in ``taken`` has.

    >>> variable_prefix({"x", "v3"}), variable_prefix({"v1", "w2", "u"})
    ('w', 'u')
    """
    stems = _candidates(("v", "w", "u"))
    return next(p for p in stems if not any(re.fullmatch(rf"{p}\d+", n) for n in taken))


def output_name(taken: set[str]) -> str:
    """The output's name in ``dy/dx``: ``y``, or the first of ``f``, ``out``, ... not in ``taken``.

    >>> output_name({"x", "y"})
    'f'
    """
    return next(name for name in _candidates(("y", "f", "out")) if name not in taken)


def trace(f: Callable[..., Any], point: Mapping[str, Any]) -> Trace:
    """Evaluate ``f`` at ``point`` (a mapping from argument names to values) and read its trace.

    ``f`` is called with keyword arguments named as in ``point``; values may be
    scalars or arrays.

    >>> import chainrule as cr
    >>> t = trace(lambda x, z: cr.exp(x * z) + x * z, {"x": 2.0, "z": 3.0})
    >>> [f"{v.name} = {v.formula}" for v in t.variables]
    ['v1 = x*z', 'v2 = exp(v1)', 'v3 = v2 + v1']
    """
    inputs = {
        name: Tensor(np.asarray(value, dtype=np.float64), requires_grad=True)
        for name, value in point.items()
    }
    parameters = inspect.signature(f).parameters
    missing = [
        name
        for name, p in parameters.items()
        if name not in inputs
        and p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    ]
    if missing:
        raise ValueError(f"no value given for variable(s) {', '.join(missing)}")
    with enable_grad(), np.errstate(all="ignore"):
        out = f(**inputs)
    if not isinstance(out, Tensor):
        out = Tensor(out)
    return read_trace(out, inputs)


def read_trace(out: Tensor, inputs: Mapping[str, Tensor]) -> Trace:
    """The trace recorded between the named leaf tensors ``inputs`` and ``out``.

    Leaves that are not among ``inputs`` are constants, written by value.
    Raises DomainError where a step first turns finite operands into NaN or infinity.
    """
    names: dict[int, str] = {id(t): name for name, t in inputs.items()}
    prefix = variable_prefix(set(inputs))
    input_vars = [Variable(name, "input", name, (), name, t.data, t) for name, t in inputs.items()]
    variables: list[Variable] = []
    seen: dict[tuple, str] = {}
    for node in _evaluation_order(out):
        if node._prim is None:
            if id(node) not in names:
                names[id(node)] = _format_constant(node.data)
            continue
        operands = tuple(
            names.get(id(a), _format_constant(a.data))
            if isinstance(a, Traceable)
            else _format_constant(a)
            for a in node._inputs
        )
        identity = tuple(
            names[id(a)] if isinstance(a, Traceable) and id(a) in names else _constant_key(a)
            for a in node._inputs
        )
        key = (node._prim.name, identity, repr(node._params))
        if key in seen:  # the same operation on the same operands: reuse its variable
            names[id(node)] = seen[key]
            continue
        name = f"{prefix}{len(variables) + 1}"
        names[id(node)] = seen[key] = name
        _check_domain(node, operands, input_vars, variables)
        variables.append(
            Variable(
                name,
                node._prim.name,
                node._prim.label,
                operands,
                _formula(node._prim, operands, node._params),
                node.data,
                node,
            )
        )
    taken = set(inputs) | {v.name for v in variables}
    return Trace(input_vars, variables, output_name(taken))


def _check_domain(
    node: Tensor, operands: tuple[str, ...], inputs: list[Variable], variables: list[Variable]
) -> None:
    """A NaN or infinity born at this step (from finite operands) is reported where it happened.

    The message names the variables among the operands (with the formula of an
    intermediate one) and shows constants only inside the operation, so ``x/0`` at x = 1
    reads "divide ... at x = 1 in x/0", never "0 = 0".
    """
    value = np.asarray(node.data)
    if np.all(np.isfinite(value)):
        return
    operand_values = [a.data if isinstance(a, Traceable) else a for a in node._inputs]
    if all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in operand_values):
        formulas = {v.name: v.formula for v in inputs + variables}
        named = {
            name: f"{name} = {'' if formulas[name] == name else formulas[name] + ' = '}"
            f"{_format_constant(v)}"
            for name, v in zip(operands, operand_values, strict=True)
            if name in formulas
        }
        where = f" at {', '.join(named.values())}" if named else ""
        raise DomainError(
            f"{node._prim.name} is not defined (or overflows){where} in "
            f"{_formula(node._prim, operands, node._params)}: it gave {_format_constant(value)}"
        )
