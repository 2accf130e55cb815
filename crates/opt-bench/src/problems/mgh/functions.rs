//! The 35 problems of More, Garbow & Hillstrom (1981), section 3: their
//! residuals `r_i(x)`, sizes, standard starting points and published minima.
//!
//! Formulas below use the paper's 1-based indices (`x_1..x_n`,
//! `r_1..r_m`); the code is 0-based. Every residual function is generic
//! over [`Real`], so the same code gives values (`f64`) and exact
//! derivatives (dual numbers, see [`super::dual`]).

use std::f64::consts::PI;

use super::data::{
    BARD_Y, GAUSSIAN_Y, KOWALIK_OSBORNE_U, KOWALIK_OSBORNE_Y, MEYER_Y, OSBORNE_1_Y, OSBORNE_2_Y,
};
use super::dual::Real;

/// One of the 35 problems, in the paper's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Function {
    Rosenbrock,
    FreudensteinRoth,
    PowellBadlyScaled,
    BrownBadlyScaled,
    Beale,
    JennrichSampson,
    HelicalValley,
    Bard,
    Gaussian,
    Meyer,
    Gulf,
    Box3d,
    PowellSingular,
    Wood,
    KowalikOsborne,
    BrownDennis,
    Osborne1,
    BiggsExp6,
    Osborne2,
    Watson,
    ExtendedRosenbrock,
    ExtendedPowell,
    Penalty1,
    Penalty2,
    VariablyDimensioned,
    Trigonometric,
    BrownAlmostLinear,
    DiscreteBoundaryValue,
    DiscreteIntegralEquation,
    BroydenTridiagonal,
    BroydenBanded,
    LinearFullRank,
    LinearRank1,
    LinearRank1Zero,
    Chebyquad,
}

/// Which sizes `(n, m)` a problem admits, and its default.
#[derive(Debug, Clone, Copy)]
pub(super) enum Shape {
    /// `n` and `m` are fixed.
    Fixed { n: usize, m: usize },
    /// `n` is fixed; `min_m <= m <= max_m`.
    FreeResiduals {
        n: usize,
        default_m: usize,
        min_m: usize,
        max_m: usize,
    },
    /// `min_n <= n <= max_n`, `n` a multiple of `step`; `m` follows from `n`.
    FreeDimension {
        default_n: usize,
        min_n: usize,
        max_n: usize,
        step: usize,
        residuals: fn(usize) -> usize,
    },
    /// `n >= 1` and `m >= n`, `m` by default `default_m(n)`.
    FreeBoth {
        default_n: usize,
        default_m: fn(usize) -> usize,
    },
}

fn same_as_n(n: usize) -> usize {
    n
}

impl Function {
    /// Every problem, in the paper's order (problem `k` at index `k - 1`).
    pub(super) const ALL: [Function; 35] = [
        Function::Rosenbrock,
        Function::FreudensteinRoth,
        Function::PowellBadlyScaled,
        Function::BrownBadlyScaled,
        Function::Beale,
        Function::JennrichSampson,
        Function::HelicalValley,
        Function::Bard,
        Function::Gaussian,
        Function::Meyer,
        Function::Gulf,
        Function::Box3d,
        Function::PowellSingular,
        Function::Wood,
        Function::KowalikOsborne,
        Function::BrownDennis,
        Function::Osborne1,
        Function::BiggsExp6,
        Function::Osborne2,
        Function::Watson,
        Function::ExtendedRosenbrock,
        Function::ExtendedPowell,
        Function::Penalty1,
        Function::Penalty2,
        Function::VariablyDimensioned,
        Function::Trigonometric,
        Function::BrownAlmostLinear,
        Function::DiscreteBoundaryValue,
        Function::DiscreteIntegralEquation,
        Function::BroydenTridiagonal,
        Function::BroydenBanded,
        Function::LinearFullRank,
        Function::LinearRank1,
        Function::LinearRank1Zero,
        Function::Chebyquad,
    ];

    /// The problem's number in the paper (1 to 35).
    pub(super) fn number(self) -> usize {
        self as usize + 1
    }

