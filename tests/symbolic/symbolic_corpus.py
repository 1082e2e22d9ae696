"""Expressions for the symbolic tests: text, plus independent oracles built from the same text.

Every expression is written in Python syntax with the tensor engine's function names,
so the same text can be run by the engine (reverse-mode AD) and by SymPy, neither of
which goes through chainrule.symbolic's parser. Points are drawn in [0.5, 2] for x and
z, where every expression is smooth (kinks of abs/relu/maximum are kept away).
"""

import numpy as np
import sympy as sp

import chainrule as cr

LOW, HIGH = 0.5, 2.0

CORPUS = [
    # polynomials
    "x",
    "x**2",
    "3*x**3 - 2*x + 7",
    "x**5 - 4*x**4*z + z**3",
    "(x + z)**3",
    "(x - z)**2*(x + 2*z)",
    "x*z + x**2*z**2 + 1",
    "(2*x + 1)*(3*z - 2)*(x - 5)",
    "x**10",
    "7",
    # rational functions
    "1/x",
    "x/z",
    "(x + 1)/(x - 3)",
    "(x**2 + z)/(x*z + 1)",
    "1/(1 + x**2)",
    "x/(x + z)**2",
    "(x - z)/(x + z) + z/x",
    "1/x + 1/z - 1/(x*z)",
    "x**-3 + z**-2",
    "(x**2 - 1)/(x + 1)",
    # powers and roots
    "sqrt(x)",
    "sqrt(x**2 + z**2)",
    "x**0.5 + z**1.5",
    "x**z",
    "z**x",
    "x**x",
    "(x + z)**(1/3)",
    "1/sqrt(x*z)",
    "2**x + x**(-0.25)",
    "sqrt(1 + sqrt(x))",
    # exp and log
    "exp(x)",
    "exp(x*z)",
    "exp(-x**2/2)",
    "log(x)",
    "log(x*z)",
    "log(1 + x**2)",
    "x*log(x) - x",
    "log(exp(x) + exp(z))",
    "exp(x)*log(z)/x",
    "log(log(x + 2))",
    "log1p(x*z)",
    "expm1(x/z)",
    # trigonometry
    "sin(x)",
    "cos(x*z)",
    "tan(x/3)",
    "sin(x)**2 + cos(x)**2",
    "sin(cos(x*z))",
    "x*sin(1/x)",
    "sin(x)/x",
    "cos(log(x))*sin(log(z))",
    "tan(x)*cos(x)",
    "sin(x + z)*cos(x - z)",
    # the recitation's function and relatives
    "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)",
    "exp(x*z) + x*z/log(x + 1) + sin(log(x))/(x*z)",
    "sin(log(x))/(x*z)",
    # neural-network-like compositions
    "sigmoid(x)",
    "tanh(x)",
    "sigmoid(2*x - z)",
    "tanh(0.5*x + 0.3*z - 0.1)",
    "sigmoid(tanh(x)*z + 1)",
    "tanh(sigmoid(x) - sigmoid(z))",
    "0.7*tanh(1.2*x - 0.4*z) - 0.3*sigmoid(0.8*x + z)",
    "log(sigmoid(x*z))",
    "(sigmoid(x) - z)**2",
    "-z*log(sigmoid(x)) - (1 - z)*log(1 - sigmoid(x))",
    "relu(x - 0.2) + relu(z - 3)",
    "relu(1.5*x - z + 4)*tanh(z)",
    "abs(x - 3)*z",
    "abs(sin(x)) + abs(x - z + 5)",
    "maximum(x, z + 3) + minimum(x, z - 3)",
    "sigmoid(relu(x) * 2 - 1) * tanh(z)",
    "exp(-abs(x - 4))",
]

ENGINE_NAMES = {
    "exp": cr.exp,
    "log": cr.log,
    "ln": cr.log,
    "log1p": cr.log1p,
    "expm1": cr.expm1,
    "sin": cr.sin,
    "cos": cr.cos,
    "tan": cr.tan,
    "tanh": cr.tanh,
    "sigmoid": cr.sigmoid,
    "sqrt": cr.sqrt,
    "abs": cr.abs,
    "relu": cr.relu,
    "maximum": cr.maximum,
    "minimum": cr.minimum,
}

SX, SZ = sp.symbols("x z", real=True)
SYMPY_NAMES = {
    "x": SX,
    "z": SZ,
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "log1p": lambda a: sp.log(1 + a),
    "expm1": lambda a: sp.exp(a) - 1,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "tanh": sp.tanh,
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "relu": lambda a: sp.Max(0, a),
    "maximum": sp.Max,
    "minimum": sp.Min,
}


def engine_function(text):
    """f(v) with v = [x, z]: the text run by the tensor engine."""

    def f(v):
        return eval(text, {"__builtins__": {}}, {**ENGINE_NAMES, "x": v[0], "z": v[1]})

    return f


def sympy_expression(text):
    return sp.sympify(text, locals=SYMPY_NAMES, rational=False)


def points(seed, count=4):
    rng = np.random.default_rng(seed)
    return rng.uniform(LOW, HIGH, size=(count, 2))
