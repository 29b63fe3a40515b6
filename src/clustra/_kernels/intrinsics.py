"""Two LLVM intrinsics the kernels need and numba does not expose as public API.

Each is a few lines of code generation: numba types the call, and LLVM emits
one instruction on x86-64 (and vectorises it inside loops).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
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
