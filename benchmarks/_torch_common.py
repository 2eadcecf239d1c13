"""Shared by the PyTorch peer scripts: one eager training epoch written as a PyTorch user writes
it (shuffled mini-batches, zero_grad / forward / loss / backward / step, accuracy counted as
Keras's metric is), so both peers time exactly the same loop."""
import torch


def train_epoch(model, opt, loss_fn, x, y, batch, limit=None):
    n = x.shape[0]
    perm = torch.randperm(n)
    correct = 0
    for start in range(0, n if limit is None else limit, batch):
        idx = perm[start:start + batch]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        loss = loss_fn(out, yb)
        loss.backward()
        opt.step()
        correct += (out.argmax(1) == yb).sum()
    return correct
