"""Asking the processor for memory ahead of use.

Witnessing's sweep over the members who saw something, and the purchase and leaving candidates,
read and write each person's row of the people x businesses arrays; at ten million people those
rows are far apart in memory and every one is a cache miss. Prefetching the rows of the people a
few places ahead (sim.fast.kernels.AHEAD, SWEEP_AHEAD) overlaps those waits; it changes no value
read or written. The kernels ask only once trust outgrows a core's cache
(sim.fast.kernels.PREFETCH_VALUES): below that the asking costs more than it saves.
"""

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["prefetch"]


@intrinsic
def prefetch(typingctx, array, index):
    """Bring the cache line holding ``array[index]`` (the row's first element for a 2-D array)
    toward the core, to be written. A prefetch never faults; callers stay in range anyway."""
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = context.cast(builder, args[1], signature.args[1], types.intp)
        zero = ir.Constant(idx.type, 0)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [idx] + [zero] * (aryty.ndim - 1),
                                       wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0")
        # for writing, high temporal locality, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.none(array, index), codegen
