"""The one exception type that means "the user gave us something wrong".

The CLI turns it into a one-line message and a non-zero exit; the HTTP API turns it into a
4xx JSON body. Anything else that escapes is a bug and deserves its traceback.
"""


class CounterscanError(Exception):
    """A problem with the user's input, worded so it can be shown as is."""
