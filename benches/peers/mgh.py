"""The 35 More-Garbow-Hillstrom test problems, written independently of the
Rust crate (a peer, not a dependency of the build or of `cargo test`).

    pip install numpy scipy torch       # torch only for exact gradients
    python3 benches/peers/mgh.py                 # f(x0), least_squares f*, x*
    python3 benches/peers/mgh.py --lbfgsb        # SciPy L-BFGS-B, exact gradients

J. J. More, B. S. Garbow and K. E. Hillstrom, "Testing unconstrained
optimization software", ACM TOMS 7(1):17-41, 1981, section 3. Each problem is
f(x) = sum_i r_i(x)^2 with the paper's standard start x0. The residuals are
vectorized numpy written from the paper's formulas (not translated from the
Rust code): Watson, the integral equation and Broyden banded are written as
matrix products, the numpy Chebyquad takes T_i from numpy's Chebyshev module
(the torch one, for gradients only, uses the three-term recurrence), so that
a slip on either side shows up as a disagreement.

Default mode prints one JSON line per (problem, size): `f0` = f(x0) (17
significant digits), then, from scipy.optimize.least_squares started at x0
(or at `near`, a point close to the paper's minimizer, where x0 leads to
another local minimum) and polished, the reached `f` and its minimizer `x`.
The Rust test `crates/opt-bench/tests/mgh.rs` asserts these f(x0) to a
relative 1e-12 and checks its own f at these `x` against the paper's f*.

`--lbfgsb` runs scipy.optimize.minimize(method="L-BFGS-B", jac=True) at the
default sizes with the exact gradient from torch autograd (no finite
differences), gtol=1e-6 (projected ||g||_inf), maxcor=10, ftol=0 (so that
only the gradient test stops it), and prints nfev, nit, f, ||g||_inf and
SciPy's message as JSON lines.
"""
import argparse
import json
import math
import sys

import numpy as np
from scipy.optimize import least_squares, minimize

try:
    import torch
except ImportError:  # f(x0) and least_squares still work, with FD Jacobians
    torch = None


# ------------------------------------------------------------ array backends


class NumpyOps:
    """The operations the residuals use, on numpy float64 arrays."""

    exp, log, sin, cos, sqrt = np.exp, np.log, np.sin, np.cos, np.sqrt
    arctan, abs = np.arctan, np.abs
    sum, prod = staticmethod(np.sum), staticmethod(np.prod)

    @staticmethod
    def array(values):
        return np.asarray(values, dtype=float)

    def arange(self, start, stop):
        return self.array(np.arange(start, stop))

    def stack(self, items):
        return np.stack([np.asarray(item, dtype=float) for item in items])

    @staticmethod
    def concat(items):
        return np.concatenate(items)

    @staticmethod
    def interleave(items):
        return np.stack(items, axis=1).reshape(-1)

    @staticmethod
    def chebyshev(y, degree):
        """T_0(y), ..., T_degree(y) as columns (numpy's Chebyshev module)."""
        return np.polynomial.chebyshev.chebvander(y, degree)


class TorchOps:
    """The same operations on float64 torch tensors (for autograd)."""

    def __init__(self):
        self.exp, self.log, self.sin, self.cos = torch.exp, torch.log, torch.sin, torch.cos
        self.sqrt, self.arctan = torch.sqrt, torch.atan
        self.abs, self.sum, self.prod = torch.abs, torch.sum, torch.prod

    @staticmethod
    def array(values):
        return torch.as_tensor(np.asarray(values, dtype=float), dtype=torch.float64)

    def arange(self, start, stop):
        return self.array(np.arange(start, stop))

    def stack(self, items):
        return torch.stack([item if torch.is_tensor(item) else self.array(item) for item in items])

    @staticmethod
    def concat(items):
        return torch.cat(items)

    @staticmethod
    def interleave(items):
        return torch.stack(items, dim=1).reshape(-1)

    @staticmethod
    def chebyshev(y, degree):
        """T_0(y), ..., T_degree(y) as columns, by T_{k+1} = 2y T_k - T_{k-1}."""
        columns = [torch.ones_like(y), y]
        while len(columns) <= degree:
            columns.append(2 * y * columns[-1] - columns[-2])
        return torch.stack(columns[:degree + 1], dim=1)


