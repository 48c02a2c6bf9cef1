"""What a function of the user's program without a body does, as its declared contract says.

A script (or a C file) may declare a prototype with a `sessref:` comment (README "Functions
without a body"), in the spirit of Clang's `ownership_holds`, `ownership_takes` and
`ownership_returns` attributes:

- `borrows(p)`: the function reads `p` and keeps nothing (a use: use-after-free if `p` was
  destroyed);
- `holds(p)`: it keeps a reference of its own to `p` (as an up-ref into its own store): the
  count goes up by one, held by the function, and the caller's reference stays the caller's;
- `takes(p)`: it releases one reference to `p`, the caller's (as `SSL_SESSION_free` would):
  after it, the caller must not use or free `p` unless it holds another reference;
- `returns owned`: the result is a new reference to a session the caller must release, or
  NULL (both explored); the session comes from elsewhere (a store, a file), so its id and
  times are unknown, as for a decoded one;
- `returns borrowed`: a session the function's store keeps (the caller gets no reference:
  freeing it is a borrowed free), or NULL.

A NULL argument is not judged: what the user's function does with NULL is its own business.
"""

from __future__ import annotations

from typing import Callable

from . import api, refs
from .objects import SCRIPT, SESSION, kept_by_function
from .values import NULL
from .world import Arg, Value, World, obj


def effect(name: str, roles: tuple[str, ...], returns: str) -> Callable[[World, list[Arg]], Value]:
    def run(w: World, args: list[Arg]) -> Value:
        for role, arg in zip(roles, args):
            if not role:
                continue
            o = w.ptr(arg)
            if o == NULL:
                continue
            if role == "takes":
                refs.release(w, o, SCRIPT, via=arg.var,
                             text=f"`{name}({arg.text})` releases a reference (its contract: takes)")
                continue
            refs.use(w, o, f"`{name}` reads", via=arg.var)
            if role == "holds":
                refs.take(w, o, kept_by_function(o), f"`{name}` keeps a reference to {obj(o)} (its contract: holds)")
        if not returns:
            return None
        if w.choose(f"`{name}` returns NULL"):
            w.note(0, f"`{name}` returns NULL")
            return NULL
        s = refs.allocate(w, SESSION)
        api.fields_of_unknown_session(w, s)
        if returns == "borrowed":
            refs.take(w, s, kept_by_function(s), f"`{name}` keeps {obj(s)} (its contract: returns borrowed)")
            refs.release(w, s, SCRIPT, text=f"`{name}` lends {obj(s)}: the caller gets no reference")
        else:
            w.note(s, f"`{name}` gives the caller a reference to {obj(s)} (its contract: returns owned)")
        return s

    return run
