"""Fisher forgetting (Golatkar et al., CVPR 2020, "Eternal Sunshine of the Spotless Net:
Selective Forgetting in Deep Networks"): Gaussian noise where the retain Fisher is small."""
from __future__ import annotations

import torch
from torch import nn

from erasus_bench.methods.adapter import ModelAdapter
from erasus_bench.methods.examples import Examples
from erasus_bench.methods.strategies._common import EXTRA_SALT, require_num_classes
from erasus_bench.methods.strategies.base import CLASSIFIER_ONLY, Strategy, register_strategy
from erasus_bench.methods.task import UnlearnTask


def predictive_fisher(model: nn.Module, adapter: ModelAdapter, examples: Examples,
                      chunk: int = 32) -> list[torch.Tensor]:
    """Diagonal Fisher with labels from the model's own prediction, per trainable parameter:
    the mean over examples of ``sum_y p(y|x) * (d CE(x, y) / d theta)^2`` (the notebook's
    ``hessian``), in eval mode. Per-example, per-class gradients come from one batched
    vector-Jacobian product per ``chunk`` examples (the cotangent of CE(x_i, y) on the logits
    is ``p_i - e_y`` on row i)."""
    params = [p for p in model.parameters() if p.requires_grad]
    fisher = [torch.zeros_like(p) for p in params]
    was_training = model.training
    model.eval()
    for batch in examples.batches(chunk):
        logits = adapter.logits(model, batch)  # [B, C]
        b, c = logits.shape
        prob = logits.detach().softmax(-1)
        rows = prob[:, None, :] - torch.eye(c, dtype=prob.dtype)  # [B, y, C]: p_i - e_y
        cot = torch.einsum("ij,iyc->iyjc", torch.eye(b, dtype=prob.dtype), rows)
        grads = torch.autograd.grad(logits, params, cot.reshape(b * c, b, c),
                                    is_grads_batched=True, allow_unused=True)
        for f, g in zip(fisher, grads):
            if g is not None:
                f.add_(torch.einsum("k,k...->...", prob.reshape(-1), g.pow(2)))
    model.train(was_training)
    return [f / max(len(examples), 1) for f in fisher]


def forgotten_classes(task: UnlearnTask) -> list[int]:
    """Classes of the forget coreset that retain lacks (the class-forgetting case; the task has
    no scenario flag). Empty for a random forget set."""
    return sorted(set(task.forget.tensors["y"].tolist()) - set(task.retain.tensors["y"].tolist()))


def output_layer_params(task: UnlearnTask) -> set[int]:
    """ids of the output layer's parameters (the adapter's ``last_layer``; a model without one
    is taken to be its own output layer)."""
    try:
        layer = task.adapter.last_layer(task.model)
    except AttributeError:
        layer = task.model
    return {id(p) for p in layer.parameters()}


@register_strategy("fisher_forgetting", description="add noise with variance inverse to the "
                   "retain-set Fisher (non-iterative)", modalities=CLASSIFIER_ONLY)
class FisherForgetting(Strategy):
    """As the reference notebook (``Forgetting.ipynb``, ``hessian`` and ``get_mean_var``):
    ``theta ~ N(theta, var)`` with ``var = alpha * min(1 / (F + eps), max_inv_fisher)``
    (``max_inv_fisher_head`` on the output layer), ``F`` the diagonal retain Fisher under the
    model's predicted labels; for weight matrices ``var`` is averaged over each row; output-layer
    parameters and all 1-D parameters (biases) get ``var *= extra_factor``. Class forgetting
    (``forgotten_classes``): the forgotten classes' output rows get mean 0 and variance
    ``class_var`` (before ``extra_factor``, as in the notebook). The notebook finds the output
    layer by ``size(0) == num_classes``; here it is the adapter's ``last_layer``. ``max_var``
    optionally caps the final variance (OPTML's port caps the std at 1e-3); ``None`` = paper.
    Coreset-invariant: the forget set is read only for which classes it holds (none that retain
    lacks in a random forget set; the forgotten class in a class forget set, which every coreset
    of it holds), so it runs once per seed with the ``full`` selector."""

    paper = "Golatkar et al. 2020"

    coreset_invariant = True

    def __init__(self, alpha: float = 1e-6, eps: float = 1e-8, max_inv_fisher: float = 1e3,
                 max_inv_fisher_head: float = 1e2, extra_factor: float = 10.0,
                 class_var: float = 1e-4, max_var: float | None = None) -> None:
        self.alpha = alpha
        self.eps = eps
        self.max_inv_fisher = max_inv_fisher
        self.max_inv_fisher_head = max_inv_fisher_head
        self.extra_factor = extra_factor
        self.class_var = class_var
        self.max_var = max_var

    def noise_distribution(self, task: UnlearnTask) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The notebook's ``get_mean_var``: (mean, variance) of the Gaussian each trainable
        parameter of ``task.model`` is resampled from."""
        model = task.model
        fisher = predictive_fisher(model, task.adapter, task.retain,
                                   chunk=max(1, 320 // require_num_classes(task)))
        head, forgotten = output_layer_params(task), forgotten_classes(task)
        out = []
        for p, f in zip([p for p in model.parameters() if p.requires_grad], fisher):
            is_head = id(p) in head
            cap = self.max_inv_fisher_head if is_head else self.max_inv_fisher
            var = self.alpha * (1.0 / (f + self.eps)).clamp(max=cap)
            if p.ndim > 1:
                var = var.mean(dim=1, keepdim=True).expand_as(p).clone()
            mu = p.detach().clone()
            if is_head and forgotten:
                mu[forgotten] = 0.0
                var[forgotten] = self.class_var
            if is_head or p.ndim == 1:
                var = var * self.extra_factor
            if self.max_var is not None:
                var = var.clamp(max=self.max_var)
            out.append((mu, var))
        return out

    def unlearn(self, task: UnlearnTask) -> nn.Module:
        gen = task.generator(EXTRA_SALT)
        params = [p for p in task.model.parameters() if p.requires_grad]
        dist = self.noise_distribution(task)
        with torch.no_grad():
            for p, (mu, var) in zip(params, dist):
                noise = torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device)
                p.copy_(mu + var.sqrt() * noise)
        return task.model.eval()
