"""Built-in coreset selectors (importing this package registers them)."""
from erasus_bench.methods.selectors import (  # noqa: F401
    el2n,
    full,
    gradient_norm,
    herding,
    influence,
    k_center,
    loss,
    random,
)
