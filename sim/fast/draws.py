"""Random draws inside the kernels, bit for bit those of numpy's Generator.

``Generator.random()``, ``.poisson()``, ``.binomial()`` and ``.geometric()`` in numba are these very
functions applied to the generator's bit generator. Calling them on the bit generator, taken out
of the Generator once per phase, spares every draw the Generator's reference counting (two atomic
operations a draw, measured at a fifth of the engine's time at 22,000 people).

The uniform, the engine's most frequent draw (one per sighting in witnessing), is numpy's PCG64
step written out here rather than reached through the bit generator's function pointer: an
opaque call costs ~6.6 ns a draw and keeps everything around it in memory; inlined, the same
128-bit step costs ~2.1 ns (measured in one run, 10 million draws each). It reads and writes the
bit generator's own state, so it interleaves exactly with the Poisson, binomial and geometric
draws that still go through numpy's functions. Every stream is a PCG64 (sim.streams.Streams);
tests/test_fast.py and tier-B docking (tests/test_docking.py) check that the draws stay numpy's.
"""

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, register_jitable
from numba.np.random.distributions import random_binomial, random_geometric, random_poisson

__all__ = ["binomial", "geometric", "poisson", "uniform"]

# numpy/random/src/pcg64/pcg64.h: PCG_DEFAULT_MULTIPLIER_HIGH, _LOW
PCG64_MULTIPLIER = (2549297995355413924 << 64) | 4865540595714422341


@intrinsic
def pcg64_next64(typingctx, bits):
    """numpy's ``pcg64_next64``: advance the 128-bit LCG (state * multiplier + increment) and
    return the XSL-RR output of the new state. ``bits``' state is numpy's ``pcg64_state``, whose
    first member points at ``{uint128 state, uint128 inc}``."""
    if not isinstance(bits, types.NumPyRandomBitGeneratorType):
        return None

    def codegen(context, builder, signature, args):
        i128, i64 = ir.IntType(128), ir.IntType(64)
        state_struct = cgutils.create_struct_proxy(signature.args[0])(context, builder, value=args[0]).state
        pcg = builder.load(builder.inttoptr(state_struct, i128.as_pointer().as_pointer()))
        state = builder.load(pcg, align=8)
        inc = builder.load(builder.gep(pcg, [ir.Constant(ir.IntType(32), 1)]), align=8)
        new = builder.add(builder.mul(state, ir.Constant(i128, PCG64_MULTIPLIER)), inc)
        builder.store(new, pcg, align=8)
        folded = builder.xor(builder.trunc(builder.lshr(new, ir.Constant(i128, 64)), i64), builder.trunc(new, i64))
        turn = builder.trunc(builder.lshr(new, ir.Constant(i128, 122)), i64)
        rotr = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, [i64, i64, i64]), "llvm.fshr.i64")
        return builder.call(rotr, [folded, folded, turn])

    return types.uint64(bits), codegen


@register_jitable(inline="always")
def uniform(bits):
    """numpy's ``next_double`` for PCG64: the top 53 bits of the next output."""
    return np.float64(pcg64_next64(bits) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@register_jitable(inline="always")
def geometric(bits, p):
    return np.int64(random_geometric(bits, p))


@register_jitable(inline="always")
def poisson(bits, lam):
    return np.int64(random_poisson(bits, lam))


@register_jitable(inline="always")
def binomial(bits, n, p):
    return np.int64(random_binomial(bits, n, p))
