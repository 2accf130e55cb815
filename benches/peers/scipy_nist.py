"""SciPy's `least_squares(method='lm')` (MINPACK's lmder) on the 54 NIST StRD
nonlinear regression (problem, start) pairs: the peer of our
Levenberg-Marquardt (`cargo run --release -p opt-bench --example nist_lm`).

    pip install numpy scipy
    python3 benches/peers/scipy_nist.py [--json] [--ftol F --xtol X --gtol G] [--max-nfev N]

The `.dat` files are the project's own (`crates/opt-bench/data/nist-strd`),
parsed here independently of the Rust reader: the header's "File Format"
block gives the line ranges of the starting values, certified values and
data. Residuals are NIST's `r_i = y_i - f(x_i; b)` (Nelson: `log(y_i) - f`),
with the analytic Jacobian `-df/db` written out per model as in
`crates/opt-bench/src/problems/nist/models.rs`, and SciPy's defaults
(`ftol = xtol = gtol = 1e-8`, `x_scale='jac'` for 'lm' since SciPy 1.16,
i.e. MINPACK mode 1; `max_nfev = 100 n`) unless overridden.

Per pair: the smallest log relative error over the parameters
(`LRE = -log10(|b - b*| / |b*|)`, capped at the 11 certified digits), the
LRE of the residual sum of squares, `njev`, `nfev`, MINPACK's status, and
solved (parameter LRE >= 6); then the solved count and the median `njev`.
"""
import argparse
import json
import math
import pathlib
import sys

import numpy as np
import scipy
from scipy.optimize import least_squares

DATA = pathlib.Path(__file__).resolve().parents[2] / "crates" / "opt-bench" / "data" / "nist-strd"

NAMES = [
    "Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2", "DanWood", "Misra1b",
    "Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3", "Misra1c", "Misra1d",
    "Roszman1", "ENSO", "MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43",
    "Bennett5",
]


def line_range(lines, label):
    for line in lines:
        text = line.strip()
        if text.startswith("File Format:"):
            text = text[len("File Format:"):].strip()
        if text.startswith(label) and "(lines" in text:
            inside = text.split("(lines", 1)[1].split(")", 1)[0]
            first, last = inside.split("to")
            return int(first), int(last)
    raise ValueError(f"no `{label} (lines A to B)` in the header")


def parse(path):
    lines = path.read_text().splitlines()
    start_first, start_last = line_range(lines, "Starting Values")
    _, certified_last = line_range(lines, "Certified Values")
    data_first, data_last = line_range(lines, "Data")
    params = []
    for number in range(start_first, start_last + 1):
        fields = lines[number - 1].split()
        params.append([float(v) for v in fields[2:6]])
    params = np.array(params)
    rss = None
    for number in range(start_last + 1, certified_last + 1):
        text = lines[number - 1].strip()
        if text.startswith("Residual Sum of Squares"):
            rss = float(text.split(":")[1])
    difficulty = next(l.split()[0].lower() for l in lines if "Level of Difficulty" in l)
    rows = np.array([[float(v) for v in lines[n - 1].split()] for n in range(data_first, data_last + 1)])
    return {
        "start1": params[:, 0], "start2": params[:, 1], "certified": params[:, 2],
        "rss": rss, "difficulty": difficulty, "y": rows[:, 0], "x": rows[:, 1:],
    }


