"""User mistakes end as one ``error:`` line and exit status 2, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer

T = TypeVar("T")
USER_ERRORS: tuple[type[Exception], ...] = (ValueError, OSError)


def guard(action: Callable[[], T]) -> T:
    """``action()``; a user mistake (ValueError, OSError) or running out of memory exits with status 2."""
    try:
        return action()
    except USER_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except MemoryError:
        typer.echo("error: out of memory: ask for a smaller run (fewer days or jobs)", err=True)
        raise typer.Exit(2) from None
