"""`python -m sessref` runs the command line."""

from .cli import entry

entry()