    /// The name used in specs (`mgh:NAME`).
    pub(super) fn name(self) -> &'static str {
        match self {
            Function::Rosenbrock => "rosenbrock",
            Function::FreudensteinRoth => "freudenstein-roth",
            Function::PowellBadlyScaled => "powell-badly-scaled",
            Function::BrownBadlyScaled => "brown-badly-scaled",
            Function::Beale => "beale",
            Function::JennrichSampson => "jennrich-sampson",
            Function::HelicalValley => "helical-valley",
            Function::Bard => "bard",
            Function::Gaussian => "gaussian",
            Function::Meyer => "meyer",
            Function::Gulf => "gulf",
            Function::Box3d => "box-3d",
            Function::PowellSingular => "powell-singular",
            Function::Wood => "wood",
            Function::KowalikOsborne => "kowalik-osborne",
            Function::BrownDennis => "brown-dennis",
            Function::Osborne1 => "osborne-1",
            Function::BiggsExp6 => "biggs-exp6",
            Function::Osborne2 => "osborne-2",
            Function::Watson => "watson",
            Function::ExtendedRosenbrock => "extended-rosenbrock",
            Function::ExtendedPowell => "extended-powell",
            Function::Penalty1 => "penalty-1",
            Function::Penalty2 => "penalty-2",
            Function::VariablyDimensioned => "variably-dimensioned",
            Function::Trigonometric => "trigonometric",
            Function::BrownAlmostLinear => "brown-almost-linear",
            Function::DiscreteBoundaryValue => "discrete-boundary-value",
            Function::DiscreteIntegralEquation => "discrete-integral-equation",
            Function::BroydenTridiagonal => "broyden-tridiagonal",
            Function::BroydenBanded => "broyden-banded",
            Function::LinearFullRank => "linear-full-rank",
            Function::LinearRank1 => "linear-rank-1",
            Function::LinearRank1Zero => "linear-rank-1-zero",
            Function::Chebyquad => "chebyquad",
        }
    }

    /// The problem called `name`, if any.
    pub(super) fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The sizes the paper allows, with this crate's defaults.
    pub(super) fn shape(self) -> Shape {
        use Function::*;
        let fixed = |n, m| Shape::Fixed { n, m };
        let free_residuals = |n, default_m, min_m, max_m| Shape::FreeResiduals {
            n,
            default_m,
            min_m,
            max_m,
        };
        let free_dimension = |min_n, step, residuals| Shape::FreeDimension {
            default_n: 10,
            min_n,
            max_n: usize::MAX,
            step,
            residuals,
        };
        match self {
            Rosenbrock | FreudensteinRoth | PowellBadlyScaled => fixed(2, 2),
            BrownBadlyScaled | Beale => fixed(2, 3),
            JennrichSampson => free_residuals(2, 10, 2, usize::MAX),
            HelicalValley => fixed(3, 3),
            Bard | Gaussian => fixed(3, 15),
            Meyer => fixed(3, 16),
            Gulf => free_residuals(3, 99, 3, 100),
            Box3d => free_residuals(3, 10, 3, usize::MAX),
            PowellSingular => fixed(4, 4),
            Wood => fixed(4, 6),
            KowalikOsborne => fixed(4, 11),
            BrownDennis => free_residuals(4, 20, 4, usize::MAX),
            Osborne1 => fixed(5, 33),
            BiggsExp6 => free_residuals(6, 13, 6, usize::MAX),
            Osborne2 => fixed(11, 65),
            Watson => Shape::FreeDimension {
                default_n: 6,
                min_n: 2,
                max_n: 31,
                step: 1,
                residuals: |_| 31,
            },
            ExtendedRosenbrock => free_dimension(2, 2, same_as_n),
            ExtendedPowell => Shape::FreeDimension {
                default_n: 12,
                min_n: 4,
                max_n: usize::MAX,
                step: 4,
                residuals: same_as_n,
            },
            Penalty1 => free_dimension(1, 1, |n| n + 1),
            Penalty2 => free_dimension(1, 1, |n| 2 * n),
            VariablyDimensioned => free_dimension(1, 1, |n| n + 2),
            Trigonometric
            | BrownAlmostLinear
            | DiscreteBoundaryValue
            | DiscreteIntegralEquation
            | BroydenTridiagonal
            | BroydenBanded => free_dimension(1, 1, same_as_n),
            LinearFullRank | LinearRank1 | LinearRank1Zero => Shape::FreeBoth {
                default_n: 10,
                default_m: |n| 2 * n,
            },
            Chebyquad => Shape::FreeBoth {
                default_n: 10,
                default_m: same_as_n,
            },
        }
    }

    /// Whether `m` can be chosen apart from `n` (then canonical names write it).
    pub(super) fn has_free_residual_count(self) -> bool {
        matches!(
            self.shape(),
            Shape::FreeResiduals { .. } | Shape::FreeBoth { .. }
        )
    }

    /// `(lower, upper)` when residual `i` depends only on `x_j` with
    /// `i - lower <= j <= i + upper` (then `m = n`); `None` for dense
    /// Jacobians. Used to compute Jacobians in `lower + upper + 1` passes.
    pub(super) fn band(self) -> Option<(usize, usize)> {
        match self {
            Function::ExtendedRosenbrock
            | Function::DiscreteBoundaryValue
            | Function::BroydenTridiagonal => Some((1, 1)),
            // r_{4k+1} uses x_{4k+1}, x_{4k+2}; r_{4k+2}: x_{4k+3}, x_{4k+4};
            // r_{4k+3}: x_{4k+2}, x_{4k+3}; r_{4k+4}: x_{4k+1}, x_{4k+4}.
            Function::ExtendedPowell => Some((3, 2)),
            Function::BroydenBanded => Some((BROYDEN_LOWER, BROYDEN_UPPER)),
            _ => None,
        }
    }

    /// The standard starting point `x_0` of the paper for `n` variables.
    pub(super) fn start(self, n: usize) -> Vec<f64> {
        use Function::*;
        let h = 1.0 / (n as f64 + 1.0);
        match self {
            Rosenbrock => vec![-1.2, 1.0],
            FreudensteinRoth => vec![0.5, -2.0],
            PowellBadlyScaled => vec![0.0, 1.0],
            BrownBadlyScaled | Beale => vec![1.0, 1.0],
            JennrichSampson => vec![0.3, 0.4],
            HelicalValley => vec![-1.0, 0.0, 0.0],
            Bard => vec![1.0, 1.0, 1.0],
            Gaussian => vec![0.4, 1.0, 0.0],
            Meyer => vec![0.02, 4000.0, 250.0],
            Gulf => vec![5.0, 2.5, 0.15],
            Box3d => vec![0.0, 10.0, 20.0],
            PowellSingular => vec![3.0, -1.0, 0.0, 1.0],
            Wood => vec![-3.0, -1.0, -3.0, -1.0],
            KowalikOsborne => vec![0.25, 0.39, 0.415, 0.39],
            BrownDennis => vec![25.0, 5.0, -5.0, -1.0],
            Osborne1 => vec![0.5, 1.5, -1.0, 0.01, 0.02],
            BiggsExp6 => vec![1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
            Osborne2 => vec![1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5],
            Watson => vec![0.0; n],
            ExtendedRosenbrock => (0..n).map(|j| [-1.2, 1.0][j % 2]).collect(),
            ExtendedPowell => (0..n).map(|j| [3.0, -1.0, 0.0, 1.0][j % 4]).collect(),
            Penalty1 => (1..=n).map(|j| j as f64).collect(),
            Penalty2 | BrownAlmostLinear => vec![0.5; n],
            VariablyDimensioned => (1..=n).map(|j| 1.0 - j as f64 / n as f64).collect(),
            Trigonometric => vec![1.0 / n as f64; n],
            DiscreteBoundaryValue | DiscreteIntegralEquation => (1..=n)
                .map(|j| {
                    let t = j as f64 * h;
                    t * (t - 1.0)
                })
                .collect(),
            BroydenTridiagonal | BroydenBanded => vec![-1.0; n],
            LinearFullRank | LinearRank1 | LinearRank1Zero => vec![1.0; n],
            Chebyquad => (1..=n).map(|j| j as f64 * h).collect(),
        }
    }

    /// The minimum value `f*` the paper gives for this size (its 6
    /// significant digits, truncated), or a closed form where one holds for
    /// every size; `None` where neither is known.
    ///
    /// Where the paper names several minima, this is the smallest
    /// (Freudenstein-Roth also has a local minimum 48.9842 that many
    /// methods reach from `x_0`; Biggs EXP6 a local 5.65565e-3 for
    /// `m = 13`; Kowalik-Osborne 1.02734e-3 at infinity; Brown
    /// almost-linear 1; Bard 17.4286 at infinity).
    pub(super) fn known_minimum(self, n: usize, m: usize) -> Option<f64> {
        use Function::*;
        let (nf, mf) = (n as f64, m as f64);
        match self {
            JennrichSampson => (m == 10).then_some(124.362),
            Bard => Some(8.21487e-3),
            Gaussian => Some(1.12793e-8),
            Meyer => Some(87.9458),
            KowalikOsborne => Some(3.07505e-4),
            BrownDennis => (m == 20).then_some(85822.2),
            Osborne1 => Some(5.46489e-5),
            Osborne2 => Some(4.01377e-2),
            Watson => match n {
                6 => Some(2.28767e-3),
                9 => Some(1.39976e-6),
                12 => Some(4.72238e-10),
                _ => None,
            },
            Penalty1 => match n {
                4 => Some(2.24997e-5),
                10 => Some(7.08765e-5),
                _ => None,
            },
            Penalty2 => match n {
                4 => Some(9.37629e-6),
                10 => Some(2.93660e-4),
                _ => None,
            },
            LinearFullRank => Some(mf - nf),
            LinearRank1 => Some(mf * (mf - 1.0) / (2.0 * (2.0 * mf + 1.0))),
            // For n < 3 no residual depends on x: every r_i = -1.
            LinearRank1Zero if n < 3 => Some(mf),
            LinearRank1Zero => Some((mf * mf + 3.0 * mf - 6.0) / (2.0 * (2.0 * mf - 3.0))),
            Chebyquad if m == n => match n {
                1..=7 | 9 => Some(0.0),
                8 => Some(3.51687e-3),
                10 => Some(6.50395e-3),
                _ => None,
            },
            Chebyquad => None,
            Rosenbrock
            | FreudensteinRoth
            | PowellBadlyScaled
            | BrownBadlyScaled
            | Beale
            | HelicalValley
            | Gulf
            | Box3d
            | PowellSingular
            | Wood
            | BiggsExp6
            | ExtendedRosenbrock
            | ExtendedPowell
            | VariablyDimensioned
            | Trigonometric
            | BrownAlmostLinear
            | DiscreteBoundaryValue
            | DiscreteIntegralEquation
            | BroydenTridiagonal
            | BroydenBanded => Some(0.0),
        }
    }
}

