"""One way to log: the standard ``logging`` module and the package's logger.

Functions that warn or report progress take ``logger: logging.Logger = LOGGER``; OpenCompass
passes its own (``get_logger()``), so the lines land in its task logs. The command lines call
``log_to_stderr(PROG)`` once, which prints the package logger's warnings as
``PROG: warning: text`` on standard error (and, with ``level=logging.INFO``, its notes as
``PROG: text``).
"""

import logging
import sys

LOGGER = logging.getLogger('opencompass_llmcompression')


class _StderrHandler(logging.Handler):
    """Writes to the ``sys.stderr`` of the moment (which tests and callers may replace)."""

    def __init__(self, prog: str, level: int):
        super().__init__(level)
        self.prog = prog

    def emit(self, record: logging.LogRecord) -> None:
        try:
            kind = '' if record.levelno < logging.WARNING else f'{record.levelname.lower()}: '
            print(f'{self.prog}: {kind}{record.getMessage()}', file=sys.stderr)
        except Exception:  # logging's rule: a failing handler reports, never raises
            self.handleError(record)


def log_to_stderr(prog: str, level: int = logging.WARNING) -> logging.Logger:
    """Send the package logger's records of ``level`` and above to standard error, prefixed
    with ``prog``; called again (a second ``main()`` in one process), it replaces its handler.
    Returns the package logger."""
    for handler in [h for h in LOGGER.handlers if isinstance(h, _StderrHandler)]:
        LOGGER.removeHandler(handler)
    LOGGER.addHandler(_StderrHandler(prog, level))
    if LOGGER.level == logging.NOTSET or LOGGER.level > level:
        LOGGER.setLevel(level)
    return LOGGER
