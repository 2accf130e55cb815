//! The More-Garbow-Hillstrom test problems (`mgh:NAME[,dim=N][,m=M]`):
//! J. J. More, B. S. Garbow and K. E. Hillstrom, "Testing unconstrained
//! optimization software", ACM TOMS 7(1):17-41, 1981, problems 1-35 in the
//! paper's order ([`MGH_NAMES`]).
//!
//! Each is a sum of squares `f(x) = sum_{i=1}^m r_i(x)^2` (the paper's
//! scaling, so [`LeastSquares::value_scale`] is 1) with the paper's
//! standard start `x_0` ([`Mgh::start`]) and, where the paper gives one,
//! its minimum `f*` ([`Mgh::known_minimum`]).
//!
//! **Derivatives are exact** (to rounding, no finite differences): every
//! residual is written once, generic over a scalar type (`dual::Real`),
//! and evaluated on `f64` for values and on automatic-differentiation
//! types for derivatives. With `J` the `m x n` Jacobian,
//!
//! - `grad f = 2 J' r` and `J' u` by reverse mode (module `reverse`): one
//!   recorded evaluation and one backward sweep, a few times the cost of `f`
//!   whatever `n`;
//! - `J v` by forward mode (module `dual`): one pass at `x + v e`;
//! - `H v = 2 (J' (J v) + sum_i r_i (grad^2 r_i) v) = grad (2 r' J v)` by
//!   reverse over forward mode: one recorded evaluation at `x + v e` (dual
//!   numbers over tape variables) gives `r` and `J v`, and one sweep with
//!   weights `2 J v` on `r` and `2 r` on `J v` gives `H v`;
//! - the Jacobian by forward mode: column `j` is the derivative part of
//!   `r(x + e_j e)`, `n` passes.
//!
//! For the banded problems (extended Rosenbrock and Powell, discrete
//! boundary value, Broyden tridiagonal and banded), residual `i` depends only
//! on `x_{i-l}..x_{i+u}`, so columns `j` and `j + l + u + 1` never share a
//! row: seeding all columns `j = c mod (l + u + 1)` together recovers every
//! Jacobian entry in `l + u + 1` passes (Curtis, Powell & Reid 1974),
//! independent of `n`. Dense problems cost `n` passes for the Jacobian:
//! `O(n m)` for most, `O(n^2 m)` for Chebyquad and Watson, whose residuals
//! each cost `O(n)`.

mod data;
mod dual;
mod functions;
mod reverse;

use std::borrow::Cow;

use ndarray::{Array1, Array2};
use opt_core::{LeastSquares, Objective, check_len};

use self::dual::{Dual, Real};
use self::functions::{Function, Shape};
use self::reverse::Var;
use crate::error::{BenchError, Result, names};
use crate::spec::Spec;

/// The 35 problem names, in the paper's order (problem `k` at index `k - 1`).
pub const MGH_NAMES: &[&str] = &[
    "rosenbrock",
    "freudenstein-roth",
    "powell-badly-scaled",
    "brown-badly-scaled",
    "beale",
    "jennrich-sampson",
    "helical-valley",
    "bard",
    "gaussian",
    "meyer",
    "gulf",
    "box-3d",
    "powell-singular",
    "wood",
    "kowalik-osborne",
    "brown-dennis",
    "osborne-1",
    "biggs-exp6",
    "osborne-2",
    "watson",
    "extended-rosenbrock",
    "extended-powell",
    "penalty-1",
    "penalty-2",
    "variably-dimensioned",
    "trigonometric",
    "brown-almost-linear",
    "discrete-boundary-value",
    "discrete-integral-equation",
    "broyden-tridiagonal",
    "broyden-banded",
    "linear-full-rank",
    "linear-rank-1",
    "linear-rank-1-zero",
    "chebyquad",
];

