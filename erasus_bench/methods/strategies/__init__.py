"""Built-in unlearning strategies (importing this package registers them)."""
from erasus_bench.methods.strategies import (  # noqa: F401
    bad_teacher,
    finetune,
    fisher_forgetting,
    grad_diff,
    gradient_ascent,
    idk_dpo,
    l1_sparse,
    npo,
    random_label,
    rmu,
    salun,
    scrub,
    simnpo,
    ssd,
    task_vector,
)
