"""Our L-BFGS against SciPy's L-BFGS-B on the 35 More-Garbow-Hillstrom
problems at their default sizes, side by side in one run.

    cargo build --release -p xtask
    python3 benches/peers/compare_lbfgs_mgh.py [--json]

Both stop at ||grad f||_inf <= 1e-6 (SciPy: gtol=1e-6, ftol=0, maxcor=10;
exact gradients from torch autograd, see mgh.py); ours is
`xtask run --problem mgh:NAME --optimizer lbfgs --gtol 1e-6`. Evaluations
are function-and-gradient calls on both sides (SciPy's nfev, our evals.f).
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).parent))
import mgh  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
XTASK = ROOT / "target" / "release" / "xtask"


def ours(name):
    out = subprocess.run(
        [str(XTASK), "run", "--problem", f"mgh:{name}", "--optimizer", "lbfgs",
         "--gtol", "1e-6", "--max-iters", "100000", "--json"],
        capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    record = json.loads(out)
    return record["evals"]["f"], record["f"], record["grad_inf"]


def scipy(name):
    _, start, n, m, _ = mgh.PROBLEMS[name]
    _, value_and_grad = mgh.torch_functions(name, n, m)
    result = minimize(value_and_grad, start(n, m), jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-6, "maxcor": 10, "ftol": 0.0,
                               "maxiter": 100000, "maxfun": 100000})
    _, grad = value_and_grad(result.x)
    return int(result.nfev), float(result.fun), float(np.max(np.abs(grad)))


def main():
    if not XTASK.exists():
        sys.exit("build first: cargo build --release -p xtask")
    np.seterr(all="ignore")
    rows = []
    for name in mgh.PROBLEMS:
        (our_evals, our_f, our_g), (sp_evals, sp_f, sp_g) = ours(name), scipy(name)
        rows.append({"problem": name, "opt_evals": our_evals, "opt_f": our_f,
                     "opt_grad_inf": our_g, "scipy_nfev": sp_evals, "scipy_f": sp_f,
                     "scipy_grad_inf": sp_g})
    if "--json" in sys.argv:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"{'problem':28} {'opt':>6} {'scipy':>6}   opt f / g_inf          scipy f / g_inf")
    for r in rows:
        print(f"{r['problem']:28} {r['opt_evals']:6d} {r['scipy_nfev']:6d}   "
              f"{r['opt_f']:.6g} / {r['opt_grad_inf']:.1e}   {r['scipy_f']:.6g} / {r['scipy_grad_inf']:.1e}")
    solved = lambda g: g <= 1e-6
    print(f"solved (g_inf <= 1e-6): opt {sum(solved(r['opt_grad_inf']) for r in rows)}, "
          f"scipy {sum(solved(r['scipy_grad_inf']) for r in rows)} of {len(rows)}")
    print(f"opt evaluations <= scipy's on {sum(r['opt_evals'] <= r['scipy_nfev'] for r in rows)} problems; "
          f"totals opt {sum(r['opt_evals'] for r in rows)}, scipy {sum(r['scipy_nfev'] for r in rows)}")


if __name__ == "__main__":
    main()