NP = NumpyOps()


# ------------------------------------------------------------ the problems
# Each function takes (x, o, n, m) with o the backend and returns r (length m).


def rosenbrock(x, o, n, m):
    return o.stack([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def freudenstein_roth(x, o, n, m):
    return o.stack([
        -13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1],
        -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1],
    ])


def powell_badly_scaled(x, o, n, m):
    return o.stack([1e4 * x[0] * x[1] - 1, o.exp(-x[0]) + o.exp(-x[1]) - 1.0001])


def brown_badly_scaled(x, o, n, m):
    return o.stack([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2])


def beale(x, o, n, m):
    i = o.arange(1, 4)
    return o.array([1.5, 2.25, 2.625]) - x[0] * (1 - x[1] ** i)


def jennrich_sampson(x, o, n, m):
    i = o.arange(1, m + 1)
    return 2 + 2 * i - (o.exp(i * x[0]) + o.exp(i * x[1]))


def helical_valley(x, o, n, m):
    # theta = atan(x2/x1) / 2pi, + 1/2 for x1 < 0 (x1 != 0 at the points used).
    below = float(x[0].detach() if torch is not None and torch.is_tensor(x[0]) else x[0]) < 0
    theta = o.arctan(x[1] / x[0]) / (2 * math.pi) + (0.5 if below else 0.0)
    return o.stack([
        10 * (x[2] - 10 * theta),
        10 * (o.sqrt(x[0] ** 2 + x[1] ** 2) - 1),
        x[2],
    ])


BARD_Y = [0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39]


def bard(x, o, n, m):
    u = np.arange(1, 16)
    v = 16 - u
    w = np.minimum(u, v)
    return o.array(BARD_Y) - (x[0] + o.array(u) / (o.array(v) * x[1] + o.array(w) * x[2]))


GAUSSIAN_Y = [0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
              0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009]


def gaussian(x, o, n, m):
    t = (8 - o.arange(1, 16)) / 2
    return x[0] * o.exp(-x[1] * (t - x[2]) ** 2 / 2) - o.array(GAUSSIAN_Y)


MEYER_Y = [34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744,
           8261, 7030, 6005, 5147, 4427, 3820, 3307, 2872]


def meyer(x, o, n, m):
    t = 45 + 5 * o.arange(1, 17)
    return x[0] * o.exp(x[1] / (t + x[2])) - o.array(MEYER_Y)


def gulf(x, o, n, m):
    t = np.arange(1, m + 1) / 100
    y = 25 + (-50 * np.log(t)) ** (2 / 3)
    return o.exp(-o.abs(o.array(y) - x[1]) ** x[2] / x[0]) - o.array(t)


def box_3d(x, o, n, m):
    t = o.arange(1, m + 1) / 10
    return o.exp(-t * x[0]) - o.exp(-t * x[1]) - x[2] * (o.exp(-t) - o.exp(-10 * t))


def powell_singular(x, o, n, m):
    return o.stack([
        x[0] + 10 * x[1],
        math.sqrt(5) * (x[2] - x[3]),
        (x[1] - 2 * x[2]) ** 2,
        math.sqrt(10) * (x[0] - x[3]) ** 2,
    ])


def wood(x, o, n, m):
    return o.stack([
        10 * (x[1] - x[0] ** 2),
        1 - x[0],
        math.sqrt(90) * (x[3] - x[2] ** 2),
        1 - x[2],
        math.sqrt(10) * (x[1] + x[3] - 2),
        (x[1] - x[3]) / math.sqrt(10),
    ])


KOWALIK_Y = [0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246]
KOWALIK_U = [4, 2, 1, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625]


def kowalik_osborne(x, o, n, m):
    u = o.array(KOWALIK_U)
    return o.array(KOWALIK_Y) - x[0] * (u ** 2 + u * x[1]) / (u ** 2 + u * x[2] + x[3])


def brown_dennis(x, o, n, m):
    t = o.arange(1, m + 1) / 5
    return (x[0] + t * x[1] - o.exp(t)) ** 2 + (x[2] + x[3] * o.sin(t) - o.cos(t)) ** 2


OSBORNE1_Y = [0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751,
              0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490,
              0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420, 0.414, 0.411, 0.406]


