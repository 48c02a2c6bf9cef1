"""The formal semantics of OpenSSL 3.0's session API: objects, holders, reference counts,
and what each call does to them. Every effect cites where OpenSSL does it.

The model is plain Python over a `World` (see `world.py`): the concrete interpreter runs
it on concrete state, the Z3 encoding runs the very same functions on symbolic state.
"""

# The effects of `connection` (settings, SNI switches, ex_data) register themselves in
# `api.EFFECTS` when it loads; it sits above `api`, so the package loads it.
from . import api, connection  # noqa: E402,F401