/// `r(x)` of `function` into `r`; `x.len()` and `r.len()` are a valid
/// `(n, m)` of the function (checked by the caller).
pub(super) fn residuals<T: Real>(function: Function, x: &[T], r: &mut [T]) {
    use Function::*;
    match function {
        Rosenbrock => rosenbrock(x, r),
        FreudensteinRoth => freudenstein_roth(x, r),
        PowellBadlyScaled => powell_badly_scaled(x, r),
        BrownBadlyScaled => brown_badly_scaled(x, r),
        Beale => beale(x, r),
        JennrichSampson => jennrich_sampson(x, r),
        HelicalValley => helical_valley(x, r),
        Bard => bard(x, r),
        Gaussian => gaussian(x, r),
        Meyer => meyer(x, r),
        Gulf => gulf(x, r),
        Box3d => box_3d(x, r),
        PowellSingular => powell_singular(x, r),
        Wood => wood(x, r),
        KowalikOsborne => kowalik_osborne(x, r),
        BrownDennis => brown_dennis(x, r),
        Osborne1 => osborne_1(x, r),
        BiggsExp6 => biggs_exp6(x, r),
        Osborne2 => osborne_2(x, r),
        Watson => watson(x, r),
        ExtendedRosenbrock => extended_rosenbrock(x, r),
        ExtendedPowell => extended_powell(x, r),
        Penalty1 => penalty_1(x, r),
        Penalty2 => penalty_2(x, r),
        VariablyDimensioned => variably_dimensioned(x, r),
        Trigonometric => trigonometric(x, r),
        BrownAlmostLinear => brown_almost_linear(x, r),
        DiscreteBoundaryValue => discrete_boundary_value(x, r),
        DiscreteIntegralEquation => discrete_integral_equation(x, r),
        BroydenTridiagonal => broyden_tridiagonal(x, r),
        BroydenBanded => broyden_banded(x, r),
        LinearFullRank => linear_full_rank(x, r),
        LinearRank1 => linear_rank_1(x, r),
        LinearRank1Zero => linear_rank_1_zero(x, r),
        Chebyquad => chebyquad(x, r),
    }
}

