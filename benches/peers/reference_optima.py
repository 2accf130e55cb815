"""Reference optima of the built-in problems, computed by SciPy (a peer, not a
dependency of the build or of `cargo test`).

    pip install numpy scipy
    python3 benches/peers/reference_optima.py

Minimizes each problem with SciPy's L-BFGS-B to a tight gradient tolerance
and prints f* with the final gradient's infinity norm. The values are used by
`crates/opt-bench/src/report.rs` (`f*` of each suite) so that reports can show
`f - f*`; rerun this script if a problem's definition changes.
"""
import pathlib

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

DATA = pathlib.Path(__file__).resolve().parents[2] / "crates" / "opt-bench" / "data"


def logistic(l2):
    table = np.loadtxt(DATA / "breast-cancer" / "wdbc-standardized.csv", delimiter=",")
    a, y = table[:, :-1], table[:, -1]
    n = len(y)

    def f(x):
        margins = y * (a @ x)
        value = np.logaddexp(0.0, -margins).mean() + 0.5 * l2 * x @ x
        grad = a.T @ (-y * 0.5 * (1.0 - np.tanh(0.5 * margins))) / n + l2 * x
        return value, grad

    return f, np.zeros(a.shape[1])


def softmax(l2):
    table = np.loadtxt(DATA / "digits" / "digits.csv", delimiter=",")
    a, labels = table[:, :-1] / 16.0, table[:, -1].astype(int)
    n, d = a.shape
    k = 10
    one_hot = np.eye(k)[labels]

    def f(x):
        w = x.reshape(k, d)  # class-major: row c holds the weights of class c
        scores = a @ w.T
        log_norm = logsumexp(scores, axis=1)
        value = (log_norm - scores[np.arange(n), labels]).mean() + 0.5 * l2 * x @ x
        probabilities = np.exp(scores - log_norm[:, None])
        grad = ((probabilities - one_hot).T @ a) / n + l2 * w
        return value, grad.ravel()

    return f, np.zeros(k * d)


def solve(name, problem):
    f, x0 = problem
    result = minimize(f, x0, jac=True, method="L-BFGS-B",
                      options={"maxiter": 100000, "gtol": 1e-12, "ftol": 1e-16, "maxcor": 30})
    _, grad = f(result.x)
    print(f"{name}: f* = {result.fun!r}  |grad|_inf = {np.abs(grad).max():.2e}  ({result.nit} iterations)")


if __name__ == "__main__":
    solve("logistic:data=breast-cancer,l2=0.001", logistic(1e-3))
    solve("softmax:data=digits,l2=0.001", softmax(1e-3))
