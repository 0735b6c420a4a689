"""Exit codes, the one error every check raises, and how a failure is said in one line."""

from __future__ import annotations

from typing import Final

OK: Final = 0
EXIT_USAGE: Final = 1
EXIT_SIGNATURE: Final = 2
EXIT_ROLLBACK: Final = 3
EXIT_FORK: Final = 4
EXIT_CONTENT: Final = 5
EXIT_COUNT: Final = 6
# The checkpoint lacks the witness quorum of the reader's policy (--policy).
EXIT_QUORUM: Final = 7


class VerifyError(Exception):
    """A check failed; ``code`` is the exit code and ``message`` says why, in one line.

    ``details``: the figures a count mismatch compared (petition, figure,
    log_size, log, api), which ``--json`` prints as ``"mismatch"``.
    """

    def __init__(self, code: int, message: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def reason(cause: object) -> str:
    """``cause`` (an exception, usually) as a one-line reason for a message."""
    if isinstance(cause, TimeoutError):
        return "timed out"
    text = str(cause) or type(cause).__name__
    return text.replace("\n", " ")