def osborne_1(x, o, n, m):
    t = 10 * o.arange(0, 33)
    return o.array(OSBORNE1_Y) - (x[0] + x[1] * o.exp(-t * x[3]) + x[2] * o.exp(-t * x[4]))


def biggs_exp6(x, o, n, m):
    t = o.arange(1, m + 1) / 10
    y = o.exp(-t) - 5 * o.exp(-10 * t) + 3 * o.exp(-4 * t)
    return x[2] * o.exp(-t * x[0]) - x[3] * o.exp(-t * x[1]) + x[5] * o.exp(-t * x[4]) - y


OSBORNE2_Y = [1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746,
              0.679, 0.608, 0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649,
              0.694, 0.644, 0.624, 0.661, 0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395,
              0.375, 0.372, 0.391, 0.396, 0.405, 0.428, 0.429, 0.523, 0.562, 0.607, 0.653,
              0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559, 0.597, 0.625, 0.739,
              0.710, 0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054]


def osborne_2(x, o, n, m):
    t = o.arange(0, 65) / 10
    model = (x[0] * o.exp(-t * x[4])
             + x[1] * o.exp(-(t - x[8]) ** 2 * x[5])
             + x[2] * o.exp(-(t - x[9]) ** 2 * x[6])
             + x[3] * o.exp(-(t - x[10]) ** 2 * x[7]))
    return o.array(OSBORNE2_Y) - model


def watson(x, o, n, m):
    t = np.arange(1, 30) / 29
    j = np.arange(1, n + 1)
    values = t[:, None] ** (j - 1)[None, :]                        # t_i^(j-1)
    slopes = np.where(j >= 2, (j - 1) * t[:, None] ** np.maximum(j - 2, 0), 0.0)
    s1 = o.array(slopes) @ x
    s2 = o.array(values) @ x
    return o.concat([s1 - s2 ** 2 - 1, o.stack([x[0], x[1] - x[0] ** 2 - 1])])


def extended_rosenbrock(x, o, n, m):
    odd, even = x[0::2], x[1::2]
    return o.interleave([10 * (even - odd ** 2), 1 - odd])


def extended_powell(x, o, n, m):
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    return o.interleave([a + 10 * b, math.sqrt(5) * (c - d), (b - 2 * c) ** 2,
                         math.sqrt(10) * (a - d) ** 2])


def penalty_1(x, o, n, m):
    return o.concat([math.sqrt(1e-5) * (x - 1), o.stack([o.sum(x ** 2) - 0.25])])


def penalty_2(x, o, n, m):
    a = math.sqrt(1e-5)
    i = np.arange(2, n + 1)
    y = o.array(np.exp(i / 10) + np.exp((i - 1) / 10))
    weights = o.array(np.arange(n, 0, -1))                          # n - j + 1
    return o.concat([
        o.stack([x[0] - 0.2]),
        a * (o.exp(x[1:] / 10) + o.exp(x[:-1] / 10) - y),
        a * (o.exp(x[1:] / 10) - math.exp(-0.1)),
        o.stack([o.sum(weights * x ** 2) - 1]),
    ])


def variably_dimensioned(x, o, n, m):
    s = o.sum(o.arange(1, n + 1) * (x - 1))
    return o.concat([x - 1, o.stack([s, s ** 2])])


def trigonometric(x, o, n, m):
    # n - sum cos x_j = sum (1 - cos x_j), and 1 - cos u = 2 sin^2(u/2): the
    # same residuals without cancellation for the small x near x0 = 1/n.
    i = o.arange(1, n + 1)
    one_minus_cos = 2 * o.sin(x / 2) ** 2
    return o.sum(one_minus_cos) + i * one_minus_cos - o.sin(x)


def brown_almost_linear(x, o, n, m):
    return o.concat([x[:-1] + o.sum(x) - (n + 1), o.stack([o.prod(x) - 1])])


def _grid(n):
    h = 1 / (n + 1)
    return h, np.arange(1, n + 1) * h


def _neighbours(n):
    """(previous, next) selection matrices with zero boundary values."""
    return np.eye(n, k=-1), np.eye(n, k=1)


def discrete_boundary_value(x, o, n, m):
    h, t = _grid(n)
    previous, following = _neighbours(n)
    return (2 * x - o.array(previous) @ x - o.array(following) @ x
            + h ** 2 * (x + o.array(t) + 1) ** 3 / 2)


