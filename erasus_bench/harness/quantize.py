"""The quantization attack's models: weight-only integer quantization with torchao (CPU and
CUDA), as Zhang et al. (ICLR 2025) reload an unlearned model in 8 and 4 bits."""
from __future__ import annotations

import copy
from importlib.metadata import version

import torch
from torch import nn

GROUP = 32  # int4 group size


def scheme(bits: int) -> str:
    """What ``quantized(model, bits)`` does, for records and pages."""
    layout = "one scale per output channel" if bits == 8 else f"one scale per group of {GROUP}"
    return (f"torchao {version('torchao')} IntxWeightOnlyConfig: int{bits} symmetric weights, "
            f"{layout}, on every linear layer; activations and embeddings in float")


def _linears(model: nn.Module) -> nn.Module:
    """``model`` with each GPT-2 ``Conv1D`` (a linear layer with transposed weights) replaced
    by the equivalent ``nn.Linear``, so that quantization reaches it."""
    from transformers.pytorch_utils import Conv1D

    for name, child in list(model.named_children()):
        if isinstance(child, Conv1D):
            w = child.weight
            lin = nn.Linear(w.shape[0], w.shape[1], device=w.device, dtype=w.dtype)
            with torch.no_grad():
                lin.weight.copy_(w.t())
                lin.bias.copy_(child.bias)
            setattr(model, name, lin)
        else:
            _linears(child)
    return model


def quantized(model: nn.Module, bits: int) -> nn.Module:
    """A copy of ``model`` with int8 (per channel) or int4 (per group of ``GROUP`` inputs)
    weights; linear layers whose input width is not a multiple of the group stay in float at
    4 bits."""
    from torchao.quantization import IntxWeightOnlyConfig, PerAxis, PerGroup, quantize_

    if bits not in (4, 8):
        raise ValueError(f"bits {bits} is invalid; valid choices: 4, 8")
    out = _linears(copy.deepcopy(model)).eval()
    config = IntxWeightOnlyConfig(weight_dtype=getattr(torch, f"int{bits}"),
                                  granularity=PerAxis(0) if bits == 8 else PerGroup(GROUP))
    quantize_(out, config, filter_fn=lambda m, _fqn: isinstance(m, nn.Linear) and (
        bits == 8 or m.in_features % GROUP == 0))
    return out
