"""The one way the project compiles hot loops: numba, cached on disk, without reference counting.

Kernels only read and write arrays handed to them and never allocate, so numba's reference counting
(an atomic update per array at every call boundary) is pure overhead; it is switched off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba as nb

F = TypeVar("F", bound=Callable[..., Any])


def kernel(fn: F) -> F:
    """Compile ``fn`` on first call (the machine code is cached beside the source for later runs)."""
    return cast(F, nb.njit(cache=True, _nrt=False)(fn))  # type: ignore[call-overload]
