"""Selective Synaptic Dampening (Foster et al., AAAI 2024, "Fast Machine Unlearning Without
Retraining Through Selective Synaptic Dampening")."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.adapter import ModelAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.strategies.base import CLASSIFIER_ONLY, Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


def importances(model: nn.Module, adapter: ModelAdapter, examples: Examples, batch_size: int
                ) -> list[torch.Tensor]:
    """The reference's ``calc_importance``: over unshuffled mini-batches of ``batch_size``, the
    mean of the squared gradient of the batch-mean loss; one tensor per trainable parameter,
    computed in eval mode."""
    params = [p for p in model.parameters() if p.requires_grad]
    imp = [torch.zeros_like(p) for p in params]
    was_training = model.training
    model.eval()
    n = 0
    for batch in examples.batches(batch_size):
        grads = torch.autograd.grad(adapter.loss(model, batch), params, allow_unused=True)
        for acc, g in zip(imp, grads):
            if g is not None:
                acc.addcmul_(g, g)
        n += 1
    model.train(was_training)
    return [i / max(n, 1) for i in imp]


def dampen(param: torch.Tensor, imp_data: torch.Tensor, imp_forget: torch.Tensor, alpha: float,
           lam: float) -> None:
    """In place: where ``imp_forget > alpha * imp_data`` scale ``param`` by
    ``min(lam * imp_data / imp_forget, 1)``; elsewhere leave it."""
    selected = imp_forget > alpha * imp_data  # implies imp_forget > 0 where selected
    factor = (lam * imp_data / imp_forget).clamp(max=1)
    param.mul_(torch.where(selected, factor, torch.ones_like(factor)))


@register_strategy("ssd", description="dampen weights far more important to the forget set than "
                   "to all data (non-iterative)", modalities=CLASSIFIER_ONLY)
class SSD(Strategy):
    """As the reference (``src/ssd.py``, ``forget_random_main.py``): importances on D =
    ``task.training_set()`` (retain + the full forget set, unshuffled, as the reference's
    ``full_train_dl``) and on the forget coreset, each by ``importances``; ``alpha`` selects,
    ``lam`` dampens (paper defaults 10 and 1, batches of 128). Deliberate deviation: both use
    batches of ``min(importance_batch_size, |coreset|)``. The reference's forget sets fill many
    batches of 128; a smaller coreset is one small batch, whose squared mean gradient carries
    ~128/|coreset| times the sampling noise of D's, which then passes the ``alpha`` test almost
    everywhere and collapses the model. (``importance_batch_size``, not the budget's
    ``batch_size``: SSD takes no optimizer steps.)"""

    paper = "Foster et al. 2024"

    reads_training_set = True

    def __init__(self, alpha: float = 10.0, lam: float = 1.0, importance_batch_size: int = 128
                 ) -> None:
        self.alpha = alpha
        self.lam = lam
        self.importance_batch_size = importance_batch_size

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model = task.model
        batch = min(self.importance_batch_size, len(task.forget))
        imp_f = importances(model, task.adapter, task.forget, batch)
        imp_d = importances(model, task.adapter, task.training_set(), batch)
        params = [p for p in model.parameters() if p.requires_grad]
        with torch.no_grad():
            for p, f, d in zip(params, imp_f, imp_d):
                dampen(p, d, f, self.alpha, self.lam)
        return model.eval()
