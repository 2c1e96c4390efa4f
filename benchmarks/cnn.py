"""A small CNN baseline for the recovery table: two convolutions and global max pooling over
one-hot DNA.

Trained like :func:`dnabert_viz.train_classifier`: the same stratified
validation split (same function, same seed), early stopping on validation
AUROC with the best weights restored, the same time budget.
"""

import time

import numpy as np
import torch
from torch import nn

from dnabert_viz.finetune import auroc, stratified_split


def one_hot(seqs: list[str]) -> torch.Tensor:
    """(N, 4, longest length) one-hot ACGT, zeros for N and past each sequence's end."""
    out = np.zeros((len(seqs), 4, max(map(len, seqs))), dtype=np.float32)
    lookup = np.full(256, -1)
    lookup[np.frombuffer(b"ACGT", np.uint8)] = np.arange(4)
    for i, s in enumerate(seqs):
        codes = lookup[np.frombuffer(s.encode(), np.uint8)]
        keep = codes >= 0
        out[i, codes[keep], np.flatnonzero(keep)] = 1
    return torch.from_numpy(out)


class SmallCNN(nn.Module):
    """Conv(4 -> channels, width) + ReLU, Conv(channels -> channels, 5) + ReLU, global max pool,
    dropout, linear."""

    def __init__(self, channels: int = 64, width: int = 15, dropout: float = 0.2):
        super().__init__()
        self.conv1 = nn.Conv1d(4, channels, width, padding=width // 2)
        self.conv2 = nn.Conv1d(channels, channels, 5, padding=2)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.head(h.amax(dim=2))

    @torch.no_grad()
    def predict(self, seqs: list[str]) -> np.ndarray:
        """(N, 2) class probabilities."""
        self.eval()
        return torch.cat(
            [torch.softmax(self(one_hot(seqs[i : i + 256])), -1) for i in range(0, len(seqs), 256)]
        ).numpy()


def train_cnn(
    seqs: list[str],
    labels: np.ndarray,
    max_minutes: float,
    seed: int = 0,
    epochs: int = 30,
    patience: int = 5,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
) -> SmallCNN:
    """Train the baseline; returns it in evaluation mode with ``epochs_run``."""
    torch.manual_seed(seed)
    train_rows, val_rows = stratified_split(labels, 0.1, seed)
    x, y = one_hot(seqs), torch.as_tensor(labels)
    model = SmallCNN()
    optim = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    rng, started, best = np.random.default_rng(seed), time.perf_counter(), (0, -1.0, None)
    for epoch in range(1, epochs + 1):
        model.train()
        order = train_rows[rng.permutation(len(train_rows))]
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            loss = nn.functional.cross_entropy(model(x[rows]), y[rows])
            optim.zero_grad()
            loss.backward()
            optim.step()
        model.eval()
        with torch.no_grad():
            score = auroc(torch.softmax(model(x[val_rows]), -1).numpy(), labels[val_rows])
        if score > best[1]:
            best = (epoch, score, {k: v.clone() for k, v in model.state_dict().items()})
        if epoch - best[0] >= patience or time.perf_counter() - started > 60 * max_minutes:
            break
    model.load_state_dict(best[2])
    model.epochs_run = epoch
    return model.eval()