def discrete_integral_equation(x, o, n, m):
    # The Green's function form r = x + (h/2) K q, K_ij = (1-t_i) t_j for
    # j <= i and t_i (1-t_j) for j > i, q_j = (x_j + t_j + 1)^3.
    h, t = _grid(n)
    ti, tj = t[:, None], t[None, :]
    kernel = np.where(tj <= ti + 1e-12, (1 - ti) * tj, ti * (1 - tj))
    q = (x + o.array(t) + 1) ** 3
    return x + h / 2 * (o.array(kernel) @ q)


def broyden_tridiagonal(x, o, n, m):
    previous, following = _neighbours(n)
    return (3 - 2 * x) * x - o.array(previous) @ x - 2 * (o.array(following) @ x) + 1


def broyden_banded(x, o, n, m):
    i, j = np.indices((n, n))
    band = ((j >= i - 5) & (j <= i + 1) & (j != i)).astype(float)
    return x * (2 + 5 * x ** 2) + 1 - o.array(band) @ (x * (1 + x))


def linear_full_rank(x, o, n, m):
    c = 2 * o.sum(x) / m + 1
    return o.concat([x - c, -c * o.array(np.ones(m - n))])


def linear_rank_1(x, o, n, m):
    s = o.sum(o.arange(1, n + 1) * x)
    return o.arange(1, m + 1) * s - 1


def linear_rank_1_zero(x, o, n, m):
    j = np.arange(1, n + 1)
    inner = np.where((j >= 2) & (j <= n - 1), j, 0)
    s = o.sum(o.array(inner) * x)
    middle = o.arange(1, m - 1) * s - 1                             # (i-1) s - 1, i = 2..m-1
    return o.concat([o.array([-1.0]), middle, o.array([-1.0])])


def chebyquad(x, o, n, m):
    i = np.arange(1, m + 1)
    integral = np.zeros(m)
    even = i % 2 == 0
    integral[even] = -1 / (i[even] ** 2 - 1.0)
    values = o.chebyshev(2 * x - 1, m)[:, 1:]                       # T_i(2 x_j - 1), i = 1..m
    return o.sum(values, 0) / n - o.array(integral)


def fixed(*point):
    return lambda n, m: np.array(point, dtype=float)