/// One More-Garbow-Hillstrom problem at a given size: `n` variables
/// ([`Objective::dim`]) and `m` residuals ([`LeastSquares::num_residuals`]).
///
/// Sizes, their defaults and limits (`dim` is `n`):
///
/// | problems | `n` | `m` |
/// |---|---|---|
/// | 1-5, 7-10, 13-15, 17, 19 | fixed | fixed |
/// | `jennrich-sampson` | 2 | `m >= 2` (10) |
/// | `gulf` | 3 | `3 <= m <= 100` (99) |
/// | `box-3d` | 3 | `m >= 3` (10) |
/// | `brown-dennis` | 4 | `m >= 4` (20) |
/// | `biggs-exp6` | 6 | `m >= 6` (13) |
/// | `watson` | `2 <= n <= 31` (6) | 31 |
/// | `extended-rosenbrock` | even (10) | `n` |
/// | `extended-powell` | multiple of 4 (12) | `n` |
/// | `penalty-1`, `penalty-2`, `variably-dimensioned` | `n >= 1` (10) | `n + 1`, `2n`, `n + 2` |
/// | problems 26-31 | `n >= 1` (10) | `n` |
/// | `linear-*` | `n >= 1` (10) | `m >= n` (`2n`) |
/// | `chebyquad` | `n >= 1` (10) | `m >= n` (`n`) |
#[derive(Debug, Clone, PartialEq)]
pub struct Mgh {
    function: Function,
    n: usize,
    m: usize,
    name: String,
}

impl Mgh {
    /// The problem `name` (one of [`MGH_NAMES`]) with `dim` variables and
    /// `m` residuals, each defaulting to the size in the table of [`Mgh`].
    ///
    /// An unknown name lists the valid ones; a size the paper does not
    /// allow (e.g. an odd `dim` for `extended-rosenbrock`, `m < n`, a `dim`
    /// for a fixed-size problem other than its own) says what is allowed.
    pub fn new(name: &str, dim: Option<usize>, m: Option<usize>) -> Result<Mgh> {
        let function = Function::from_name(name).ok_or_else(|| BenchError::UnknownName {
            kind: "MGH problem",
            name: name.to_owned(),
            valid: names(MGH_NAMES),
        })?;
        let (n, m) = resolve_size(function, dim, m)?;
        let mut spec = format!("mgh:{name},dim={n}");
        if function.has_free_residual_count() {
            spec.push_str(&format!(",m={m}"));
        }
        Ok(Mgh {
            function,
            n,
            m,
            name: spec,
        })
    }

    /// The problem a spec `mgh:NAME[,dim=N][,m=M]` names.
    pub fn from_spec(spec: &Spec) -> Result<Mgh> {
        spec.check_keys(&["dim", "m"])?;
        let Some(name) = spec.positional.as_deref() else {
            return Err(BenchError::Spec {
                kind: spec.kind,
                spec: spec.to_string(),
                message: format!(
                    "`mgh` needs a problem name, `mgh:NAME[,dim=N][,m=M]`; valid: {}",
                    MGH_NAMES.join(", ")
                ),
            });
        };
        Mgh::new(name, spec.get_usize("dim")?, spec.get_usize("m")?)
    }

    /// The paper's standard starting point `x_0`.
    pub fn start(&self) -> Array1<f64> {
        Array1::from(self.function.start(self.n))
    }