fn constant<T: Real>(value: f64) -> T {
    T::constant(value)
}

/// Problem 1: `r_1 = 10 (x_2 - x_1^2)`, `r_2 = 1 - x_1`.
fn rosenbrock<T: Real>(x: &[T], r: &mut [T]) {
    r[0] = (x[1] - x[0].square()) * 10.0;
    r[1] = constant::<T>(1.0) - x[0];
}

/// Problem 2: `r_1 = -13 + x_1 + ((5 - x_2) x_2 - 2) x_2`,
/// `r_2 = -29 + x_1 + ((x_2 + 1) x_2 - 14) x_2`.
fn freudenstein_roth<T: Real>(x: &[T], r: &mut [T]) {
    let (x1, x2) = (x[0], x[1]);
    r[0] = x1 - 13.0 + ((constant::<T>(5.0) - x2) * x2 - 2.0) * x2;
    r[1] = x1 - 29.0 + ((x2 + 1.0) * x2 - 14.0) * x2;
}

/// Problem 3: `r_1 = 10^4 x_1 x_2 - 1`, `r_2 = exp(-x_1) + exp(-x_2) - 1.0001`.
fn powell_badly_scaled<T: Real>(x: &[T], r: &mut [T]) {
    r[0] = x[0] * x[1] * 1e4 - 1.0;
    r[1] = (-x[0]).exp() + (-x[1]).exp() - 1.0001;
}

/// Problem 4: `r_1 = x_1 - 10^6`, `r_2 = x_2 - 2 10^-6`, `r_3 = x_1 x_2 - 2`.
fn brown_badly_scaled<T: Real>(x: &[T], r: &mut [T]) {
    r[0] = x[0] - 1e6;
    r[1] = x[1] - 2e-6;
    r[2] = x[0] * x[1] - 2.0;
}

/// Problem 5: `r_i = y_i - x_1 (1 - x_2^i)`, `y = (1.5, 2.25, 2.625)`.
fn beale<T: Real>(x: &[T], r: &mut [T]) {
    for (i, y) in [1.5, 2.25, 2.625].into_iter().enumerate() {
        r[i] = constant::<T>(y) - x[0] * (constant::<T>(1.0) - x[1].powi(i as i32 + 1));
    }
}

/// Problem 6: `r_i = 2 + 2i - (exp(i x_1) + exp(i x_2))`, `i = 1..m`.
fn jennrich_sampson<T: Real>(x: &[T], r: &mut [T]) {
    for (k, ri) in r.iter_mut().enumerate() {
        let i = (k + 1) as f64;
        *ri = -((x[0] * i).exp() + (x[1] * i).exp()) + (2.0 + 2.0 * i);
    }
}

/// Problem 7: `r_1 = 10 (x_3 - 10 theta(x_1, x_2))`,
/// `r_2 = 10 ((x_1^2 + x_2^2)^(1/2) - 1)`, `r_3 = x_3`, with
/// `2 pi theta = atan(x_2 / x_1)` for `x_1 > 0` and `atan(x_2 / x_1) + pi`
/// for `x_1 < 0` ([`helical_theta`]).
fn helical_valley<T: Real>(x: &[T], r: &mut [T]) {
    let theta = helical_theta(x[0], x[1]);
    r[0] = (x[2] - theta * 10.0) * 10.0;
    r[1] = ((x[0].square() + x[1].square()).sqrt() - 1.0) * 10.0;
    r[2] = x[2];
}

/// The paper's `theta(x_1, x_2)`, in `(-1/4, 3/4)`: `atan(x_2/x_1) / 2pi`,
/// plus `1/2` when `x_1 < 0`, and `sign(x_2) / 4` on `x_1 = 0` (MINPACK-1).
///
/// Where `|x_2| > |x_1|` the same angle is computed from
/// `atan(x_1/x_2)` (`atan u + atan(1/u) = +-pi/2`), so that value and
/// derivatives stay exact as `x_1 -> 0`; only the branch cut
/// `{x_1 = 0, x_2 < 0}` (where the paper's `theta` jumps by 1) is left.
fn helical_theta<T: Real>(x1: T, x2: T) -> T {
    let (a, b) = (x1.value(), x2.value());
    let turn = 2.0 * PI;
    if a == 0.0 && b == 0.0 {
        constant(0.25)
    } else if a.abs() >= b.abs() {
        let angle = (x2 / x1).atan() / turn;
        if a > 0.0 { angle } else { angle + 0.5 }
    } else {
        let angle = -(x1 / x2).atan() / turn;
        if b > 0.0 {
            angle + 0.25
        } else if a < 0.0 {
            angle + 0.75
        } else {
            angle - 0.25
        }
    }
}

/// Problem 8: `r_i = y_i - (x_1 + u_i / (v_i x_2 + w_i x_3))`, `u_i = i`,
/// `v_i = 16 - i`, `w_i = min(u_i, v_i)`.
fn bard<T: Real>(x: &[T], r: &mut [T]) {
    for (k, y) in BARD_Y.into_iter().enumerate() {
        let u = (k + 1) as f64;
        let v = 16.0 - u;
        let w = u.min(v);
        r[k] = -(x[0] + constant::<T>(u) / (x[1] * v + x[2] * w)) + y;
    }
}

