"""What every workflow script does around its one library call: threads, log, user errors.

Imports nothing heavy, so a script can call :func:`start` before polars is imported and the
thread count takes effect.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from collabscope.errors import UserInputError


def start(threads: int, log_path: str) -> None:
    """Give polars the rule's threads and send logging to the rule's log file."""
    os.environ["POLARS_MAX_THREADS"] = str(max(1, int(threads)))
    os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
    logging.basicConfig(
        filename=log_path,
        filemode="w",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )


def run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the stage; a user error becomes one line on stderr and exit status 1."""
    try:
        return function(*args, **kwargs)
    except UserInputError as error:
        logging.getLogger("collabscope").error("%s", error)
        sys.stderr.write(f"collabscope: error: {error}\n")
        sys.exit(1)
