"""Every registered primitive's batching rule against a loop over the examples.

Generated from the registry: each entry's samples are drawn three times (three
examples), stacked on a new axis 0, and the batching rule's one call is compared with
the forward applied to each example, for every choice of which operands are batched.
Entries that other modules add get these checks by being registered with a ``batch``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.tensor import apply

BATCH = 3
SHAPES = {1: [(), (3,), (2, 3)], 2: [((3,), (3,)), ((2, 3), (3,))], 3: [((2, 3), (3,), ())]}
BATCHED = sorted(name for name, p in PRIMITIVES.items() if p.batch is not None)


def cases(prim, seed):
    """The entry's samples, or draws from its domains (elementwise entries)."""
    rng = np.random.default_rng(seed)
    if prim.sample is not None:
        return prim.sample(rng)
    arity = len(prim.domains)
    combos = [(s,) for s in SHAPES[1]] if arity == 1 else SHAPES[arity]
    return [
        (tuple(domain(rng, shape) for domain, shape in zip(prim.domains, combo, strict=True)), {})
        for combo in combos
    ]


def _examples(prim):
    """(stacked args, the examples' args, params) per sample of the entry."""
    draws = [cases(prim, seed) for seed in range(BATCH)]
    for samples in zip(*draws, strict=True):
        params = samples[0][1]
        per_example = [args for args, _ in samples]
        if any(
            np.shape(a) != np.shape(b)
            for args in per_example
            for a, b in zip(args, per_example[0], strict=True)
        ):
            continue  # a sampler whose shapes vary by draw
        yield per_example, params


def _choices(args):
    """Every non-empty choice of batched operands (absent optional operands never are)."""
    present = [i for i, a in enumerate(args) if a is not None]
    for count in range(1, len(present) + 1):
        for chosen in itertools.combinations(present, count):
            yield tuple(i in chosen for i in range(len(args)))


@pytest.mark.parametrize("name", BATCHED)
def test_batch_rule_matches_a_loop(name):
    prim = PRIMITIVES[name]
    checked = 0
    for per_example, params in _examples(prim):
        for batched in _choices(per_example[0]):
            operands = [
                np.stack([args[i] for args in per_example]) if b else per_example[0][i]
                for i, b in enumerate(batched)
            ]
            expected = [
                prim.evaluate(
                    *(args[i] if b else per_example[0][i] for i, b in enumerate(batched)),
                    **params,
                )
                for args in per_example
            ]
            got = prim.batch(batched, *operands, **params)
            assert np.shape(got) == (BATCH, *np.shape(expected[0])), (batched, params)
            np.testing.assert_allclose(got, np.stack(expected), rtol=1e-12, atol=1e-12)
            checked += 1
    assert checked


@pytest.mark.parametrize("name", BATCHED)
def test_batch_rule_records_on_tensors(name):
    """The rule runs on Tensors too: one batched call whose gradient matches the loop's."""
    prim = PRIMITIVES[name]
    if not prim.differentiable:
        pytest.skip("no gradient to compare")
    for per_example, params in _examples(prim):
        args = per_example[0]
        stacked = [
            np.stack([a[i] for a in per_example]) if a is not None else None
            for i, a in enumerate(args)
        ]
        tensors = [
            None if a is None else cr.tensor(a, requires_grad=a.dtype.kind == "f") for a in stacked
        ]
        batched = tuple(a is not None for a in args)
        out = prim.batch(batched, *tensors, **params)
        assert isinstance(out, cr.Tensor)
        u = np.random.default_rng(1).standard_normal(out.shape)
        (out * u).sum().backward()
        for i, t in enumerate(tensors):
            if t is None or not t.requires_grad or prim.vjp(i) is None:
                continue
            for k in range(BATCH):
                pieces = [
                    None if s is None else cr.tensor(s[k], requires_grad=s.dtype.kind == "f")
                    for s in stacked
                ]
                one = apply(prim, tuple(pieces), params)
                (one * u[k]).sum().backward()
                np.testing.assert_allclose(
                    t.grad._data[k], pieces[i].grad._data, rtol=1e-10, atol=1e-12
                )
        return
