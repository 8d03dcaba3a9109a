"""User-facing errors.

Every problem with a user's input is raised as :class:`InputError`, which names the file, the
line (when there is one) and the problem. The CLI prints it as one line and exits with status 2,
never a traceback.
"""
from __future__ import annotations

import os


class InputError(ValueError):
    """Bad user input: a file, an option or a value the package cannot use.

    Parameters
    ----------
    problem
        What is wrong, in words a user understands, ideally with a hint on how to fix it.
    path
        The offending file, if any.
    line
        1-based line number inside ``path``, if known.
    """

    def __init__(self, problem: str, path: str | os.PathLike | None = None, line: int | None = None):
        self.problem = problem
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        return where + self.problem