    /// The canonical spec with the sizes written out: `dim` always, `m`
    /// where it can be chosen apart from `dim` (e.g. `mgh:watson,dim=6`,
    /// `mgh:gulf,dim=3,m=99`). It parses back to an equal problem.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The problem's name without sizes (e.g. `watson`).
    pub fn problem_name(&self) -> &'static str {
        self.function.name()
    }

    /// The problem's number in the paper (1 to 35).
    pub fn number(&self) -> usize {
        self.function.number()
    }

    /// The minimum value `f*` the paper gives for this size, as printed
    /// there (6 significant digits, truncated: the exact minimum lies in
    /// `[f*, f* + 1e-5 |f*|)`, e.g. Bard's 8.2148773e-3 is printed
    /// 8.21487e-3), or from a closed form (0 for
    /// zero-residual problems; `m - n`, `m (m-1) / (2 (2m+1))` and
    /// `(m^2 + 3m - 6) / (2 (2m-3))` for the linear ones); `None` where
    /// neither is known (e.g. `watson` with `n = 7`, `penalty-1` with
    /// `n = 5`, `jennrich-sampson` with `m != 10`). Where the paper lists
    /// several minima this is the smallest; methods often stop at
    /// Freudenstein-Roth's local minimum 48.9842, and trigonometric with
    /// `n = 10` has a local minimum near 2.79506e-5.
    pub fn known_minimum(&self) -> Option<f64> {
        self.function.known_minimum(self.n, self.m)
    }

    /// `r(x)` into `r`, for `x` and `r` of the right lengths.
    fn evaluate<T: Real>(&self, x: &[T], r: &mut [T]) {
        functions::residuals(self.function, x, r);
    }

    /// The seeding of the Jacobian passes (see the module docs).
    fn coloring(&self) -> Coloring {
        match self.function.band() {
            Some((lower, upper)) => Coloring::Banded {
                lower,
                upper,
                colors: (lower + upper + 1).min(self.n),
            },
            None => Coloring::Dense { colors: self.n },
        }
    }

    /// The `m x n` Jacobian at `x`: one forward pass per color with
    /// `x_j + seed_j e` (seed 1 on the color's columns); row `i`'s derivative
    /// part is `J_ij` for its column `j` of that color.
    fn jacobian_into(&self, x: &[f64], jacobian: &mut Array2<f64>) {
        jacobian.fill(0.0);
        let coloring = self.coloring();
        let mut xd = vec![Dual::new(0.0, 0.0); self.n];
        let mut rd = vec![Dual::new(0.0, 0.0); self.m];
        for color in 0..coloring.colors() {
            for (j, (xdj, &xj)) in xd.iter_mut().zip(x).enumerate() {
                *xdj = Dual::new(xj, coloring.seed(j, color));
            }
            self.evaluate(&xd, &mut rd);
            for (i, ri) in rd.iter().enumerate() {
                if let Some(j) = coloring.column(i, color, self.n) {
                    jacobian[[i, j]] = ri.derivative;
                }
            }
        }
    }

    /// `out = J' u` with `u_i = weight(i, r_i)`, by reverse mode; returns `r`.
    fn pullback(
        &self,
        x: &Array1<f64>,
        weight: impl Fn(usize, f64) -> f64,
        out: &mut Array1<f64>,
    ) -> Vec<f64> {
        let mut residuals = Vec::with_capacity(self.m);
        let record = |xv: &[Var]| {
            let mut rv = vec![Var::constant(0.0); self.m];
            self.evaluate(xv, &mut rv);
            residuals.extend(rv.iter().map(|r| r.value()));
            rv.into_iter()
                .enumerate()
                .map(|(i, r)| (r, weight(i, r.value())))
                .collect()
        };
        with_contiguous_output(out, |out| reverse::pullback(&contiguous(x), record, out));
        residuals
    }
}

/// Run `write` on `out` as a slice, through a buffer if `out` is not contiguous.
fn with_contiguous_output(out: &mut Array1<f64>, write: impl FnOnce(&mut [f64])) {
    match out.as_slice_mut() {
        Some(slice) => write(slice),
        None => {
            let mut buffer = vec![0.0; out.len()];
            write(&mut buffer);
            out.assign(&Array1::from(buffer));
        }
    }
}

