"""In-place writes: backward refuses a graph whose values were changed after it was recorded.

Every write (``+=``, ``t[...] =``, ``t.data =``, optimizer steps, :func:`engine.note_write`
for writes done by hand) refuses the graphs recorded before it that read the written
tensor, and only those: writes to other tensors, and writes made before recording,
are fine. A tensor unpickled from another process brings no write with it.
"""

import os
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.core import engine

MODIFIED = "modified by an in-place operation"


def bump(t):
    """An in-place write outside grad mode."""
    with cr.no_grad():
        t += 1.0


def test_note_write_marks_a_tensor_written():
    """note_write (for writes behind the tensor's back) refuses older graphs; the clock ticks."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    y = (w * x).sum()
    before = engine.WRITE_CLOCK.now
    x.numpy()[...] = 0.0
    engine.note_write(x)
    assert engine.WRITE_CLOCK.now == before + 1
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()
    (w * x).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])


def test_a_node_sees_only_writes_made_after_it_was_recorded():
    """modified() is false for a node recorded after its operand's write, true after the next."""
    w = cr.tensor(1.0, requires_grad=True)
    x = cr.tensor(3.0)
    bump(x)
    y = w * x
    assert not engine.modified(y)
    bump(x)
    assert engine.modified(y)


def test_modified_only_for_writes_to_the_node_or_its_inputs():
    """modified() ignores unrelated writes, sees writes to an input and to the node."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    y = w * x
    bump(cr.tensor([0.0]))
    assert not engine.modified(y)
    bump(x)
    assert engine.modified(y)
    z = w * 2.0
    bump(z)
    assert engine.modified(z)


def test_write_to_input_after_recording_raises():
    """Backward refuses a node whose operand was written after it was recorded."""
    w = cr.tensor(2.0, requires_grad=True)
    x = cr.tensor(3.0)
    y = w * x
    bump(x)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_unrelated_write_between_forward_and_backward_is_fine():
    """A write to a tensor outside the graph does not trip the check; gradient is right."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    y = (w * x).sum()
    other = cr.tensor([0.0, 0.0])
    bump(other)
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 4.0])


def test_write_before_recording_is_fine():
    """Writing an input before the node is recorded is not a modification."""
    w = cr.tensor(2.0, requires_grad=True)
    x = cr.tensor(3.0)
    bump(x)
    y = w * x
    bump(cr.tensor(0.0))  # the clock moves on, so the full check runs
    y.backward()
    assert w.grad.item() == 4.0


def test_data_assignment_counts_as_write():
    """t.data = value is an in-place write: graphs recorded before it refuse backward."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    product = w * x
    y = product.sum()
    x.data = np.array([5.0, 6.0])
    assert engine.modified(product)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()
    after = w * x  # recorded after the latest write
    assert not engine.modified(after)
    after.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [5.0, 6.0])


def test_every_write_refuses_the_graphs_recorded_before_it():
    """Each write in a row, optimizer steps included, refuses graphs recorded before it only."""
    p = nn.Parameter(np.array([1.0, -1.0]))
    opt = optim.SGD([p], lr=0.1)

    def iadd():
        bump(p)

    def setitem():
        with cr.no_grad():
            p[0] = 0.0

    def step():
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()

    for write in (iadd, setitem, step, step, iadd):
        before = (p * 2.0).sum()
        write()
        after = (p * 2.0).sum()
        with pytest.raises(RuntimeError, match=MODIFIED):
            before.backward()
        after.backward()


def _pickled_in_a_busier_process(values):
    """A tensor written and pickled by a forked process whose write clock has run ahead."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write the tensor a few times, send it, and leave at once
        try:
            os.close(read)
            t = cr.tensor(values)
            for _ in range(10):
                bump(t)
            with cr.no_grad():
                t -= 10.0
            with os.fdopen(write, "wb") as pipe:
                pipe.write(pickle.dumps(t))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    return pickle.loads(payload)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_tensor_pickled_in_another_process_is_not_modified():
    """A tensor written in a process with a busier write clock still works here."""
    c = _pickled_in_a_busier_process([1.0, 2.0])
    np.testing.assert_array_equal(c.data, [1.0, 2.0])
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    y = (w * c).sum()
    bump(cr.tensor([0.0]))  # an unrelated write, e.g. an optimizer step on another tensor
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0])
    z = (w * c).sum()
    bump(c)
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.backward()


def test_inplace_update_with_an_operand_that_requires_grad_is_refused():
    """t += w would drop w's gradient silently: it raises, as t[...] = w does."""
    t = cr.tensor([1.0, 2.0])
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="out of place"):
        t += w
    with cr.no_grad():
        t += w
    np.testing.assert_array_equal(t.data, [4.0, 6.0])


def _refused(build, write):
    """Record with ``build()``, write with ``write()``, then backward must raise."""
    out = build()
    with cr.no_grad():
        write()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.backward()


def test_a_write_through_detach_is_seen_by_the_graph():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.detach()
    _refused(lambda: (x * x).sum(), lambda: d.__iadd__(10.0))


def test_a_write_to_the_owner_is_seen_through_a_slice_of_it():
    c = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = cr.tensor([2.0, 2.0], requires_grad=True)
    _refused(lambda: (c[0:2] * w).sum(), lambda: c.__iadd__(10.0))


def test_a_write_through_a_detached_reshape_is_seen():
    x = cr.tensor(np.arange(6.0), requires_grad=True)
    flat = x.detach()
    _refused(lambda: (x.reshape(2, 3).T ** 2).sum(), lambda: flat.__setitem__(0, 5.0))


def test_a_write_to_unrelated_memory_is_fine():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0])
    y = (a * a).sum()
    with cr.no_grad():
        b += 1.0
    y.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 4.0])
