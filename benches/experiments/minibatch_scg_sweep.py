"""Mini-batch SCG against Adam on the digits networks at equal samples seen.

The experiment behind docs/algorithms/minibatch-scg.md. Build the binary
first (`cargo build --release -p xtask`), then, from the repository root:

    python3 benches/experiments/minibatch_scg_sweep.py MODEL BUDGET EPOCHS SEEDS SPEC...

e.g. `... mlp 28740 20 0,1,2,3,4 adam:lr=0.001 scg:batch_size=128,batches_every=5`.
For every spec and seed it runs `cargo xtask train --model MODEL --data digits
--batch-size 32 --json` and reports the test accuracy of the last epoch whose
`samples_seen` is at most BUDGET (28740 = 20 epochs of 1437 samples, Adam's
budget in the issue's target), with the mean over seeds.
"""
import os
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XTASK = os.path.join(ROOT, "target", "release", "xtask")
import json, subprocess, sys, itertools
BUDGET = 28740  # Adam: 20 epochs x 1437 samples
def run(model, opt, epochs, seed=0, extra=()):
    cmd = [XTASK, "train", "--model", model, "--data", "digits", "--optimizer", opt,
           "--epochs", str(epochs), "--batch-size", "32", "--seed", str(seed), "--json", *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        return None, out.stderr.strip()
    d = json.loads(out.stdout.strip().splitlines()[-1])
    return d, None
def at_budget(d, budget):
    best = None
    for r in d["records"]:
        if r["samples_seen"] <= budget:
            best = r
    return best
if __name__ == "__main__":
    model = sys.argv[1]; budget = int(sys.argv[2]); epochs = int(sys.argv[3])
    seeds = [int(s) for s in sys.argv[4].split(",")]
    for opt in sys.argv[5:]:
        accs = []; info = []
        for seed in seeds:
            d, err = run(model, opt, epochs, seed)
            if d is None:
                print(opt, "ERROR", err); break
            r = at_budget(d, budget)
            accs.append(r["test_accuracy"] if r else float('nan'))
            info.append((r["epoch"], r["samples_seen"], round(r["train_loss"],4)) if r else None)
        if accs:
            print(f"{opt:60s} acc={sum(accs)/len(accs):.4f} {[round(a,4) for a in accs]} {info[0]} stop={d.get('stopped_early')} t={d['epoch_time_s']:.4f}", flush=True)
