"""``BatchAICompatStateError``, kept in a module without dependencies.

The local backend's job supervisors import the state store at every job start and must not pay for
``batchai_compat.exceptions`` (which imports requests and msrestazure); users import the class from
``batchai_compat.exceptions``, which re-exports it.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple, Union


class BatchAICompatStateError(RuntimeError):
    """The local backend's state (``state.db`` in ``BATCHAI_COMPAT_HOME``) is damaged or was lost.

    Not a ``CloudError``: the service never answered this, and code that handles ``CloudError``
    (``except CloudError: create it``) must not mistake a damaged state for a missing resource. The
    message names the file, what happened and what to do (restore it from a backup, or
    ``python -m batchai_compat.backends.local reset --home DIR``); ``path`` is the file.
    """

    def __init__(self, message: str, path: Optional[Union[str, "os.PathLike[str]"]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else os.fspath(path)

    def __reduce__(self) -> Tuple[Any, ...]:  # picklable across multiprocessing
        return (type(self), (self.message, self.path))
