"""``python -m chainrule``: the gradient of the recitation's function, three ways."""

from __future__ import annotations

from . import api, fd
from .seed import EXPRESSION, POINT, seed_function


def main() -> None:
    x, z = POINT["x"], POINT["z"]
    value, (dx, dz) = api.value_and_grad(seed_function, argnums=(0, 1))(x, z)
    print(f"y = {EXPRESSION}   at x = {x:g}, z = {z:g}")
    print(f"y = {value!r}")
    rows = [
        ("reverse mode", (dx, dz)),
        (
            "forward mode",
            (
                api.jvp(seed_function, (x, z), (1.0, 0.0))[1],
                api.jvp(seed_function, (x, z), (0.0, 1.0))[1],
            ),
        ),
        ("central differences", fd.gradient(seed_function, x, z)),
        ("complex step", fd.gradient(seed_function, x, z, scheme="complex-step")),
    ]
    print(f"{'method':<20} {'dy/dx':>22} {'dy/dz':>22}")
    for name, (gx, gz) in rows:
        print(f"{name:<20} {gx:>22.17g} {gz:>22.17g}")


if __name__ == "__main__":
    main()
