"""Errors a user can act on. The workflow prints them as one line, without a traceback."""

from __future__ import annotations


class UserInputError(Exception):
    """Bad input that the user must fix: names the file, where, and what is wrong."""

    def __init__(self, file: str, problem: str, line: int | None = None) -> None:
        self.file = file
        self.problem = problem
        self.line = line
        where = f"{file}, line {line}" if line is not None else file
        super().__init__(f"{where}: {problem}")
