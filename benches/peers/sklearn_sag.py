"""scikit-learn's `sag` and `saga` solvers on the `finite-sum` suite's
problems: passes and seconds to reach f - f* <= 1e-8 (a peer, not a
dependency of the build or of `cargo test`).

    pip install numpy scikit-learn
    python3 benches/peers/sklearn_sag.py [--synthetic FILE]

The objective is the suite's `logistic:data=NAME,l2=0.0001`,

    f(w) = (1/n) sum_i log(1 + exp(-y_i a_i.w)) + (l2/2) ||w||^2,

which is scikit-learn's `C sum_i log(1 + exp(-y_i a_i.w)) + ||w||^2 / 2`
divided by `n C` when `C = 1 / (n l2)`: `LogisticRegression(solver=...,
C=1/(n*l2), fit_intercept=False)` with the L2 penalty (`l1_ratio=0`, or
`penalty='l2'` before scikit-learn 1.8). The data are the suite's own: the
embedded breast-cancer CSV and the synthetic set exported by
`cargo xtask data synthetic` (or the file given with `--synthetic`). f* are
the constants of `crates/opt-bench/src/report.rs`
(`benches/peers/reference_optima.py`).

Method: a fit with `max_iter = k`, `tol = 0` (so only `max_iter` stops it,
after exactly k passes: `n_iter_ == k`), `warm_start=False` and
`random_state=0` is deterministic; k is doubled until f(w) - f* <= target,
then bisected to the smallest such k (f - f* after k passes is close to
monotone in k; the bisection assumes it). The seconds are the median of
`--repeats` timed fits at that k, `fit()` as a user calls it (input
validation included), on one thread (sag is single-threaded).
"""
import argparse
import datetime
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import scipy
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

ROOT = pathlib.Path(__file__).resolve().parents[2]
BREAST_CANCER = ROOT / "crates" / "opt-bench" / "data" / "breast-cancer" / "wdbc-standardized.csv"
L2 = 1e-4
# `BREAST_CANCER_L2_1E4_F_STAR` and `SYNTHETIC_L2_1E4_F_STAR` of report.rs.
F_STAR = {
    "logistic:data=breast-cancer,l2=0.0001": 0.04344631442865036,
    "logistic:data=synthetic,l2=0.0001": 0.4627711468605868,
}
SKLEARN_1_8 = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 8)


def objective(a, y, w):
    return np.logaddexp(0.0, -y * (a @ w)).mean() + 0.5 * L2 * w @ w


def fit(a, y, solver, passes):
    penalty = {"l1_ratio": 0.0} if SKLEARN_1_8 else {"penalty": "l2"}
    model = LogisticRegression(solver=solver, C=1.0 / (len(y) * L2), fit_intercept=False,
                               tol=0.0, max_iter=passes, warm_start=False, random_state=0,
                               **penalty)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        model.fit(a, y)
        seconds = time.perf_counter() - started
    assert list(model.classes_) == [-1.0, 1.0]
    return model.coef_.ravel(), int(model.n_iter_[0]), seconds


def passes_to_target(a, y, f_star, solver, target, max_passes, repeats):
    """(passes, seconds, gap) at the fewest passes reaching `target`, or
    (None, seconds, gap) at `max_passes` if that does not."""
    gaps = {}

    def gap(k):
        if k not in gaps:
            w, n_iter, _ = fit(a, y, solver, k)
            assert n_iter == k, (n_iter, k)
            gaps[k] = objective(a, y, w) - f_star
        return gaps[k]

    low, high = 0, 1
    while gap(high) > target:
        if high >= max_passes:
            high = None
            break
        low, high = high, min(2 * high, max_passes)
    if high is not None:
        while high - low > 1:
            middle = (low + high) // 2
            if gap(middle) <= target:
                high = middle
            else:
                low = middle
    k = high if high is not None else max_passes
    seconds = float(np.median([fit(a, y, solver, k)[2] for _ in range(repeats)]))
    return high, seconds, gap(k)


def export_synthetic(directory):
    out = pathlib.Path(directory) / "synthetic.csv"
    subprocess.run(["cargo", "xtask", "data", "synthetic", "--out", str(out)], cwd=ROOT, check=True)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=pathlib.Path,
                        help="the CSV of `cargo xtask data synthetic` (default: export it now)")
    parser.add_argument("--target", type=float, default=1e-8)
    parser.add_argument("--max-passes", type=int, default=100000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"date {datetime.date.today()}; python {platform.python_version()}, "
          f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn {sklearn.__version__}; "
          f"{platform.machine()}, {os.cpu_count()} CPUs")
    print(f"target f - f* <= {args.target:g}; max {args.max_passes} passes; "
          f"seconds: median of {args.repeats} fits\n")
    print("| problem | solver | passes to target | seconds to target | f - f* there | s/pass |")
    print("|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        files = {
            "logistic:data=breast-cancer,l2=0.0001": BREAST_CANCER,
            "logistic:data=synthetic,l2=0.0001": args.synthetic or export_synthetic(scratch),
        }
        for problem, path in files.items():
            table = np.loadtxt(path, delimiter=",")
            a, y = np.ascontiguousarray(table[:, :-1]), table[:, -1]
            for solver in ("sag", "saga"):
                passes, seconds, gap = passes_to_target(a, y, F_STAR[problem], solver, args.target,
                                                        args.max_passes, args.repeats)
                ran = passes if passes is not None else args.max_passes
                shown = str(passes) if passes is not None else f"not reached in {args.max_passes}"
                print(f"| `{problem}` | {solver} | {shown} | {seconds:.3f} | {gap:.2e} | "
                      f"{seconds / ran:.2e} |")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
