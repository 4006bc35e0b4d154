"""Worker processes started from any caller: a script without a main guard, standard input or
``-m``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def caller_not_rerun() -> Iterator[None]:
    """While worker processes are started, hide where the caller's ``__main__`` came from.
    multiprocessing (and so a dask Nanny) re-runs that script (or module) in every new worker and in
    the forkserver, so a script calling compare() or sweep() without an ``if __name__ ==
    "__main__":`` guard would start comparisons from inside its workers. Nothing the workers run
    lives in ``__main__`` (they run functions of sim on pickled arguments), so they need none of it;
    notebooks and standard input have nothing to hide."""
    main = sys.modules.get("__main__")
    hidden = {k: main.__dict__.pop(k) for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
    if main is not None and "__spec__" in hidden:
        main.__spec__ = None  # "-m module": run by name otherwise
    try:
        yield
    finally:
        if main is not None:
            main.__dict__.update(hidden)