/// `(n, m)` for `function` from the optional `dim` and `m`, validated.
fn resolve_size(
    function: Function,
    dim: Option<usize>,
    m: Option<usize>,
) -> Result<(usize, usize)> {
    let problem = function.name();
    let invalid = |key: &str, value: usize, reason: String| BenchError::InvalidArgument {
        kind: "problem",
        name: format!("mgh:{problem}"),
        key: key.to_owned(),
        value: value.to_string(),
        reason,
    };
    let fixed_n = |n: usize| match dim {
        Some(d) if d != n => Err(invalid(
            "dim",
            d,
            format!("`{problem}` is defined for n = {n} variables only"),
        )),
        _ => Ok(n),
    };
    let residuals_follow = |expected: usize, n: usize| match m {
        Some(given) if given != expected => Err(invalid(
            "m",
            given,
            format!("`{problem}` has m = {expected} residuals for n = {n} (m follows from dim)"),
        )),
        _ => Ok(expected),
    };
    match function.shape() {
        Shape::Fixed { n, m: residuals } => {
            let n = fixed_n(n)?;
            Ok((n, residuals_follow(residuals, n)?))
        }
        Shape::FreeResiduals {
            n,
            default_m,
            min_m,
            max_m,
        } => {
            let n = fixed_n(n)?;
            let m = m.unwrap_or(default_m);
            if m < min_m || m > max_m {
                let reason = if max_m == usize::MAX {
                    format!("`{problem}` needs m >= {min_m}")
                } else {
                    format!("`{problem}` needs {min_m} <= m <= {max_m}")
                };
                return Err(invalid("m", m, reason));
            }
            Ok((n, m))
        }
        Shape::FreeDimension {
            default_n,
            min_n,
            max_n,
            step,
            residuals,
        } => {
            let n = dim.unwrap_or(default_n);
            if n < min_n || n > max_n {
                let reason = if max_n == usize::MAX {
                    format!("`{problem}` needs dim >= {min_n}")
                } else {
                    format!("`{problem}` needs {min_n} <= dim <= {max_n}")
                };
                return Err(invalid("dim", n, reason));
            }
            if !n.is_multiple_of(step) {
                return Err(invalid(
                    "dim",
                    n,
                    format!("`{problem}` needs dim a multiple of {step}"),
                ));
            }
            Ok((n, residuals_follow(residuals(n), n)?))
        }
        Shape::FreeBoth {
            default_n,
            default_m,
        } => {
            let n = dim.unwrap_or(default_n);
            if n == 0 {
                return Err(invalid("dim", n, format!("`{problem}` needs dim >= 1")));
            }
            let m = m.unwrap_or_else(|| default_m(n));
            if m < n {
                return Err(invalid("m", m, format!("`{problem}` needs m >= dim = {n}")));
            }
            Ok((n, m))
        }
    }
}

/// Which columns each forward pass seeds (Curtis-Powell-Reid grouping).
#[derive(Debug, Clone, Copy)]
enum Coloring {
    /// Pass `c` seeds column `c` alone.
    Dense { colors: usize },
    /// Row `i` touches columns `i - lower..=i + upper`; pass `c` seeds every
    /// column `j` with `j mod (lower + upper + 1) = c`.
    Banded {
        lower: usize,
        upper: usize,
        colors: usize,
    },
}

impl Coloring {
    fn colors(self) -> usize {
        match self {
            Coloring::Dense { colors } | Coloring::Banded { colors, .. } => colors,
        }
    }

    fn width(lower: usize, upper: usize) -> usize {
        lower + upper + 1
    }

    /// 1 if pass `color` seeds column `j`, else 0.
    fn seed(self, j: usize, color: usize) -> f64 {
        let seeded = match self {
            Coloring::Dense { .. } => j == color,
            Coloring::Banded { lower, upper, .. } => j % Coloring::width(lower, upper) == color,
        };
        if seeded { 1.0 } else { 0.0 }
    }

    /// The column whose derivative row `i` carries in pass `color`, if any.
    fn column(self, i: usize, color: usize, n: usize) -> Option<usize> {
        match self {
            Coloring::Dense { .. } => Some(color),
            Coloring::Banded { lower, upper, .. } => {
                let width = Coloring::width(lower, upper);
                let first = i.saturating_sub(lower);
                let last = (i + upper).min(n - 1);
                let j = first + (color + width - first % width) % width;
                (j <= last).then_some(j)
            }
        }
    }
}

fn sum_of_squares(values: impl Iterator<Item = f64>) -> f64 {
    values.map(|r| r * r).sum()
}

/// `x` as a slice, copied only if its memory is not contiguous.
fn contiguous(x: &Array1<f64>) -> Cow<'_, [f64]> {
    match x.as_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(x.to_vec()),
    }
}

