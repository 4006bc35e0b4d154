"""Random draws inside the kernels, bit for bit those of numpy's Generator.

``Generator.random()``, ``.poisson()``, ``.binomial()`` and ``.geometric()`` in numba are these very
functions applied to the generator's bit generator. Calling them on the bit generator rather than
on a Generator spares every draw the Generator's reference counting (two atomic operations a
draw, measured at a fifth of the engine's time at 22,000 people).

The uniform, the engine's most frequent draw (one per sighting in witnessing), is numpy's PCG64
step written out here rather than reached through the bit generator's function pointer: an
opaque call costs ~6.6 ns a draw and keeps everything around it in memory; inlined, the same
128-bit step costs ~2.1 ns (measured in one run, 10 million draws each). It reads and writes the
bit generator's own state, so it interleaves exactly with the Poisson and binomial draws that
still go through numpy's functions; the geometric draw (numpy's ziggurat exponential) is written
out on the same step. Every stream is a PCG64 (sim.streams.Streams);
tests/test_fast.py and tier-B docking (tests/test_docking.py) check that the draws stay numpy's.

The kernels take no Generator at all. numba unboxes one (or its bit generator) on every call at
~15 us, most of it ctypes casting its function pointers, and a day's 25 streams cost a call half
a millisecond (measured); bit_generators reads those pointers once into rows of an array, which
cost nothing to pass, and bit_generator(rows, k) makes numba's own bit generator of row k inside
a kernel, the very value its unboxing would have made. An array of rows is also one type
whatever its length, where a tuple of Generators is typed by it: kernels taking two streams per
business would compile anew for every number of businesses.
"""

import ctypes

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, register_jitable
from numba.np.random._constants import fe_double, ke_double, we_double, ziggurat_exp_r
from numba.np.random.distributions import random_binomial, random_poisson

__all__ = ["binomial", "bit_generator", "bit_generators", "geometric", "pcg64_load", "pcg64_step", "pcg64_store",
           "poisson", "to_unit", "uniform"]

_BITS = types.NumPyRandomBitGeneratorType("bit_generator")
# What numba's unboxing of a bit generator reads from its ``.ctypes`` (numba/core/boxing.py), in
# the order of bit_generators' columns.
_WORDS = ("state_address", "state", "fnptr_next_uint64", "fnptr_next_uint32", "fnptr_next_double")


def bit_generators(generators) -> np.ndarray:
    """Each generator's bit generator as a row of the words numba's unboxing reads (its state's
    address, its state, its next_uint64, next_uint32 and next_double functions), for
    bit_generator. The rows point into the generators: keep the generators alive while they are
    used."""
    rows = np.empty((len(generators), len(_WORDS)), np.uint64)
    for row, gen in zip(rows, generators, strict=True):
        c = gen.bit_generator.ctypes
        functions = (c.next_uint64, c.next_uint32, c.next_double)
        row[:] = [c.state_address, c.state.value, *(ctypes.cast(f, ctypes.c_void_p).value for f in functions)]
    return rows