/// Problem 9: `r_i = x_1 exp(-x_2 (t_i - x_3)^2 / 2) - y_i`, `t_i = (8 - i) / 2`.
fn gaussian<T: Real>(x: &[T], r: &mut [T]) {
    for (k, y) in GAUSSIAN_Y.into_iter().enumerate() {
        let t = (8.0 - (k + 1) as f64) / 2.0;
        let d = -x[2] + t;
        r[k] = x[0] * (-x[1] * d.square() / 2.0).exp() - y;
    }
}

/// Problem 10: `r_i = x_1 exp(x_2 / (t_i + x_3)) - y_i`, `t_i = 45 + 5i`.
fn meyer<T: Real>(x: &[T], r: &mut [T]) {
    for (k, y) in MEYER_Y.into_iter().enumerate() {
        let t = 45.0 + 5.0 * (k + 1) as f64;
        r[k] = x[0] * (x[1] / (x[2] + t)).exp() - y;
    }
}

/// Problem 11: `r_i = exp(-|y_i - x_2|^x_3 / x_1) - t_i`, `t_i = i / 100`,
/// `y_i = 25 + (-50 ln t_i)^(2/3)`. (The paper prints `|y_i m i x_2|`; the
/// `m i` is a typesetting slip for a minus sign, as in the authors'
/// Fortran.)
fn gulf<T: Real>(x: &[T], r: &mut [T]) {
    for (k, ri) in r.iter_mut().enumerate() {
        let t = (k + 1) as f64 / 100.0;
        let y = 25.0 + (-50.0 * t.ln()).powf(2.0 / 3.0);
        let distance = (-x[1] + y).abs();
        // |d|^p = exp(p ln |d|) for d != 0; 0 at d = 0 for p > 0 (where the
        // derivative in d is 0 for p > 1, e.g. at the solution p = 1.5).
        let power = if distance.value() == 0.0 && x[2].value() > 0.0 {
            constant(0.0)
        } else {
            (x[2] * distance.ln()).exp()
        };
        *ri = (-power / x[0]).exp() - t;
    }
}

/// Problem 12: `r_i = exp(-t_i x_1) - exp(-t_i x_2) - x_3 (exp(-t_i) - exp(-10 t_i))`,
/// `t_i = i / 10`.
fn box_3d<T: Real>(x: &[T], r: &mut [T]) {
    for (k, ri) in r.iter_mut().enumerate() {
        let i = (k + 1) as f64;
        let t = i / 10.0;
        *ri = (x[0] * -t).exp() - (x[1] * -t).exp() - x[2] * ((-t).exp() - (-i).exp());
    }
}

/// Problem 13: `r_1 = x_1 + 10 x_2`, `r_2 = 5^(1/2) (x_3 - x_4)`,
/// `r_3 = (x_2 - 2 x_3)^2`, `r_4 = 10^(1/2) (x_1 - x_4)^2`.
fn powell_singular<T: Real>(x: &[T], r: &mut [T]) {
    powell_block(&x[..4], &mut r[..4]);
}

/// The four residuals of Powell's singular function on one block of four.
fn powell_block<T: Real>(x: &[T], r: &mut [T]) {
    r[0] = x[0] + x[1] * 10.0;
    r[1] = (x[2] - x[3]) * 5.0_f64.sqrt();
    r[2] = (x[1] - x[2] * 2.0).square();
    r[3] = (x[0] - x[3]).square() * 10.0_f64.sqrt();
}

/// Problem 14: `r_1 = 10 (x_2 - x_1^2)`, `r_2 = 1 - x_1`, `r_3 = 90^(1/2) (x_4 - x_3^2)`,
/// `r_4 = 1 - x_3`, `r_5 = 10^(1/2) (x_2 + x_4 - 2)`,
/// `r_6 = 10^(-1/2) (x_2 - x_4)`.
fn wood<T: Real>(x: &[T], r: &mut [T]) {
    r[0] = (x[1] - x[0].square()) * 10.0;
    r[1] = constant::<T>(1.0) - x[0];
    r[2] = (x[3] - x[2].square()) * 90.0_f64.sqrt();
    r[3] = constant::<T>(1.0) - x[2];
    r[4] = (x[1] + x[3] - 2.0) * 10.0_f64.sqrt();
    r[5] = (x[1] - x[3]) / 10.0_f64.sqrt();
}

/// Problem 15: `r_i = y_i - x_1 (u_i^2 + u_i x_2) / (u_i^2 + u_i x_3 + x_4)`.
fn kowalik_osborne<T: Real>(x: &[T], r: &mut [T]) {
    for (k, (y, u)) in KOWALIK_OSBORNE_Y
        .into_iter()
        .zip(KOWALIK_OSBORNE_U)
        .enumerate()
    {
        let numerator = (x[1] + u) * u;
        let denominator = (x[2] + u) * u + x[3];
        r[k] = -(x[0] * numerator / denominator) + y;
    }
}

/// Problem 16: `r_i = (x_1 + t_i x_2 - exp(t_i))^2 + (x_3 + x_4 sin t_i - cos t_i)^2`,
/// `t_i = i / 5`.
fn brown_dennis<T: Real>(x: &[T], r: &mut [T]) {
    for (k, ri) in r.iter_mut().enumerate() {
        let t = (k + 1) as f64 / 5.0;
        let first = x[0] + x[1] * t - t.exp();
        let second = x[2] + x[3] * t.sin() - t.cos();
        *ri = first.square() + second.square();
    }
}