impl Objective for Mgh {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        self.n
    }

    fn value(&self, x: &Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.n, x.len())?;
        let mut r = vec![0.0; self.m];
        self.evaluate(&contiguous(x), &mut r);
        Ok(sum_of_squares(r.into_iter()))
    }

    /// `grad f = 2 J' r`, exact, by reverse mode (module docs).
    fn value_and_grad(&self, x: &Array1<f64>, grad: &mut Array1<f64>) -> opt_core::Result<f64> {
        check_len("parameters", self.n, x.len())?;
        check_len("gradient buffer", self.n, grad.len())?;
        let residuals = self.pullback(x, |_, residual| 2.0 * residual, grad);
        Ok(sum_of_squares(residuals.into_iter()))
    }

    /// The exact `H v = 2 (J' (J v) + sum_i r_i (grad^2 r_i) v)`, by reverse
    /// over forward mode (module docs).
    fn hvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.n, x.len())?;
        check_len("Hessian-vector direction", self.n, v.len())?;
        check_len("Hessian-vector output", self.n, out.len())?;
        let record = |xv: &[Var]| {
            let xd: Vec<Dual<Var>> = xv
                .iter()
                .zip(v)
                .map(|(&xj, &vj)| Dual::new(xj, Var::constant(vj)))
                .collect();
            let mut rd = vec![Dual::constant(0.0); self.m];
            self.evaluate(&xd, &mut rd);
            // grad (2 r' J v): weight 2 (J v)_i on r_i and 2 r_i on (J v)_i.
            rd.into_iter()
                .flat_map(|ri| {
                    [
                        (ri.value, 2.0 * ri.derivative.value()),
                        (ri.derivative, 2.0 * ri.value.value()),
                    ]
                })
                .collect()
        };
        with_contiguous_output(out, |out| reverse::pullback(&contiguous(x), record, out));
        Ok(())
    }
}

/// `f = ||r||^2` (the paper's scaling: [`LeastSquares::value_scale`] is 1).
impl LeastSquares for Mgh {
    type Scalar = f64;

    fn num_parameters(&self) -> usize {
        self.n
    }

    fn num_residuals(&self) -> usize {
        self.m
    }