def model(name, b, x):
    """f(x; b) and df/db (rows: observations) for problem `name`."""
    t = x[:, 0]
    one = np.ones_like(t)
    if name in ("Misra1a", "BoxBOD"):
        e = np.exp(-b[1] * t)
        return b[0] * (1 - e), np.column_stack([1 - e, b[0] * t * e])
    if name in ("Chwirut1", "Chwirut2"):
        e = np.exp(-b[0] * t)
        d = b[1] + b[2] * t
        return e / d, np.column_stack([-t * e / d, -e / d**2, -t * e / d**2])
    if name.startswith("Lanczos"):
        cols, f = [], 0
        for k in range(3):
            e = np.exp(-b[2 * k + 1] * t)
            f = f + b[2 * k] * e
            cols += [e, -b[2 * k] * t * e]
        return f, np.column_stack(cols)
    if name.startswith("Gauss"):
        e = np.exp(-b[1] * t)
        f = b[0] * e
        cols = [e, -b[0] * t * e]
        for k in (2, 5):
            g = np.exp(-((t - b[k + 1]) ** 2) / b[k + 2] ** 2)
            f = f + b[k] * g
            off = t - b[k + 1]
            cols += [g, b[k] * g * 2 * off / b[k + 2] ** 2, b[k] * g * 2 * off**2 / b[k + 2] ** 3]
        return f, np.column_stack(cols)
    if name == "DanWood":
        p = t ** b[1]
        return b[0] * p, np.column_stack([p, b[0] * p * np.log(t)])
    if name == "Misra1b":
        u = 1 + b[1] * t / 2
        return b[0] * (1 - u**-2), np.column_stack([1 - u**-2, b[0] * t * u**-3])
    if name == "Kirby2":
        num = b[0] + b[1] * t + b[2] * t**2
        den = 1 + b[3] * t + b[4] * t**2
        q = num / den**2
        return num / den, np.column_stack([one / den, t / den, t**2 / den, -q * t, -q * t**2])
    if name in ("Hahn1", "Thurber"):
        num = b[0] + b[1] * t + b[2] * t**2 + b[3] * t**3
        den = 1 + b[4] * t + b[5] * t**2 + b[6] * t**3
        q = num / den**2
        return num / den, np.column_stack(
            [one / den, t / den, t**2 / den, t**3 / den, -q * t, -q * t**2, -q * t**3])
    if name == "Nelson":
        x1, x2 = x[:, 0], x[:, 1]
        e = np.exp(-b[2] * x2)
        return b[0] - b[1] * x1 * e, np.column_stack([one, -x1 * e, b[1] * x1 * x2 * e])
    if name == "MGH17":
        e4, e5 = np.exp(-t * b[3]), np.exp(-t * b[4])
        return (b[0] + b[1] * e4 + b[2] * e5,
                np.column_stack([one, e4, e5, -b[1] * t * e4, -b[2] * t * e5]))
    if name == "Misra1c":
        u = 1 + 2 * b[1] * t
        return b[0] * (1 - u**-0.5), np.column_stack([1 - u**-0.5, b[0] * t * u**-1.5])
    if name == "Misra1d":
        u = 1 + b[1] * t
        return b[0] * b[1] * t / u, np.column_stack([b[1] * t / u, b[0] * t / u**2])
    if name == "Roszman1":
        off = t - b[3]
        q = math.pi * (off**2 + b[2] ** 2)
        return (b[0] - b[1] * t - np.arctan(b[2] / off) / math.pi,
                np.column_stack([one, -t, -off / q, -b[2] / q]))
    if name == "ENSO":
        a = 2 * math.pi * t / 12
        f = b[0] + b[1] * np.cos(a) + b[2] * np.sin(a)
        cols = [one, np.cos(a), np.sin(a)]
        for k in (3, 6):
            w = 2 * math.pi * t / b[k]
            f = f + b[k + 1] * np.cos(w) + b[k + 2] * np.sin(w)
            cols += [(b[k + 1] * np.sin(w) - b[k + 2] * np.cos(w)) * w / b[k], np.cos(w), np.sin(w)]
        return f, np.column_stack(cols)
    if name == "MGH09":
        num = t**2 + t * b[1]
        den = t**2 + t * b[2] + b[3]
        c = -b[0] * num / den**2
        return b[0] * num / den, np.column_stack([num / den, b[0] * t / den, c * t, c])
    if name == "Rat42":
        e = np.exp(b[1] - b[2] * t)
        d = 1 + e
        return b[0] / d, np.column_stack([1 / d, -b[0] * e / d**2, b[0] * t * e / d**2])
    if name == "MGH10":
        s = t + b[2]
        e = np.exp(b[1] / s)
        return b[0] * e, np.column_stack([e, b[0] * e / s, -b[0] * b[1] * e / s**2])
    if name == "Eckerle4":
        z = (t - b[2]) / b[1]
        e = np.exp(-0.5 * z**2)
        s = b[0] * e / b[1] ** 2
        return b[0] / b[1] * e, np.column_stack([e / b[1], s * (z**2 - 1), s * z])
    if name == "Rat43":
        e = np.exp(b[1] - b[2] * t)
        u = 1 + e
        p = u ** (-1 / b[3])
        slope = -b[0] * p / (b[3] * u)
        return b[0] * p, np.column_stack([p, slope * e, -slope * e * t, b[0] * p * np.log(u) / b[3] ** 2])
    if name == "Bennett5":
        u = b[1] + t
        p = u ** (-1 / b[2])
        return b[0] * p, np.column_stack([p, -b[0] * p / (b[2] * u), b[0] * p * np.log(u) / b[2] ** 2])
    raise ValueError(name)


