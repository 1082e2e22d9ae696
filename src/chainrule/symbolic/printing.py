"""Printers: Python-syntax text with minimal parentheses, and LaTeX.

Layer: symbolic (imports chainrule.symbolic.expr and .language).

The text printer writes what :func:`chainrule.symbolic.parse` reads back to the same
expression: ``x*z/log(x)**2``, ``x - 2*y``, ``sqrt(x)``, ``1/x``. Both printers walk
the expression once, iteratively, so deep expressions print without recursion.
Terms print in the canonical order, with a sum's constant last (``x + 1``). How
operators bind comes from the registry's ``precedence``, how functions are written
in LaTeX from their ``Notation.latex``.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from . import language
from .expr import Expr, postorder

#: Binding strengths: the registry's precedence of +, * and **; atoms bind tightest.
ADD, MUL, POW = (language.precedence(op) for op in ("add", "multiply", "power"))
ATOM = 1 + max(ADD, MUL, POW, language.precedence("negative"))

Printed = tuple[str, int]  # text and precedence


def _is_negative_number(value: object) -> bool:
    return value < 0  # type: ignore[operator]


def _coefficient_and_factors(node: Expr) -> tuple[object, tuple[Expr, ...]]:
    if node.op == "multiply":
        if node.args[0].op == "const":
            return node.args[0].value, node.args[1:]
        return 1, node.args
    if node.op == "const":
        return node.value, ()
    return 1, (node,)


def _negative_exponent(factor: Expr) -> object | None:
    """``k`` > 0 when ``factor`` is ``base**(-k)`` with a numeric exponent, else None."""
    if factor.op == "power" and factor.args[1].op == "const":
        value = factor.args[1].value
        if value < 0:
            return -value
    return None


class _Printer:
    """Shared layout of sums, products and powers; subclasses spell the pieces."""

    def __init__(self) -> None:
        self.memo: dict[Expr, Printed] = {}

    def print(self, root: Expr) -> str:
        for node in postorder([root]):
            self.memo[node] = self.node(node)
        return self.memo[root][0]

    def node(self, node: Expr) -> Printed:
        op = node.op
        if op == "const":
            return self.number(node.value)
        if op == "symbol":
            return self.symbol(node.value), ATOM
        if op == "add":
            return self.sum(node), ADD
        if op == "multiply":
            return self.product(node, negate=False)
        if op == "power":
            base, exponent = node.args
            if exponent.op == "const" and _is_negative_number(exponent.value):
                return self.fraction([self.number(1)], [self.power(base, -exponent.value)]), MUL
            return self.power(base, exponent)
        return self.function(node), ATOM

    def sum(self, node: Expr) -> str:
        terms = list(node.args)
        if terms[0].op == "const":
            terms.append(terms.pop(0))
        pieces = []
        for i, term in enumerate(terms):
            coefficient, _ = _coefficient_and_factors(term)
            negative = _is_negative_number(coefficient)
            text = self.product(term, negate=True)[0] if negative else self.memo[term][0]
            if i == 0:
                pieces.append("-" + text if negative else text)
            else:
                pieces.append((" - " if negative else " + ") + text)
        return "".join(pieces)

    def product(self, node: Expr, negate: bool) -> Printed:
        """A product (or a number) as numerator/denominator; ``negate`` prints ``-node``."""
        coefficient, factors = _coefficient_and_factors(node)
        if negate:
            coefficient = -coefficient  # type: ignore[operator]
        if not factors:
            return self.number(coefficient)
        sign = _is_negative_number(coefficient)
        magnitude = -coefficient if sign else coefficient  # type: ignore[operator]
        numerator: list[Printed] = []
        denominator: list[Printed] = []
        if isinstance(magnitude, Fraction):
            numerator.append(self.number(magnitude.numerator))
            denominator.append(self.number(magnitude.denominator))
        elif magnitude != 1 or isinstance(magnitude, float):
            numerator.append(self.number(magnitude))
        for factor in factors:
            k = _negative_exponent(factor)
            if k is None:
                numerator.append(self.memo[factor])
            else:
                denominator.append(self.power(factor.args[0], k))
        if numerator and numerator[0][0] == "1" and len(numerator) > 1:
            numerator.pop(0)
        if not numerator:
            numerator.append(self.number(1))
        if denominator:
            text, precedence = self.fraction(numerator, denominator), MUL
        elif len(numerator) == 1:
            text, precedence = numerator[0]
        else:
            text, precedence = self.join(numerator), MUL
        if sign:
            return "-" + text, ADD
        return text, precedence

    def power(self, base: Expr, exponent: Expr | object) -> Printed:
        """``base ** exponent`` for an Expr exponent or a positive number."""
        value = exponent.value if isinstance(exponent, Expr) and exponent.op == "const" else None
        if not isinstance(exponent, Expr):
            value = exponent
        if value == 1:
            return self.memo[base]
        if value == Fraction(1, 2) and not isinstance(value, float):
            return self.sqrt(self.memo[base][0]), ATOM
        exponent_printed = (
            self.number(value) if value is not None else self.memo[exponent]  # type: ignore[index]
        )
        return self.raise_to(self.memo[base], exponent_printed, base), POW

    def number(self, value: object) -> Printed:
        raise NotImplementedError

    def symbol(self, name: str) -> str:
        raise NotImplementedError

    def join(self, factors: list[Printed]) -> str:
        raise NotImplementedError

    def fraction(self, numerator: list[Printed], denominator: list[Printed]) -> str:
        raise NotImplementedError

    def sqrt(self, text: str) -> str:
        raise NotImplementedError

    def raise_to(self, base: Printed, exponent: Printed, base_node: Expr) -> str:
        raise NotImplementedError

    def function(self, node: Expr) -> str:
        raise NotImplementedError


class _TextPrinter(_Printer):
    def number(self, value: object) -> Printed:
        if isinstance(value, Fraction):
            return f"{value.numerator}/{value.denominator}", (ADD if value < 0 else MUL)
        text = repr(value)
        return text, (ADD if _is_negative_number(value) else ATOM)

    def symbol(self, name: str) -> str:
        return name

    def join(self, factors: list[Printed]) -> str:
        return "*".join(f"({t})" if p < MUL else t for t, p in factors)

    def fraction(self, numerator: list[Printed], denominator: list[Printed]) -> str:
        top = self.join(numerator)
        if len(denominator) == 1:
            text, precedence = denominator[0]
            bottom = text if precedence > MUL else f"({text})"
        else:
            bottom = f"({self.join(denominator)})"
        return f"{top}/{bottom}"

    def sqrt(self, text: str) -> str:
        return f"sqrt({text})"

    def raise_to(self, base: Printed, exponent: Printed, base_node: Expr) -> str:
        base_text = base[0] if base[1] == ATOM else f"({base[0]})"
        exponent_text = exponent[0] if exponent[1] == ATOM else f"({exponent[0]})"
        return f"{base_text}**{exponent_text}"

    def function(self, node: Expr) -> str:
        return f"{node.op}({', '.join(self.memo[a][0] for a in node.args)})"


_GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma "
    "tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi "
    "Omega".split()
)


def _latex_of(op: str) -> str:
    """A function's LaTeX: its notation's command or template, else ``\\operatorname``."""
    notation = language.notation(op)
    latex = notation.latex if notation is not None else None
    return latex or f"\\operatorname{{{op}}}"


def _is_template(latex: str) -> bool:
    return "{0}" in latex


class _LatexPrinter(_Printer):
    def number(self, value: object) -> Printed:
        if isinstance(value, Fraction):
            sign = "-" if value < 0 else ""
            return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}", (
                ADD if value < 0 else ATOM
            )
        text = repr(value)
        if "e" in text:
            mantissa, power = text.split("e")
            text = f"{mantissa} \\cdot 10^{{{int(power)}}}"
            return text, (ADD if _is_negative_number(value) else MUL)
        return text, (ADD if _is_negative_number(value) else ATOM)

    def symbol(self, name: str) -> str:
        head, _, subscript = name.partition("_")
        head = f"\\{head}" if head in _GREEK else head
        return f"{head}_{{{subscript}}}" if subscript else head

    def join(self, factors: list[Printed]) -> str:
        pieces: list[str] = []
        for text, precedence in factors:
            text = f"\\left({text}\\right)" if precedence < MUL else text
            if pieces:
                pieces.append(" \\cdot " if text[0].isdigit() else " ")
            pieces.append(text)
        return "".join(pieces)

    def fraction(self, numerator: list[Printed], denominator: list[Printed]) -> str:
        top = self.join(numerator) if len(numerator) > 1 else numerator[0][0]
        bottom = self.join(denominator) if len(denominator) > 1 else denominator[0][0]
        return f"\\frac{{{top}}}{{{bottom}}}"

    def sqrt(self, text: str) -> str:
        return f"\\sqrt{{{text}}}"

    def raise_to(self, base: Printed, exponent: Printed, base_node: Expr) -> str:
        if base_node.op not in ("const", "symbol", "add", "multiply", "power"):
            latex = _latex_of(base_node.op)
            if _is_template(latex):
                # A template carrying its own superscript (e^{x}) is bracketed first.
                if "^" in latex:
                    return f"\\left({base[0]}\\right)^{{{exponent[0]}}}"
            elif len(base_node.args) == 1 and not latex.startswith("\\operatorname"):
                argument = self.memo[base_node.args[0]][0]
                return f"{latex}^{{{exponent[0]}}}\\left({argument}\\right)"
        base_text = base[0] if base[1] == ATOM else f"\\left({base[0]}\\right)"
        return f"{base_text}^{{{exponent[0]}}}"

    def function(self, node: Expr) -> str:
        arguments = [self.memo[a][0] for a in node.args]
        latex = _latex_of(node.op)
        if _is_template(latex):
            return latex.format(*arguments)
        return f"{latex}\\left({', '.join(arguments)}\\right)"


def _printer(make: Callable[[], _Printer]) -> Callable[[Expr], str]:
    def print_expr(expr: Expr) -> str:
        return make().print(expr)

    return print_expr


to_str = _printer(_TextPrinter)
to_str.__doc__ = "Python-syntax text that parse() reads back to the same expression."
to_latex = _printer(_LatexPrinter)
to_latex.__doc__ = "LaTeX source (log prints as ln, the recitation's notation)."
