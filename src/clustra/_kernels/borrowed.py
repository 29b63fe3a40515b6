"""What a ``parallel=True`` loop body gets from numba, for serial kernels run on threads.

numba counts references to every array: each copy of an array variable, each
view (a row ``X[i]``) and each field read from a tuple of arrays adds one
atomic increment and decrement of the array's shared count. Inside a search
loop run by several threads on the same arrays these dominate the work, and
the threads contend for the counts' cache lines. A ``parallel=True`` loop
body does not pay them (numba hands it the arrays without their counts);
:func:`borrowed` gives a serial kernel the same. numba also marks a parallel
loop body's array arguments as not aliasing each other when it can prove it,
which lets LLVM keep values in registers across stores;
:class:`NoAliasCompiler` marks a serial kernel's, on the caller's word.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.core.compiler import Compiler
from numba.extending import intrinsic


def _borrowable(ty) -> bool:
    if isinstance(ty, types.Array):
        return True
    if isinstance(ty, types.BaseTuple):
        return any(_borrowable(member) for member in ty)
    return False


def _strip(context, builder, ty, value):
    """``value`` of type ``ty`` with every array's meminfo and parent set to null."""
    if isinstance(ty, types.Array):
        array = context.make_array(ty)(context, builder, value)
        array.meminfo = cgutils.get_null_value(array.meminfo.type)
        array.parent = cgutils.get_null_value(array.parent.type)
        return array._getvalue()
    if isinstance(ty, types.BaseTuple):
        for i, member in enumerate(ty):
            if _borrowable(member):
                inner = _strip(context, builder, member, builder.extract_value(value, i))
                value = builder.insert_value(value, inner, i)
    return value


@intrinsic
def borrowed(typingctx, value):
    """``value`` (an array, or a tuple holding arrays) with no reference counting;
    anything else (None, a number) unchanged.

    Views of the result are not counted either. Only for arrays the caller
    keeps alive for the whole call: a kernel's own arguments, never an array
    the kernel allocates (nothing would keep it) nor anything the kernel returns.
    """
    def codegen(context, builder, signature, args):
        return _strip(context, builder, signature.args[0], args[0])

    return value(value), codegen


class NoAliasCompiler(Compiler):
    """numba's compiler with every pointer argument marked ``noalias``
    (``@kernel(pipeline_class=NoAliasCompiler)``).

    Only for a kernel whose array arguments never share memory that it writes.
    """

    def __init__(self, typingctx, targetctx, library, args, return_type, flags, locals):
        flags.noalias = True
        super().__init__(typingctx, targetctx, library, args, return_type, flags, locals)