def lre(estimate, certified, digits=11.0):
    if not np.isfinite(estimate):
        return 0.0
    error = abs(estimate - certified)
    if error == 0:
        return digits
    relative = error / abs(certified) if certified != 0 else error
    return min(digits, max(0.0, -math.log10(relative)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    parser.add_argument("--ftol", type=float, default=1e-8)
    parser.add_argument("--xtol", type=float, default=1e-8)
    parser.add_argument("--gtol", type=float, default=1e-8)
    parser.add_argument("--max-nfev", type=int, default=None,
                        help="residual evaluations allowed (SciPy's default for 'lm': 100 n)")
    args = parser.parse_args()

    runs = []
    for name in NAMES:
        data = parse(DATA / f"{name}.dat")
        y = np.log(data["y"]) if name == "Nelson" else data["y"]
        x = data["x"]

        def residuals(b):
            with np.errstate(all="ignore"):
                return y - model(name, b, x)[0]

        def jacobian(b):
            with np.errstate(all="ignore"):
                return -model(name, b, x)[1]

        for start in (1, 2):
            b0 = data[f"start{start}"]
            try:
                fit = least_squares(residuals, b0, jac=jacobian, method="lm",
                                    ftol=args.ftol, xtol=args.xtol, gtol=args.gtol,
                                    max_nfev=args.max_nfev)
                b, rss = fit.x, float(np.dot(fit.fun, fit.fun))
                njev, nfev, status = int(fit.njev), int(fit.nfev), int(fit.status)
            except (ValueError, FloatingPointError) as error:
                b, rss, njev, nfev, status = np.full_like(b0, np.nan), math.nan, 0, 0, str(error)
            min_lre = min(lre(e, c) for e, c in zip(b, data["certified"]))
            runs.append({
                "problem": name, "start": start, "difficulty": data["difficulty"],
                "min_lre": min_lre, "rss_lre": lre(rss, data["rss"]), "njev": njev,
                "nfev": nfev, "status": status, "solved": bool(min_lre >= 6.0),
            })
    solved = sum(r["solved"] for r in runs)
    median_njev = float(np.median([r["njev"] for r in runs]))
    environment = (f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}; "
                   f"ftol {args.ftol:g}, xtol {args.xtol:g}, gtol {args.gtol:g}, "
                   f"max_nfev {args.max_nfev or '100 n'}")
    if args.json:
        print(json.dumps({"peer": "scipy.optimize.least_squares(method='lm')",
                          "environment": environment, "runs": runs, "solved": solved,
                          "total": len(runs), "median_njev": median_njev}))
        return
    print(environment)
    print(f"{'problem':<10} {'start':>5} {'min LRE':>8} {'RSS LRE':>8} {'njev':>6} {'nfev':>6} "
          f"{'status':>6}  solved")
    for r in runs:
        print(f"{r['problem']:<10} {r['start']:>5} {r['min_lre']:>8.2f} {r['rss_lre']:>8.2f} "
              f"{r['njev']:>6} {r['nfev']:>6} {str(r['status']):>6}  {'yes' if r['solved'] else 'no'}")
    print(f"scipy lm: solved {solved} of {len(runs)} (parameter LRE >= 6); "
          f"median Jacobian evaluations {median_njev:g}")


if __name__ == "__main__":
    main()