/// Problem 17: `r_i = y_i - (x_1 + x_2 exp(-t_i x_4) + x_3 exp(-t_i x_5))`,
/// `t_i = 10 (i - 1)`.
fn osborne_1<T: Real>(x: &[T], r: &mut [T]) {
    for (k, y) in OSBORNE_1_Y.into_iter().enumerate() {
        let t = 10.0 * k as f64;
        let model = x[0] + x[1] * (x[3] * -t).exp() + x[2] * (x[4] * -t).exp();
        r[k] = -model + y;
    }
}

/// Problem 18: `r_i = x_3 exp(-t_i x_1) - x_4 exp(-t_i x_2) + x_6 exp(-t_i x_5) - y_i`,
/// `t_i = i / 10`, `y_i = exp(-t_i) - 5 exp(-10 t_i) + 3 exp(-4 t_i)`.
fn biggs_exp6<T: Real>(x: &[T], r: &mut [T]) {
    for (k, ri) in r.iter_mut().enumerate() {
        let i = (k + 1) as f64;
        let t = i / 10.0;
        let y = (-t).exp() - 5.0 * (-i).exp() + 3.0 * (-4.0 * t).exp();
        *ri = x[2] * (x[0] * -t).exp() - x[3] * (x[1] * -t).exp() + x[5] * (x[4] * -t).exp() - y;
    }
}

/// Problem 19: `r_i = y_i - (x_1 exp(-t_i x_5) + x_2 exp(-(t_i - x_9)^2 x_6)
/// + x_3 exp(-(t_i - x_10)^2 x_7) + x_4 exp(-(t_i - x_11)^2 x_8))`,
/// `t_i = (i - 1) / 10`.
fn osborne_2<T: Real>(x: &[T], r: &mut [T]) {
    for (k, y) in OSBORNE_2_Y.into_iter().enumerate() {
        let t = k as f64 / 10.0;
        let bump =
            |height: T, width: T, center: T| height * (-width * (-center + t).square()).exp();
        let model = x[0] * (x[4] * -t).exp()
            + bump(x[1], x[5], x[8])
            + bump(x[2], x[6], x[9])
            + bump(x[3], x[7], x[10]);
        r[k] = -model + y;
    }
}

/// Problem 20: For `i = 1..29`, `t_i = i / 29`:
/// `r_i = sum_{j=2}^n (j-1) x_j t_i^(j-2) - (sum_{j=1}^n x_j t_i^(j-1))^2 - 1`;
/// `r_30 = x_1`, `r_31 = x_2 - x_1^2 - 1`.
fn watson<T: Real>(x: &[T], r: &mut [T]) {
    for (k, ri) in r.iter_mut().take(29).enumerate() {
        let t = (k + 1) as f64 / 29.0;
        let mut derivative_sum = constant::<T>(0.0);
        let mut polynomial = x[0];
        // t^(j-1) for the 0-based index j, starting at j = 1.
        let mut lower_power = 1.0;
        for (j, &xj) in x.iter().enumerate().skip(1) {
            derivative_sum = derivative_sum + xj * (j as f64 * lower_power);
            polynomial = polynomial + xj * (lower_power * t);
            lower_power *= t;
        }
        *ri = derivative_sum - polynomial.square() - 1.0;
    }
    r[29] = x[0];
    r[30] = x[1] - x[0].square() - 1.0;
}

/// Problem 21: `r_{2i-1} = 10 (x_{2i} - x_{2i-1}^2)`, `r_{2i} = 1 - x_{2i-1}`.
fn extended_rosenbrock<T: Real>(x: &[T], r: &mut [T]) {
    for (xb, rb) in x.chunks_exact(2).zip(r.chunks_exact_mut(2)) {
        rosenbrock(xb, rb);
    }
}

/// Problem 22: Powell's singular function (problem 13) on each block of four.
fn extended_powell<T: Real>(x: &[T], r: &mut [T]) {
    for (xb, rb) in x.chunks_exact(4).zip(r.chunks_exact_mut(4)) {
        powell_block(xb, rb);
    }
}

/// `a = 10^-5`, the weight of the penalty functions (problems 23, 24).
const PENALTY_WEIGHT: f64 = 1e-5;

/// Problem 23: `r_i = a^(1/2) (x_i - 1)`, `i = 1..n`; `r_{n+1} = sum x_j^2 - 1/4`.
fn penalty_1<T: Real>(x: &[T], r: &mut [T]) {
    let root = PENALTY_WEIGHT.sqrt();
    let mut squares = constant::<T>(0.0);
    for (ri, &xi) in r.iter_mut().zip(x) {
        *ri = (xi - 1.0) * root;
        squares = squares + xi.square();
    }
    r[x.len()] = squares - 0.25;
}

