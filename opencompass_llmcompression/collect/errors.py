"""The collection wing's one exception."""

from typing import Optional


class CollectError(Exception):
    """A collection step that cannot go on: the message names what failed, the URL and the fix;
    ``status`` is the HTTP status of the answer that refused it, when one did."""

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.status = status
