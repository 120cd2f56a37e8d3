"""The collection wing's one exception."""


class CollectError(Exception):
    """A collection step that cannot go on: the message names what failed, the URL and the fix."""