# name: (residuals, start(n, m), default n, default m(n), near)
# `near` is a start close to the paper's minimizer for problems whose
# standard start leads least_squares to another local minimum.
PROBLEMS = {
    "rosenbrock": (rosenbrock, fixed(-1.2, 1), 2, 2, None),
    "freudenstein-roth": (freudenstein_roth, fixed(0.5, -2), 2, 2, [4.9, 4.1]),
    "powell-badly-scaled": (powell_badly_scaled, fixed(0, 1), 2, 2, None),
    "brown-badly-scaled": (brown_badly_scaled, fixed(1, 1), 2, 3, None),
    "beale": (beale, fixed(1, 1), 2, 3, None),
    "jennrich-sampson": (jennrich_sampson, fixed(0.3, 0.4), 2, 10, None),
    "helical-valley": (helical_valley, fixed(-1, 0, 0), 3, 3, None),
    "bard": (bard, fixed(1, 1, 1), 3, 15, None),
    "gaussian": (gaussian, fixed(0.4, 1, 0), 3, 15, None),
    "meyer": (meyer, fixed(0.02, 4000, 250), 3, 16, None),
    "gulf": (gulf, fixed(5, 2.5, 0.15), 3, 99, None),
    "box-3d": (box_3d, fixed(0, 10, 20), 3, 10, None),
    "powell-singular": (powell_singular, fixed(3, -1, 0, 1), 4, 4, None),
    "wood": (wood, fixed(-3, -1, -3, -1), 4, 6, None),
    "kowalik-osborne": (kowalik_osborne, fixed(0.25, 0.39, 0.415, 0.39), 4, 11, None),
    "brown-dennis": (brown_dennis, fixed(25, 5, -5, -1), 4, 20, None),
    "osborne-1": (osborne_1, fixed(0.5, 1.5, -1, 0.01, 0.02), 5, 33, None),
    "biggs-exp6": (biggs_exp6, fixed(1, 2, 1, 1, 1, 1), 6, 13, None),
    "osborne-2": (osborne_2, fixed(1.3, 0.65, 0.65, 0.7, 0.6, 3, 5, 7, 2, 4.5, 5.5), 11, 65, None),
    "watson": (watson, lambda n, m: np.zeros(n), 6, 31, None),
    "extended-rosenbrock": (extended_rosenbrock, lambda n, m: np.tile([-1.2, 1.0], n // 2), 10, 10, None),
    "extended-powell": (extended_powell, lambda n, m: np.tile([3.0, -1.0, 0.0, 1.0], n // 4), 12, 12, None),
    "penalty-1": (penalty_1, lambda n, m: np.arange(1.0, n + 1), 10, 11, None),
    "penalty-2": (penalty_2, lambda n, m: np.full(n, 0.5), 10, 20, None),
    "variably-dimensioned": (variably_dimensioned, lambda n, m: 1 - np.arange(1, n + 1) / n, 10, 12, None),
    # From x0, least_squares stops at a local minimum f = 2.79506e-5; `near`
    # is MINPACK-1's zero of this system (hybrd, started at 10 x0).
    "trigonometric": (trigonometric, lambda n, m: np.full(n, 1 / n), 10, 10,
                      [0.0344, 0.0350, 0.0357, 0.0365, 0.0373, 0.0382, 0.0392, 0.0403, 0.1797, 0.1562]),
    "brown-almost-linear": (brown_almost_linear, lambda n, m: np.full(n, 0.5), 10, 10, None),
    "discrete-boundary-value": (discrete_boundary_value, lambda n, m: _grid(n)[1] * (_grid(n)[1] - 1), 10, 10, None),
    "discrete-integral-equation": (discrete_integral_equation, lambda n, m: _grid(n)[1] * (_grid(n)[1] - 1), 10, 10, None),
    "broyden-tridiagonal": (broyden_tridiagonal, lambda n, m: np.full(n, -1.0), 10, 10, None),
    "broyden-banded": (broyden_banded, lambda n, m: np.full(n, -1.0), 10, 10, None),
    "linear-full-rank": (linear_full_rank, lambda n, m: np.ones(n), 10, 20, None),
    "linear-rank-1": (linear_rank_1, lambda n, m: np.ones(n), 10, 20, None),
    "linear-rank-1-zero": (linear_rank_1_zero, lambda n, m: np.ones(n), 10, 20, None),
    "chebyquad": (chebyquad, lambda n, m: np.arange(1, n + 1) / (n + 1), 10, 10, None),
}

# Sizes other than the defaults whose f(x0) (and f*) the Rust test checks:
# the paper's other published f* and the MINPACK-1 test sizes.
EXTRA_SIZES = [
    ("jennrich-sampson", 2, 20), ("gulf", 3, 100), ("box-3d", 3, 20),
    ("brown-dennis", 4, 30), ("biggs-exp6", 6, 20),
    ("watson", 9, 31), ("watson", 12, 31), ("watson", 2, 31),
    ("extended-rosenbrock", 100, 100), ("extended-powell", 100, 100),
    ("penalty-1", 4, 5), ("penalty-2", 4, 8), ("penalty-2", 1, 2),
    ("variably-dimensioned", 100, 102), ("trigonometric", 100, 100),
    ("brown-almost-linear", 30, 30), ("brown-almost-linear", 1, 1),
    ("discrete-boundary-value", 100, 100), ("discrete-integral-equation", 100, 100),
    ("discrete-integral-equation", 1, 1),
    ("broyden-tridiagonal", 100, 100), ("broyden-banded", 100, 100), ("broyden-banded", 3, 3),
    ("linear-full-rank", 5, 10), ("linear-full-rank", 5, 50),
    ("linear-rank-1", 5, 10), ("linear-rank-1", 5, 50),
    ("linear-rank-1-zero", 5, 10), ("linear-rank-1-zero", 5, 50),
    ("chebyquad", 8, 8), ("chebyquad", 9, 9), ("chebyquad", 7, 7), ("chebyquad", 1, 8),
    ("chebyquad", 10, 20),
]


# ------------------------------------------------------------ evaluation


def residuals_numpy(name, n, m):
    function = PROBLEMS[name][0]
    return lambda x: function(np.asarray(x, dtype=float), NP, n, m)


def torch_functions(name, n, m):
    """r, J and (f, grad f) with exact derivatives from torch autograd."""
    function = PROBLEMS[name][0]
    ops = TorchOps()

    def r_of(x_tensor):
        return function(x_tensor, ops, n, m)

    def jacobian(x):
        x_tensor = torch.as_tensor(np.asarray(x, dtype=float), dtype=torch.float64)
        return torch.autograd.functional.jacobian(r_of, x_tensor).numpy()

    def value_and_grad(x):
        x_tensor = torch.tensor(np.asarray(x, dtype=float), dtype=torch.float64, requires_grad=True)
        r = r_of(x_tensor)
        f = torch.sum(r * r)
        (grad,) = torch.autograd.grad(f, x_tensor)
        return float(f.detach()), grad.numpy().copy()

    return jacobian, value_and_grad


def f_of(r):
    return float(np.sum(np.asarray(r) ** 2))


def solve_least_squares(name, n, m):
    """least_squares from x0 (or `near`), polished: (f, x)."""
    _, start, default_n, default_m, near = PROBLEMS[name]
    x0 = np.asarray(near if near is not None and (n, m) == (default_n, default_m)
                    else start(n, m), dtype=float)
    r = residuals_numpy(name, n, m)
    jac = torch_functions(name, n, m)[0] if torch is not None else "3-point"
    best = None
    for method in ("lm", "trf"):
        if method == "lm" and m < n:
            continue
        try:
            result = least_squares(r, x0, jac=jac, method=method, x_scale="jac",
                                   xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=100000)
        except (ValueError, FloatingPointError):
            continue
        # Polish from the best point (least_squares stops early on some).
        polished = least_squares(r, result.x, jac=jac, method="trf", x_scale="jac",
                                 xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=100000)
        for candidate in (result.x, polished.x):
            value = f_of(r(candidate))
            if np.isfinite(value) and (best is None or value < best[0]):
                best = (value, candidate)
    return best


def reference_values(names, sizes):
    np.seterr(all="ignore")
    for name, n, m in sizes:
        if names and name not in names:
            continue
        start = PROBLEMS[name][1]
        f0 = f_of(residuals_numpy(name, n, m)(start(n, m)))
        line = {"problem": name, "n": n, "m": m, "f0": float(f"{f0:.17g}")}
        if n <= 100:
            f_star, x_star = solve_least_squares(name, n, m)
            line["f"] = float(f"{f_star:.17g}")
            line["x"] = [float(f"{v:.17g}") for v in x_star]
        print(json.dumps(line), flush=True)


def run_lbfgsb(names):
    if torch is None:
        sys.exit("--lbfgsb needs torch for exact gradients (pip install torch)")
    np.seterr(all="ignore")
    for name, (_, start, n, m, _) in PROBLEMS.items():
        if names and name not in names:
            continue
        _, value_and_grad = torch_functions(name, n, m)
        result = minimize(value_and_grad, start(n, m), jac=True, method="L-BFGS-B",
                          options={"gtol": 1e-6, "maxcor": 10, "ftol": 0.0,
                                   "maxiter": 100000, "maxfun": 100000})
        _, grad = value_and_grad(result.x)
        print(json.dumps({
            "problem": f"mgh:{name}", "n": n, "m": m, "nfev": int(result.nfev),
            "nit": int(result.nit), "f": float(result.fun),
            "grad_inf": float(np.max(np.abs(grad))), "success": bool(result.success),
            "message": str(result.message),
        }), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lbfgsb", action="store_true",
                        help="run SciPy L-BFGS-B with exact gradients at the default sizes")
    parser.add_argument("--defaults-only", action="store_true",
                        help="only the default sizes (not the extra ones)")
    parser.add_argument("names", nargs="*", help="problems to run (default: all)")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in PROBLEMS]
    if unknown:
        sys.exit(f"unknown problem(s) {unknown}; valid: {', '.join(PROBLEMS)}")
    if args.lbfgsb:
        run_lbfgsb(args.names)
        return
    sizes = [(name, p[2], p[3]) for name, p in PROBLEMS.items()]
    if not args.defaults_only:
        sizes += EXTRA_SIZES
    reference_values(args.names, sizes)


if __name__ == "__main__":
    main()