/// Problem 24: `r_1 = x_1 - 0.2`;
/// `r_i = a^(1/2) (exp(x_i/10) + exp(x_{i-1}/10) - y_i)`, `i = 2..n`,
/// `y_i = exp(i/10) + exp((i-1)/10)`;
/// `r_i = a^(1/2) (exp(x_{i-n+1}/10) - exp(-1/10))`, `i = n+1..2n-1`;
/// `r_{2n} = sum_j (n - j + 1) x_j^2 - 1`.
fn penalty_2<T: Real>(x: &[T], r: &mut [T]) {
    let n = x.len();
    let root = PENALTY_WEIGHT.sqrt();
    let tenth = |k: usize| (k as f64 / 10.0).exp();
    r[0] = x[0] - 0.2;
    for i in 2..=n {
        let y = tenth(i) + tenth(i - 1);
        r[i - 1] = ((x[i - 1] / 10.0).exp() + (x[i - 2] / 10.0).exp() - y) * root;
    }
    for i in n + 1..2 * n {
        r[i - 1] = ((x[i - n] / 10.0).exp() - (-0.1_f64).exp()) * root;
    }
    let mut weighted = constant::<T>(0.0);
    for (j, &xj) in x.iter().enumerate() {
        weighted = weighted + xj.square() * (n - j) as f64;
    }
    r[2 * n - 1] = weighted - 1.0;
}

/// Problem 25: `r_i = x_i - 1`, `i = 1..n`; `r_{n+1} = s`, `r_{n+2} = s^2` with
/// `s = sum_j j (x_j - 1)`.
fn variably_dimensioned<T: Real>(x: &[T], r: &mut [T]) {
    let n = x.len();
    let mut s = constant::<T>(0.0);
    for (j, &xj) in x.iter().enumerate() {
        r[j] = xj - 1.0;
        s = s + (xj - 1.0) * (j + 1) as f64;
    }
    r[n] = s;
    r[n + 1] = s.square();
}

/// Problem 26: `r_i = n - sum_j cos x_j + i (1 - cos x_i) - sin x_i`, evaluated as
/// `sum_j c_j + i c_i - sin x_i` with `c_j = 1 - cos x_j = 2 sin^2(x_j / 2)`:
/// the same function without the cancellation of `n - sum_j cos x_j` for
/// small `x` (at `x0 = 1/n` it costs `~n^2` ulps in `f`, 5e-12 at `n = 100`).
fn trigonometric<T: Real>(x: &[T], r: &mut [T]) {
    let one_minus_cos = |xj: T| (xj / 2.0).sin().square() * 2.0;
    let mut sum = constant::<T>(0.0);
    for &xj in x {
        sum = sum + one_minus_cos(xj);
    }
    for (k, (ri, &xi)) in r.iter_mut().zip(x).enumerate() {
        let i = (k + 1) as f64;
        *ri = sum + one_minus_cos(xi) * i - xi.sin();
    }
}

/// Problem 27: `r_i = x_i + sum_j x_j - (n + 1)`, `i = 1..n-1`; `r_n = prod_j x_j - 1`.
fn brown_almost_linear<T: Real>(x: &[T], r: &mut [T]) {
    let n = x.len();
    let mut sum = constant::<T>(0.0);
    let mut product = constant::<T>(1.0);
    for &xj in x {
        sum = sum + xj;
        product = product * xj;
    }
    for i in 0..n - 1 {
        r[i] = x[i] + sum - (n + 1) as f64;
    }
    r[n - 1] = product - 1.0;
}

/// Problem 28: `r_i = 2 x_i - x_{i-1} - x_{i+1} + h^2 (x_i + t_i + 1)^3 / 2`,
/// `h = 1/(n+1)`, `t_i = i h`, `x_0 = x_{n+1} = 0`.
fn discrete_boundary_value<T: Real>(x: &[T], r: &mut [T]) {
    let n = x.len();
    let h = 1.0 / (n + 1) as f64;
    let zero = constant::<T>(0.0);
    for k in 0..n {
        let t = (k + 1) as f64 * h;
        let previous = if k > 0 { x[k - 1] } else { zero };
        let next = if k + 1 < n { x[k + 1] } else { zero };
        r[k] = x[k] * 2.0 - previous - next + (x[k] + t + 1.0).powi(3) * (h * h / 2.0);
    }
}

/// Problem 29: `r_i = x_i + h ((1 - t_i) sum_{j<=i} t_j (x_j + t_j + 1)^3
/// + t_i sum_{j>i} (1 - t_j) (x_j + t_j + 1)^3) / 2`, `h = 1/(n+1)`,
/// `t_i = i h`. The two sums are running sums: O(n), not O(n^2).
fn discrete_integral_equation<T: Real>(x: &[T], r: &mut [T]) {
    let n = x.len();
    let h = 1.0 / (n + 1) as f64;
    let t = |k: usize| (k + 1) as f64 * h;
    let cube = |k: usize| (x[k] + t(k) + 1.0).powi(3);
    // First r_i holds the upper sum, accumulated from the right ...
    let mut upper = constant::<T>(0.0);
    for k in (0..n).rev() {
        r[k] = upper;
        upper = upper + cube(k) * (1.0 - t(k));
    }
    // ... then the lower sum is accumulated from the left.
    let mut lower = constant::<T>(0.0);
    for k in 0..n {
        lower = lower + cube(k) * t(k);
        r[k] = x[k] + (lower * (1.0 - t(k)) + r[k] * t(k)) * (h / 2.0);
    }
}

/// Problem 30: `r_i = (3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1`, `x_0 = x_{n+1} = 0`.
fn broyden_tridiagonal<T: Real>(x: &[T], r: &mut [T]) {
    let n = x.len();
    let zero = constant::<T>(0.0);
    for k in 0..n {
        let previous = if k > 0 { x[k - 1] } else { zero };
        let next = if k + 1 < n { x[k + 1] } else { zero };
        r[k] = (constant::<T>(3.0) - x[k] * 2.0) * x[k] - previous - next * 2.0 + 1.0;
    }
}

/// Problem 31's band: `m_l = 5` below, `m_u = 1` above.
const BROYDEN_LOWER: usize = 5;
const BROYDEN_UPPER: usize = 1;

