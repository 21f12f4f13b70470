"""A small torch module and its factory, importable from a fresh process.

``torch_format="module"`` pickles ``torch_models.MLP`` by import path, and a
``state_dict`` checkpoint records ``torch_models:make_mlp`` as its factory; both must be
importable where the model loads, so they live here at module level (not in a test).
"""

from __future__ import annotations

import numpy as np
import torch


class MLP(torch.nn.Module):
    """Linear, batch norm, ReLU, dropout, linear: eval mode changes its output."""

    def __init__(self, n_in: int = 5, hidden: int = 16, n_out: int = 3) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n_in, hidden),
            torch.nn.BatchNorm1d(hidden),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.5),
            torch.nn.Linear(hidden, n_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def make_mlp() -> MLP:
    """The importable model factory recorded for ``state_dict`` checkpoints."""
    torch.manual_seed(0)
    return MLP()


def trained_mlp(seed: int = 2) -> MLP:
    """An MLP whose weights and batch-norm statistics moved from their initial values,
    left in train mode (loading must return it in eval mode)."""
    model = make_mlp()
    model.train()
    batch = np.random.default_rng(seed).normal(size=(64, 5)).astype(np.float32)
    with torch.no_grad():
        model(torch.as_tensor(batch) * 3 + 1)
        for p in model.parameters():
            p.add_(0.01)
    return model