    fn residuals(&self, x: &Array1<f64>, residuals: &mut Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.n, x.len())?;
        check_len("residual buffer", self.m, residuals.len())?;
        match residuals.as_slice_mut() {
            Some(out) => self.evaluate(&contiguous(x), out),
            None => {
                let mut out = vec![0.0; self.m];
                self.evaluate(&contiguous(x), &mut out);
                residuals.assign(&Array1::from(out));
            }
        }
        Ok(())
    }

    /// The exact Jacobian: `n` forward passes, or `l + u + 1` for the
    /// banded problems.
    fn jacobian(&self, x: &Array1<f64>, jacobian: &mut Array2<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.n, x.len())?;
        check_len("Jacobian rows", self.m, jacobian.nrows())?;
        check_len("Jacobian columns", self.n, jacobian.ncols())?;
        self.jacobian_into(&contiguous(x), jacobian);
        Ok(())
    }

    /// `J v` in one forward pass at `x + v e`.
    fn jvp(&self, x: &Array1<f64>, v: &Array1<f64>, out: &mut Array1<f64>) -> opt_core::Result<()> {
        check_len("parameters", self.n, x.len())?;
        check_len("J v input", self.n, v.len())?;
        check_len("J v output", self.m, out.len())?;
        let xd: Vec<Dual<f64>> = x
            .iter()
            .zip(v)
            .map(|(&xj, &vj)| Dual::new(xj, vj))
            .collect();
        let mut rd = vec![Dual::new(0.0, 0.0); self.m];
        self.evaluate(&xd, &mut rd);
        for (o, r) in out.iter_mut().zip(&rd) {
            *o = r.derivative;
        }
        Ok(())
    }

    /// `J' u` by reverse mode, without forming `J`.
    fn jtvp(
        &self,
        x: &Array1<f64>,
        u: &Array1<f64>,
        out: &mut Array1<f64>,
    ) -> opt_core::Result<()> {
        check_len("parameters", self.n, x.len())?;
        check_len("J^T u input", self.m, u.len())?;
        check_len("J^T u output", self.n, out.len())?;
        self.pullback(x, |i, _| u[i], out);
        Ok(())
    }

    fn value_scale(&self) -> f64 {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_functions_in_order() {
        assert_eq!(MGH_NAMES.len(), 35);
        for (name, function) in MGH_NAMES.iter().zip(Function::ALL) {
            assert_eq!(*name, function.name());
        }
    }

    /// The banded seeding gives the same Jacobian as one column per pass.
    #[test]
    fn banded_jacobians_equal_dense_ones() {
        for (name, dim) in [
            ("extended-rosenbrock", 12),
            ("extended-powell", 16),
            ("discrete-boundary-value", 11),
            ("broyden-tridiagonal", 9),
            ("broyden-banded", 13),
            ("broyden-banded", 4),
            ("broyden-tridiagonal", 1),
        ] {
            let problem = Mgh::new(name, Some(dim), None).unwrap();
            assert!(matches!(problem.coloring(), Coloring::Banded { .. }));
            let x: Vec<f64> = (0..dim).map(|j| 0.3 + (j as f64 * 1.7).sin()).collect();
            let mut banded = Array2::zeros((problem.m, problem.n));
            problem.jacobian_into(&x, &mut banded);

            let mut dense = Array2::zeros((problem.m, problem.n));
            let mut xd = vec![Dual::new(0.0, 0.0); dim];
            let mut rd = vec![Dual::new(0.0, 0.0); problem.m];
            for column in 0..dim {
                for j in 0..dim {
                    xd[j] = Dual::new(x[j], if j == column { 1.0 } else { 0.0 });
                }
                problem.evaluate(&xd, &mut rd);
                for i in 0..problem.m {
                    dense[[i, column]] = rd[i].derivative;
                }
            }
            assert_eq!(banded, dense, "{name} dim={dim}");
            assert!(dense.iter().filter(|&&d| d != 0.0).count() >= dim, "{name}");
        }
    }

    #[test]
    fn sizes_follow_the_rules() {
        let size = |name, dim, m| Mgh::new(name, dim, m).map(|p| (p.n, p.m));
        assert_eq!(size("beale", None, None).unwrap(), (2, 3));
        assert_eq!(size("beale", Some(2), Some(3)).unwrap(), (2, 3));
        assert_eq!(size("gulf", None, None).unwrap(), (3, 99));
        assert_eq!(size("gulf", None, Some(100)).unwrap(), (3, 100));
        assert_eq!(size("watson", Some(31), None).unwrap(), (31, 31));
        assert_eq!(size("penalty-2", Some(7), None).unwrap(), (7, 14));
        assert_eq!(
            size("variably-dimensioned", Some(7), Some(9)).unwrap(),
            (7, 9)
        );
        assert_eq!(size("linear-rank-1", Some(7), None).unwrap(), (7, 14));
        assert_eq!(size("chebyquad", Some(7), None).unwrap(), (7, 7));
        assert_eq!(size("chebyquad", Some(7), Some(9)).unwrap(), (7, 9));
        for (name, dim, m) in [
            ("beale", Some(3), None),
            ("beale", None, Some(4)),
            ("gulf", None, Some(101)),
            ("gulf", None, Some(2)),
            ("jennrich-sampson", None, Some(1)),
            ("watson", Some(1), None),
            ("watson", Some(32), None),
            ("watson", None, Some(30)),
            ("extended-rosenbrock", Some(7), None),
            ("extended-powell", Some(10), None),
            ("penalty-1", Some(0), None),
            ("penalty-1", Some(4), Some(4)),
            ("linear-full-rank", Some(0), None),
            ("linear-full-rank", Some(5), Some(4)),
            ("chebyquad", Some(5), Some(4)),
        ] {
            assert!(size(name, dim, m).is_err(), "{name} {dim:?} {m:?}");
        }
    }
}
