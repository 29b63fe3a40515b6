"""LLVM intrinsics the kernels need and numba does not expose as public API.

Each is a few lines of code generation: numba types the call, and LLVM emits
one instruction on x86-64 (and vectorises it inside loops).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (LLVM's ``llvm.fma``), for float32 or float64.

    Written out rather than left to the compiler's contraction, so that every
    kernel rounds a score the same way, vectorised or not; on x86-64 it is
    one instruction, half the arithmetic of a multiply and an add.
    """
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        t = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fma", [t], ir.FunctionType(t, [t, t, t]))
        return builder.call(fn, args)

    return a(a, b, c), codegen


@intrinsic
def trailing_zeros(typingctx, bits):
    """How many zero bits end the unsigned 64-bit integer ``bits`` (64 for 0), as int64."""
    if bits != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        t = args[0].type
        fn = builder.module.declare_intrinsic(
            "llvm.cttz", [t], ir.FunctionType(t, [t, ir.IntType(1)])
        )
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 0)])

    return types.int64(bits), codegen


@intrinsic
def prefetch(typingctx, ary, i, j):
    """Ask the cache for the line holding ``ary[i, j]`` (2-D array) ahead of its use.

    LLVM's ``llvm.prefetch`` for a read: unlike a load, it does not wait for
    the line, so prefetches of scattered rows overlap with other work.
    Indices are not checked (the caller keeps them in bounds; an address out
    of bounds is harmless to a prefetch in any case).
    """
    if not (isinstance(ary, types.Array) and ary.ndim == 2 and isinstance(i, types.Integer)
            and isinstance(j, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        array = context.make_array(aryty)(context, builder, args[0])
        indices = [context.cast(builder, v, t, types.intp)
                   for v, t in zip(args[1:], signature.args[1:], strict=True)]
        ptr = cgutils.get_item_pointer2(context, builder, array.data, cgutils.unpack_tuple(
            builder, array.shape), cgutils.unpack_tuple(builder, array.strides), aryty.layout,
            indices, wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", [i8p], ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        )
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.none(ary, i, j), codegen


@intrinsic
def fetch_add(typingctx, ary, value):
    """Add ``value`` to ``ary[0]`` (a 1-D int64 array) atomically; returns the value before.

    LLVM's ``atomicrmw add`` (one locked instruction on x86-64), with no
    ordering of other memory: it only hands out distinct numbers to threads.
    """
    if not (isinstance(ary, types.Array) and ary.ndim == 1 and ary.dtype == types.int64
            and isinstance(value, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        amount = context.cast(builder, args[1], signature.args[1], types.int64)
        return builder.atomic_rmw("add", array.data, amount, "monotonic")

    return types.int64(ary, value), codegen
