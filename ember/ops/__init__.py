"""Every op of ember, declared once in its family's file; importing this package registers
them all (functions here, methods on Tensor)."""
from .pointwise import *          # noqa: F401,F403
from .pointwise import div, abs, round, pow, sign, neg, where, floor_divide  # noqa: F401
from .reduction import *          # noqa: F401,F403
from .reduction import sum, max, min, all, any, mean, prod, std, var, norm  # noqa: F401
from .sorting import *            # noqa: F401,F403
from .shape import *              # noqa: F401,F403
from .indexing import *           # noqa: F401,F403
from .linalg import *             # noqa: F401,F403
from .creation import *           # noqa: F401,F403
from .nn import *                 # noqa: F401,F403
from .creation import range_ as range  # noqa: F401

import types as _types  # noqa: E402

# Export the ops, not the family modules: `ember.nn` / `ember.linalg` are torch's packages.
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and not isinstance(_v, _types.ModuleType)]