@intrinsic
def bit_generator(typingctx, rows, k):
    """numba's bit generator for row ``k`` of bit_generators' rows: what ``Generator.bit_generator``
    gives inside a kernel, for numba's draws and ours."""
    if not (isinstance(rows, types.Array) and rows.ndim == 2 and rows.dtype == types.uint64
            and isinstance(k, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        row = context.cast(builder, args[1], signature.args[1], types.intp)
        bits = cgutils.create_struct_proxy(_BITS)(context, builder)
        bits.parent = cgutils.get_null_value(bits.parent.type)  # no Python object behind it
        bits.bit_generator = ir.Constant(bits.bit_generator.type, 0)
        for column, name in enumerate(_WORDS):
            at = cgutils.get_item_pointer(context, builder, aryty, ary, [row, ir.Constant(row.type, column)],
                                          wraparound=False)
            setattr(bits, name, builder.load(at))
        return bits._getvalue()

    return _BITS(rows, k), codegen


# numpy/random/src/pcg64/pcg64.h: PCG_DEFAULT_MULTIPLIER_HIGH, _LOW
PCG64_MULTIPLIER = (2549297995355413924 << 64) | 4865540595714422341


def _pcg_pointer(builder, context, bits_type, bits):
    """Pointer to the generator's ``{uint128 state, uint128 inc}``: its state is numpy's
    ``pcg64_state``, whose first member points there."""
    struct = cgutils.create_struct_proxy(bits_type)(context, builder, value=bits)
    return builder.load(builder.inttoptr(struct.state, ir.IntType(128).as_pointer().as_pointer()))


def _split(builder, value):
    i64 = ir.IntType(64)
    return builder.trunc(value, i64), builder.trunc(builder.lshr(value, ir.Constant(value.type, 64)), i64)


def _join(builder, lo, hi):
    i128 = ir.IntType(128)
    return builder.or_(builder.zext(lo, i128), builder.shl(builder.zext(hi, i128), ir.Constant(i128, 64)))


@intrinsic
def pcg64_load(typingctx, bits):
    """The generator's state and increment as four uint64 (state low, high, increment low, high),
    to be stepped in registers by pcg64_step and written back by pcg64_store."""
    if not isinstance(bits, types.NumPyRandomBitGeneratorType):
        return None
    out = types.UniTuple(types.uint64, 4)

    def codegen(context, builder, signature, args):
        pcg = _pcg_pointer(builder, context, signature.args[0], args[0])
        state = builder.load(pcg, align=8)
        inc = builder.load(builder.gep(pcg, [ir.Constant(ir.IntType(32), 1)]), align=8)
        return context.make_tuple(builder, out, [*_split(builder, state), *_split(builder, inc)])

    return out(bits), codegen


@intrinsic
def pcg64_store(typingctx, bits, lo, hi):
    """Write a state stepped in registers back into the generator (its increment never changes)."""
    if not isinstance(bits, types.NumPyRandomBitGeneratorType):
        return None

    def codegen(context, builder, signature, args):
        pcg = _pcg_pointer(builder, context, signature.args[0], args[0])
        builder.store(_join(builder, args[1], args[2]), pcg, align=8)
        return context.get_dummy_value()

    return types.none(bits, types.uint64, types.uint64), codegen


@intrinsic
def pcg64_step(typingctx, lo, hi, inc_lo, inc_hi):
    """numpy's ``pcg64_next64`` on a state held in registers: advance the 128-bit LCG (state *
    multiplier + increment) and return (new state low, high, the XSL-RR output of the new state)."""
    out = types.UniTuple(types.uint64, 3)

    def codegen(context, builder, signature, args):
        i128, i64 = ir.IntType(128), ir.IntType(64)
        state, inc = _join(builder, args[0], args[1]), _join(builder, args[2], args[3])
        new = builder.add(builder.mul(state, ir.Constant(i128, PCG64_MULTIPLIER)), inc)
        new_lo, new_hi = _split(builder, new)
        folded = builder.xor(new_hi, new_lo)
        turn = builder.trunc(builder.lshr(new, ir.Constant(i128, 122)), i64)
        rotr = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, [i64, i64, i64]), "llvm.fshr.i64")
        return context.make_tuple(builder, out, [new_lo, new_hi, builder.call(rotr, [folded, folded, turn])])

    return out(types.uint64, types.uint64, types.uint64, types.uint64), codegen


@register_jitable(inline="always")
def to_unit(x):
    """numpy's ``next_double`` from a 64-bit output: its top 53 bits as a float in [0, 1)."""
    return np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@register_jitable(inline="always")
def next_uint64(bits):
    """numpy's ``next_uint64`` for PCG64, stepping the generator's own state."""
    lo, hi, inc_lo, inc_hi = pcg64_load(bits)
    lo, hi, x = pcg64_step(lo, hi, inc_lo, inc_hi)
    pcg64_store(bits, lo, hi)
    return x


@register_jitable(inline="always")
def uniform(bits):
    """numpy's ``next_double`` for PCG64. A loop drawing nothing else can instead load the state
    once (pcg64_load), step it in registers (pcg64_step, to_unit) and store it after."""
    return to_unit(next_uint64(bits))


@register_jitable
def standard_exponential(bits):
    """numpy's ``random_standard_exponential`` (a ziggurat) on the inlined PCG64 step."""
    while True:
        ri = next_uint64(bits) >> np.uint64(3)
        idx = ri & np.uint64(0xFF)
        ri >>= np.uint64(8)
        x = ri * we_double[idx]
        if ri < ke_double[idx]:
            return x
        if idx == 0:
            return ziggurat_exp_r - np.log1p(-uniform(bits))
        if (fe_double[idx - np.uint64(1)] - fe_double[idx]) * uniform(bits) + fe_double[idx] < np.exp(-x):
            return x


@register_jitable(inline="always")
def geometric(bits, p, log_q):
    """numpy's ``random_geometric`` for success chance ``p``, given ``log_q = np.log1p(-p)``: the
    callers draw runs of jumps at one chance and take the logarithm once for the run, where
    numpy's function takes it on every draw (with the step through the function pointer, ~10 ns
    a draw). The same division by the same logarithm, so the same draws."""
    if p >= 0.333333333333333333333333:  # numpy's search for large p
        x, total, prod, q = 1, p, p, 1.0 - p
        u = uniform(bits)
        while u > total:
            prod *= q
            total += prod
            x += 1
        return np.int64(x)
    return np.int64(np.ceil(-standard_exponential(bits) / log_q))


@register_jitable(inline="always")
def poisson(bits, lam):
    return np.int64(random_poisson(bits, lam))


@register_jitable(inline="always")
def binomial(bits, n, p):
    return np.int64(random_binomial(bits, n, p))
