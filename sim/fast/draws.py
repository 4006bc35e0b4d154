"""Random draws inside the kernels, bit for bit those of numpy's Generator.

``Generator.random()``, ``.poisson()``, ``.binomial()`` and ``.geometric()`` in numba are these very
functions applied to the generator's bit generator. Calling them on the bit generator, taken out
of the Generator once per phase, spares every draw the Generator's reference counting (two atomic
operations a draw, measured at a fifth of the engine's time at 22,000 people). Tier-B docking
(tests/test_docking.py) checks that the draws stay numpy's.
"""

import numpy as np
from numba.extending import register_jitable
from numba.np.random.distributions import random_binomial, random_geometric, random_poisson
from numba.np.random.generator_core import next_double as uniform

__all__ = ["binomial", "geometric", "poisson", "uniform"]


@register_jitable(inline="always")
def geometric(bits, p):
    return np.int64(random_geometric(bits, p))


@register_jitable(inline="always")
def poisson(bits, lam):
    return np.int64(random_poisson(bits, lam))


@register_jitable(inline="always")
def binomial(bits, n, p):
    return np.int64(random_binomial(bits, n, p))
