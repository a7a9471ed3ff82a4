"""Built-in unlearning strategies (importing this package registers them)."""
from erasus_bench.methods.strategies import (  # noqa: F401
    bad_teacher,
    finetune,
    fisher_forgetting,
    grad_diff,
    gradient_ascent,
    l1_sparse,
    random_label,
    salun,
    scrub,
    ssd,
)
