"""Fine-tuning on the retain set only ("FT"; Warnecke et al., NDSS 2023; baseline of Jia et al.,
"Model Sparsity Can Simplify Machine Unlearning", NeurIPS 2023)."""
from __future__ import annotations

from torch import nn

from erasus_bench.methods.strategies._common import make_optimizer, optimize, streams
from erasus_bench.methods.strategies.base import Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


@register_strategy("finetune", description="fine-tune on the retain set (catastrophic forgetting)")
class Finetune(Strategy):
    """``steps`` optimizer steps of the training loss on retain batches; forget is unused."""

    paper = "Warnecke et al. 2023"

    uses_forget = False
    coreset_invariant = True

    def __init__(self, steps: int = 150, batch_size: int = 64, lr: float = 0.01,
                 optimizer: str = "sgd") -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        model = task.model
        _, retain = streams(task, self.batch_size)
        return optimize(model, make_optimizer(model, self.optimizer, self.lr), self.steps,
                        lambda t: task.adapter.loss(model, next(retain)))
