"""SciPy's L-BFGS-B on the chained Rosenbrock function: evaluations,
iterations and seconds to ||grad f||_inf <= 1e-6 (a peer for our `lbfgs`,
not a dependency of the build or of `cargo test`).

    pip install numpy scipy
    python3 benches/peers/scipy_lbfgs.py [--dims 2,100,1000,10000] [--repeats 5] [--json]

The problem is `rosenbrock:dim=N` of the runner,

    f(x) = sum_{i<N} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2,

from (-1.2, 1, -1.2, 1, ...), with a vectorized numpy value and gradient
returned together (`jac=True`, so one call is one evaluation: `nfev`).
Options: `maxcor=10` (the history of our `lbfgs:m=10`), `gtol=1e-6`
(L-BFGS-B's `pgtol`: the infinity norm of the projected gradient, which
without bounds is the gradient's), `ftol=0` (so that the relative-decrease
test, `2.2e-9` by default, cannot stop a run before the gradient test,
as `--gtol` alone would not in our runner) and `maxiter = maxfun = 1000000`.

Seconds are the best of `--repeats` calls of `scipy.optimize.minimize`
as a user makes it, on one thread (the BLAS thread variables are set to 1
before numpy is imported). Our side:
`cargo run --release -p opt-second-order --example lbfgs_rosenbrock`.
"""
import os

for _name in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

GTOL = 1e-6
MAXCOR = 10
MAXITER = 1_000_000


def rosenbrock(x):
    """Value and gradient of the chained Rosenbrock function, vectorized."""
    head, tail = x[:-1], x[1:]
    t = tail - head * head
    u = 1.0 - head
    f = 100.0 * (t @ t) + u @ u
    grad = np.zeros_like(x)
    grad[:-1] = -400.0 * t * head - 2.0 * u
    grad[1:] += 200.0 * t
    return f, grad


def start(dim):
    x0 = np.ones(dim)
    x0[::2] = -1.2
    return x0


def run(dim, repeats):
    best = float("inf")
    result = None
    for _ in range(repeats):
        x0 = start(dim)
        began = time.perf_counter()
        result = minimize(
            rosenbrock,
            x0,
            jac=True,
            method="L-BFGS-B",
            options={"maxcor": MAXCOR, "gtol": GTOL, "ftol": 0.0, "maxiter": MAXITER, "maxfun": MAXITER},
        )
        best = min(best, time.perf_counter() - began)
    f, grad = rosenbrock(result.x)
    return {
        "problem": f"rosenbrock:dim={dim}",
        "nfev": int(result.nfev),
        "nit": int(result.nit),
        "f": float(f),
        "grad_inf": float(np.max(np.abs(grad))),
        "seconds": best,
        "success": bool(result.success),
        "message": str(result.message),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", default="2,100,1000,10000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    dims = [int(d) for d in args.dims.split(",")]
    rows = [run(dim, args.repeats) for dim in dims]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(
        f"date {datetime.date.today()}; python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}; "
        f"{platform.machine()}, {os.cpu_count()} CPUs, one thread"
    )
    print(f"L-BFGS-B maxcor={MAXCOR}, gtol={GTOL:g}, ftol=0; seconds: best of {args.repeats}")
    print()
    print("| problem | nfev | nit | f | grad_inf | seconds | message |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| `{r['problem']}` | {r['nfev']} | {r['nit']} | {r['f']:.3e} | "
            f"{r['grad_inf']:.2e} | {r['seconds']:.3e} | {r['message']} |"
        )


if __name__ == "__main__":
    main()