/// Problem 31: `r_i = x_i (2 + 5 x_i^2) + 1 - sum_{j in J_i} x_j (1 + x_j)`,
/// `J_i = {j != i : max(1, i - 5) <= j <= min(n, i + 1)}`.
fn broyden_banded<T: Real>(x: &[T], r: &mut [T]) {
    let n = x.len();
    for k in 0..n {
        let mut neighbours = constant::<T>(0.0);
        for j in k.saturating_sub(BROYDEN_LOWER)..=(k + BROYDEN_UPPER).min(n - 1) {
            if j != k {
                neighbours = neighbours + x[j] * (x[j] + 1.0);
            }
        }
        r[k] = x[k] * (x[k].square() * 5.0 + 2.0) + 1.0 - neighbours;
    }
}

/// Problem 32: `r_i = x_i - 2/m sum_j x_j - 1` for `i <= n`, `-2/m sum_j x_j - 1` after.
fn linear_full_rank<T: Real>(x: &[T], r: &mut [T]) {
    let m = r.len() as f64;
    let mut sum = constant::<T>(0.0);
    for &xj in x {
        sum = sum + xj;
    }
    let common = -(sum * (2.0 / m)) - 1.0;
    for (i, ri) in r.iter_mut().enumerate() {
        *ri = match x.get(i) {
            Some(&xi) => xi + common,
            None => common,
        };
    }
}

/// Problem 33: `r_i = i (sum_j j x_j) - 1`.
fn linear_rank_1<T: Real>(x: &[T], r: &mut [T]) {
    let mut sum = constant::<T>(0.0);
    for (j, &xj) in x.iter().enumerate() {
        sum = sum + xj * (j + 1) as f64;
    }
    for (k, ri) in r.iter_mut().enumerate() {
        *ri = sum * (k + 1) as f64 - 1.0;
    }
}

/// Problem 34: `r_1 = -1`, `r_i = (i - 1) (sum_{j=2}^{n-1} j x_j) - 1` for
/// `i = 2..m-1`, `r_m = -1`.
fn linear_rank_1_zero<T: Real>(x: &[T], r: &mut [T]) {
    let n = x.len();
    let m = r.len();
    let mut sum = constant::<T>(0.0);
    for j in 2..n {
        sum = sum + x[j - 1] * j as f64;
    }
    for (k, ri) in r.iter_mut().enumerate() {
        *ri = if k == 0 || k == m - 1 {
            constant(-1.0)
        } else {
            sum * k as f64 - 1.0
        };
    }
}

/// Problem 35: `r_i = (1/n) sum_j T_i(x_j) - integral_0^1 T_i`, `i = 1..m`, with
/// `T_i` the Chebyshev polynomial shifted to `[0, 1]`
/// (`T_0 = 1`, `T_1(u) = 2u - 1`, `T_{i+1} = 2 (2u - 1) T_i - T_{i-1}`);
/// the integral is 0 for odd `i` and `-1 / (i^2 - 1)` for even `i`.
fn chebyquad<T: Real>(x: &[T], r: &mut [T]) {
    let n = x.len() as f64;
    let m = r.len();
    r.fill(constant(0.0));
    for &xj in x {
        let u = xj * 2.0 - 1.0;
        let mut previous = constant::<T>(1.0);
        let mut current = u;
        for (k, ri) in r.iter_mut().enumerate() {
            *ri = *ri + current;
            if k + 1 < m {
                let next = u * current * 2.0 - previous;
                previous = current;
                current = next;
            }
        }
    }
    for (k, ri) in r.iter_mut().enumerate() {
        let i = (k + 1) as f64;
        *ri = *ri / n;
        if (k + 1) % 2 == 0 {
            *ri = *ri + 1.0 / (i * i - 1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::dual::Dual;
    use super::*;

    #[test]
    fn helical_theta_is_the_papers_formula_away_from_the_axis() {
        for &(a, b) in &[
            (1.0, 0.3),
            (1.0, -0.3),
            (-1.0, 0.3),
            (-1.0, -0.3),
            (0.2, 3.0),
            (-0.2, 3.0),
            (0.2, -3.0),
            (-0.2, -3.0),
        ] {
            let naive = |x1: Dual<f64>, x2: Dual<f64>| {
                let base = (x2 / x1).atan() / (2.0 * PI);
                if a > 0.0 { base } else { base + 0.5 }
            };
            for seed in [(1.0, 0.0), (0.0, 1.0)] {
                let (x1, x2) = (Dual::new(a, seed.0), Dual::new(b, seed.1));
                let ours = helical_theta(x1, x2);
                let paper = naive(x1, x2);
                assert!((ours.value - paper.value).abs() < 1e-15, "{a} {b}");
                assert!((ours.derivative - paper.derivative).abs() < 1e-15);
            }
        }
        // On x_1 = 0: sign(x_2) / 4, with the derivative of the limit.
        let up = helical_theta(Dual::new(0.0, 1.0), Dual::new(2.0, 0.0));
        assert_eq!(up.value, 0.25);
        assert!((up.derivative + 1.0 / (2.0 * PI * 2.0)).abs() < 1e-16);
        assert_eq!(helical_theta(0.0, -2.0), -0.25);
    }

    #[test]
    fn names_round_trip_and_number_in_order() {
        for (k, f) in Function::ALL.into_iter().enumerate() {
            assert_eq!(f.number(), k + 1);
            assert_eq!(Function::from_name(f.name()), Some(f));
        }
        assert_eq!(Function::from_name("nope"), None);
    }
}
