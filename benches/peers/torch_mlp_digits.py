"""PyTorch's reference for `cargo xtask train`: the MLP 64-128-10 (ReLU) on
the digits split of opt-models (first 1437 rows train, last 360 test,
pixels / 16), batch 32, 20 epochs, seed 0, two CPU threads, with Adam
(lr 1e-3) and SGD (lr 0.1, momentum 0.9), side by side with ours.

    cargo build --release -p xtask
    python3 benches/peers/torch_mlp_digits.py [--json]

The epoch time is the training loop of one epoch (shuffle, forward,
backward, step), without the test evaluation, as `xtask train` measures
it; the median over the epochs is reported. Initialisation and shuffles
are PyTorch's own (seeded), so accuracies agree in level, not digit.
"""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "crates" / "opt-bench" / "data" / "digits" / "digits.csv"
XTASK = ROOT / "target" / "release" / "xtask"
TRAIN_LEN, TEST_LEN = 1437, 360
EPOCHS, BATCH, SEED = 20, 32, 0
OPTIMIZERS = {
    "adam:lr=0.001": lambda p: torch.optim.Adam(p, lr=1e-3),
    "sgd:lr=0.1,momentum=0.9": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
}


def load():
    rows = np.loadtxt(DIGITS, delimiter=",", dtype=np.float32)
    assert rows.shape[0] == TRAIN_LEN + TEST_LEN
    x = torch.from_numpy(rows[:, :-1] / 16.0)
    y = torch.from_numpy(rows[:, -1].astype(np.int64))
    return (x[:TRAIN_LEN], y[:TRAIN_LEN]), (x[-TEST_LEN:], y[-TEST_LEN:])


def torch_run(make_optimizer):
    torch.manual_seed(SEED)
    (x, y), (xt, yt) = load()
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(SEED)
    times = []
    for _ in range(EPOCHS):
        start = time.perf_counter()
        order = torch.randperm(TRAIN_LEN, generator=generator)
        for i in range(0, TRAIN_LEN, BATCH):
            index = order[i:i + BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[index]), y[index])
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        accuracy = (model(xt).argmax(1) == yt).float().mean().item()
    return {"test_accuracy": accuracy, "epoch_time_s": statistics.median(times)}


def ours(spec):
    out = subprocess.run(
        [str(XTASK), "train", "--model", "mlp", "--data", "digits", "--optimizer", spec,
         "--epochs", str(EPOCHS), "--batch-size", str(BATCH), "--seed", str(SEED), "--json"],
        capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    record = json.loads(out)
    return {"test_accuracy": record["test_accuracy"], "epoch_time_s": record["epoch_time_s"]}


def main():
    torch.set_num_threads(2)
    results = []
    for spec, make in OPTIMIZERS.items():
        row = {"optimizer": spec, "torch": torch_run(make)}
        if XTASK.exists():
            row["ours"] = ours(spec)
        results.append(row)
    if "--json" in sys.argv:
        print(json.dumps(results))
        return
    print(f"{'optimizer':<26} {'torch acc':>9} {'torch ms':>9} {'ours acc':>9} {'ours ms':>8}")
    for row in results:
        t, o = row["torch"], row.get("ours", {})
        print(f"{row['optimizer']:<26} {t['test_accuracy']:>9.4f} {1e3 * t['epoch_time_s']:>9.2f} "
              f"{o.get('test_accuracy', float('nan')):>9.4f} "
              f"{1e3 * o.get('epoch_time_s', float('nan')):>8.2f}")


if __name__ == "__main__":
    main()
