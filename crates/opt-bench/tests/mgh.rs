//! The More-Garbow-Hillstrom problems (`opt_bench::problems::mgh`): values
//! at the standard starts against two independent sources, the paper's
//! minima, exact derivatives against central differences, the
//! least-squares view, sizes, names and bad input.
//!
//! Reference values:
//!
//! - `PEER_START_VALUES`, `PEER_MINIMIZERS`: printed by
//!   `python3 benches/peers/mgh.py` (numpy 2.4.6, SciPy 1.17.1, torch
//!   2.15), an independent numpy implementation of the 35 residuals written
//!   from the paper; `f(x0)` to 17 digits, and the minimizers that
//!   `scipy.optimize.least_squares` reaches and polishes.
//! - `MINPACK_START_NORMS`: `||r(x0)||` as printed (7 digits) by the
//!   MINPACK-1 test drivers for `lmder` and `hybrd` (reference outputs
//!   `examples/ref/lmddrv.ref` and `hybdrv.ref` of cminpack), for the
//!   problems MINPACK-1 shares with MGH.
//! - `PUBLISHED_MINIMA`: More, Garbow & Hillstrom (1981), section 3. The
//!   paper truncates to 6 significant digits (e.g. Bard's 8.214877e-3 is
//!   printed 8.21487e-3), which [`agrees_with_published`] accounts for.

use ndarray::{Array1, Array2};
use opt_bench::problems::mgh::{MGH_NAMES, Mgh};
use opt_bench::{BenchError, Spec};
use opt_core::gradient::check_gradient;
use opt_core::{LeastSquares, Objective, OptError, SumOfSquares, central_difference_hvp};

// ---------------------------------------------------------------- tables

/// `(name, n, m, f(x0))` from `benches/peers/mgh.py`.
const PEER_START_VALUES: &[(&str, usize, usize, f64)] = &[
    ("rosenbrock", 2, 2, 24.199999999999996),
    ("freudenstein-roth", 2, 2, 400.5),
    ("powell-badly-scaled", 2, 2, 1.1352617173483783),
    ("brown-badly-scaled", 2, 3, 999998000003.0),
    ("beale", 2, 3, 14.203125),
    ("jennrich-sampson", 2, 10, 4171.306161960493),
    ("helical-valley", 3, 3, 2500.0),
    ("bard", 3, 15, 41.68169586167801),
    ("gaussian", 3, 15, 3.888106991166684e-06),
    ("meyer", 3, 16, 1693607809.4361455),
    ("gulf", 3, 99, 12.11070582556949),
    ("box-3d", 3, 10, 1031.1538106093983),
    ("powell-singular", 4, 4, 215.00000000000003),
    ("wood", 4, 6, 19192.0),
    ("kowalik-osborne", 4, 11, 0.00531317227210854),
    ("brown-dennis", 4, 20, 7926693.336997433),
    ("osborne-1", 5, 33, 0.8790262935446402),
    ("biggs-exp6", 6, 13, 0.7790700756559702),
    ("osborne-2", 11, 65, 2.0934195142120644),
    ("watson", 6, 31, 30.0),
    ("extended-rosenbrock", 10, 10, 120.99999999999999),
    ("extended-powell", 12, 12, 645.0000000000001),
    ("penalty-1", 10, 11, 148032.56535),
    ("penalty-2", 10, 20, 162.65277656596712),
    ("variably-dimensioned", 10, 12, 2198551.1625),
    ("trigonometric", 10, 10, 0.007075759466222202),
    ("brown-almost-linear", 10, 10, 273.2480478286743),
    ("discrete-boundary-value", 10, 10, 0.000788519101264823),
    ("discrete-integral-equation", 10, 10, 0.06341684157945265),
    ("broyden-tridiagonal", 10, 10, 21.0),
    ("broyden-banded", 10, 10, 360.0),
    ("linear-full-rank", 10, 20, 50.0),
    ("linear-rank-1", 10, 20, 8658670.0),
    ("linear-rank-1-zero", 10, 20, 4067996.0),
    ("chebyquad", 10, 10, 0.03376326546288007),
    ("jennrich-sampson", 2, 20, 20489638.343910426),
    ("gulf", 3, 100, 12.185322243431324),
    ("box-3d", 3, 20, 1164.1191707345934),
    ("brown-dennis", 4, 30, 24068636868.65866),
    ("biggs-exp6", 6, 20, 0.9304875566868542),
    ("watson", 9, 31, 30.0),
    ("watson", 12, 31, 30.0),
    ("watson", 2, 31, 30.0),
    ("extended-rosenbrock", 100, 100, 1209.9999999999993),
    ("extended-powell", 100, 100, 5375.0),
    ("penalty-1", 4, 5, 885.06264),
    ("penalty-2", 4, 8, 2.340008805463025),
    ("penalty-2", 1, 2, 0.6525),
    ("variably-dimensioned", 100, 102, 131058369689326.22),
    ("trigonometric", 100, 100, 0.0008208200701657908),
    ("brown-almost-linear", 30, 30, 6968.249999998137),
    ("brown-almost-linear", 1, 1, 0.25),
    ("discrete-boundary-value", 100, 100, 1.2329251213726342e-06),
    ("discrete-integral-equation", 100, 100, 0.573050306379166),
    ("discrete-integral-equation", 1, 1, 0.016366004943847656),
    ("broyden-tridiagonal", 100, 100, 111.0),
    ("broyden-banded", 100, 100, 3600.0),
    ("broyden-banded", 3, 3, 108.0),
    ("linear-full-rank", 5, 10, 25.0),
    ("linear-full-rank", 5, 50, 64.99999999999999),
    ("linear-rank-1", 5, 10, 84985.0),
    ("linear-rank-1", 5, 50, 9619925.0),
    ("linear-rank-1-zero", 5, 10, 15886.0),
    ("linear-rank-1-zero", 5, 50, 3058826.0),
    ("chebyquad", 8, 8, 0.038617698285930285),
    ("chebyquad", 9, 9, 0.02888298028822599),
    ("chebyquad", 7, 7, 0.033770638463718826),
    ("chebyquad", 1, 8, 3.5578936759889137),
    ("chebyquad", 10, 20, 0.09873556751090677),
];

/// `(name, n, m, ||r(x0)||)` as printed by the MINPACK-1 test drivers.
const MINPACK_START_NORMS: &[(&str, usize, usize, f64)] = &[
    // lmddrv (lmder on the 18 least-squares problems).
    ("linear-full-rank", 5, 10, 0.5000000e1),
    ("linear-full-rank", 5, 50, 0.8062258e1),
    ("linear-rank-1", 5, 10, 0.2915219e3),
    ("linear-rank-1", 5, 50, 0.3101600e4),
    ("linear-rank-1-zero", 5, 10, 0.1260397e3),
    ("linear-rank-1-zero", 5, 50, 0.1748950e4),
    ("rosenbrock", 2, 2, 0.4919350e1),
    ("helical-valley", 3, 3, 0.5000000e2),
    ("powell-singular", 4, 4, 0.1466288e2),
    ("freudenstein-roth", 2, 2, 0.2001250e2),
    ("bard", 3, 15, 0.6456136e1),
    ("kowalik-osborne", 4, 11, 0.7289151e-1),
    ("meyer", 3, 16, 0.4115347e5),
    ("watson", 6, 31, 0.5477226e1),
    ("watson", 9, 31, 0.5477226e1),
    ("watson", 12, 31, 0.5477226e1),
    ("box-3d", 3, 10, 0.3211158e2),
    ("jennrich-sampson", 2, 10, 0.6458565e2),
    ("brown-dennis", 4, 20, 0.2815438e4),
    ("chebyquad", 1, 8, 0.1886238e1),
    ("chebyquad", 8, 8, 0.1965139),
    ("chebyquad", 9, 9, 0.1699499),
    ("chebyquad", 10, 10, 0.1837478),
    ("brown-almost-linear", 10, 10, 0.1653022e2),
    ("brown-almost-linear", 30, 30, 0.8347604e2),
    ("brown-almost-linear", 40, 40, 0.1280264e3),
    ("osborne-1", 5, 33, 0.9375640),
    ("osborne-2", 11, 65, 0.1446865e1),
    // hybdrv (hybrd on the square systems).
    ("powell-badly-scaled", 2, 2, 0.1065487e1),
    ("chebyquad", 5, 5, 0.2257066),
    ("chebyquad", 6, 6, 0.2154720),
    ("chebyquad", 7, 7, 0.1837679),
    ("discrete-boundary-value", 10, 10, 0.2808058e-1),
    ("discrete-integral-equation", 1, 1, 0.1279297),
    ("discrete-integral-equation", 10, 10, 0.2518270),
    ("trigonometric", 10, 10, 0.8411753e-1),
    ("broyden-tridiagonal", 10, 10, 0.4582576e1),
    ("broyden-banded", 10, 10, 0.1897367e2),
];

/// `(name, n, m, f*)` as printed in the paper (section 3), where not 0.
const PUBLISHED_MINIMA: &[(&str, usize, usize, f64)] = &[
    ("jennrich-sampson", 2, 10, 124.362),
    ("bard", 3, 15, 8.21487e-3),
    ("gaussian", 3, 15, 1.12793e-8),
    ("meyer", 3, 16, 87.9458),
    ("kowalik-osborne", 4, 11, 3.07505e-4),
    ("brown-dennis", 4, 20, 85822.2),
    ("osborne-1", 5, 33, 5.46489e-5),
    ("osborne-2", 11, 65, 4.01377e-2),
    ("watson", 6, 31, 2.28767e-3),
    ("watson", 9, 31, 1.39976e-6),
    ("watson", 12, 31, 4.72238e-10),
    ("penalty-1", 4, 5, 2.24997e-5),
    ("penalty-1", 10, 11, 7.08765e-5),
    ("penalty-2", 4, 8, 9.37629e-6),
    ("penalty-2", 10, 20, 2.93660e-4),
    ("chebyquad", 8, 8, 3.51687e-3),
    ("chebyquad", 10, 10, 6.50395e-3),
];

/// `(name, n, m, x*)` from `benches/peers/mgh.py` (least_squares, polished).
/// Biggs EXP6's is `(4, 10, 3, 5, 1, 1)`, the paper's `(1, 10, 1, 5, 4, 3)`
/// with its two exponential terms swapped.
#[rustfmt::skip]
const PEER_MINIMIZERS: &[(&str, usize, usize, &[f64])] = &[
    ("rosenbrock", 2, 2, &[1.0, 1.0]),
    ("freudenstein-roth", 2, 2, &[5.0, 4.0]),
    ("powell-badly-scaled", 2, 2, &[1.0981593296998555e-05, 9.10614673986621]),
    ("brown-badly-scaled", 2, 3, &[1000000.0, 2e-06]),
    ("beale", 2, 3, &[3.0, 0.5]),
    ("jennrich-sampson", 2, 10, &[0.25782521308105993, 0.2578252142748051]),
    ("helical-valley", 3, 3, &[1.0, 1.5407439555097887e-33, 0.0]),
    ("bard", 3, 15, &[0.08241055996182331, 1.1330360991135786, 2.3436951718326475]),
    ("gaussian", 3, 15, &[0.3989561378387565, 1.000019084487804, 3.811768272931154e-20]),
    ("meyer", 3, 16, &[0.005609636484716572, 6181.346344251994, 345.22363455565426]),
    ("gulf", 3, 99, &[49.99999999999999, 25.0, 1.5]),
    ("box-3d", 3, 10, &[1.0, 10.0, 1.0]),
    ("powell-singular", 4, 4, &[6.608470384673578e-17, -6.608470384673578e-18, 1.0573552615477909e-17, 1.0573552615477909e-17]),
    ("wood", 4, 6, &[1.0, 1.0, 1.0, 1.0]),
    ("kowalik-osborne", 4, 11, &[0.1928069348108838, 0.19128232363823433, 0.12305650594027899, 0.13606232835591697]),
    ("brown-dennis", 4, 20, &[-11.59443934391888, 13.203629850194309, -0.40343946854042223, 0.2367788022017815]),
    ("osborne-1", 5, 33, &[0.37541005204748706, 1.9358469057464969, -1.4646871296028632, 0.012867534625946172, 0.022122699689890203]),
    ("biggs-exp6", 6, 13, &[4.000000000000003, 9.999999999999984, 3.0000000000000107, 5.000000000000007, 0.9999999999999986, 0.9999999999999983]),
    ("osborne-2", 11, 65, &[1.309977154597751, 0.4315537945323515, 0.6336616989351795, 0.5994305347282223, 0.7541832261340309, 0.9042885804497789, 1.3658118349203614, 4.823698817636233, 2.3986848661635642, 4.568874597659214, 5.675341470592152]),
    ("watson", 6, 31, &[-0.015725085784355514, 1.0124348700134727, -0.23299163269663256, 1.2604301109285816, -1.51372895076421, 0.9929964448306167]),
    ("extended-rosenbrock", 10, 10, &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
    ("extended-powell", 12, 12, &[5.83178277558313e-20, -5.83178277558313e-21, 5.0207532734967315e-21, 5.0207532734967315e-21, 4.001873284904007e-20, -4.001873284904007e-21, 1.7972107965084433e-20, 1.7972107965084433e-20, 4.0018732849040434e-20, -4.001873284904043e-21, 1.797210796508465e-20, 1.797210796508465e-20]),
    ("penalty-1", 10, 11, &[0.15812230022020843, 0.15812230233966793, 0.15812230168297858, 0.15812230162625995, 0.15812230164851487, 0.15812230172331757, 0.158122301878369, 0.15812230223985732, 0.1581223034716873, 0.15812229430030322]),
    ("penalty-2", 10, 20, &[0.19998360519771607, 0.010350655900874625, 0.019604934551652863, 0.03208906702818516, 0.04993267708898963, 0.07651399459259493, 0.11862407124378573, 0.19214486166761882, 0.34732060154828315, 0.3691643644687607]),
    ("variably-dimensioned", 10, 12, &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
    ("trigonometric", 10, 10, &[0.0343962889257372, 0.03503231574134939, 0.035719195825958, 0.03646522421825092, 0.03728091173885549, 0.03817986254748341, 0.03918014108245336, 0.040306502644077, 0.1797201916971708, 0.15624088142700163]),
    ("brown-almost-linear", 10, 10, &[1.0000000000000002, 0.9999999999999998, 1.0000000000000009, 0.9999999999999993, 1.0000000000000004, 0.9999999999999998, 1.0, 1.0000000000000007, 1.0, 0.9999999999999991]),
    ("discrete-boundary-value", 10, 10, &[-0.04316498251876487, -0.08157715653538687, -0.11448571438052928, -0.14097357686259668, -0.1599086961819831, -0.16987720231277492, -0.16908998378120835, -0.15524953522183182, -0.125355891678935, -0.07541653368589209]),
    ("discrete-integral-equation", 10, 10, &[-0.04316498251876487, -0.08157715653538687, -0.11448571438052929, -0.14097357686259668, -0.15990869618198314, -0.1698772023127749, -0.16908998378120835, -0.1552495352218318, -0.12535589167893496, -0.07541653368589203]),
    ("broyden-tridiagonal", 10, 10, &[-0.5707221320112248, -0.6818069499842752, -0.7022100760176601, -0.7055106298950804, -0.7049061557287437, -0.7014966070298512, -0.6918893223547983, -0.6657965144058536, -0.5960351090263657, -0.4164122575286934]),
    ("broyden-banded", 10, 10, &[-0.4283028635872503, -0.47659642435629024, -0.5196524636468617, -0.5580993248321808, -0.5925061568294574, -0.624503682199468, -0.6232394714405911, -0.6213938417965735, -0.6204535966590874, -0.586469270720435]),
    ("chebyquad", 10, 10, &[0.05961990040414726, 0.16670828164908272, 0.2391706588075416, 0.3988842935265234, 0.3988842909470075, 0.6011157090529924, 0.6011157064734766, 0.7608293411924584, 0.8332917183509172, 0.9403800995958527]),
    ("watson", 9, 31, &[-1.5307036521166402e-05, 0.9997897039319482, 0.014763963693563947, 0.14634232829930732, 1.0008211030049077, -2.617731140519383, 4.10440316447921, -3.1436122785566063, 1.0526264080101944]),
    ("watson", 12, 31, &[-6.6380604610632916e-09, 1.0000016441178623, -0.0005639322103862396, 0.3478205405049422, -0.1567315041042065, 1.0528151772467642, -3.247271153578268, 7.288434898164167, -10.271848241598127, 9.074113647285484, -4.541375466783106, 1.0120118885697311]),
    ("penalty-1", 4, 5, &[0.25000750627713597, 0.2500074958289958, 0.2500074986403284, 0.25000749760363283]),
    ("penalty-2", 4, 8, &[0.19999933335037934, 0.19131669870005788, 0.48010147490436345, 0.5188454262255129]),
    ("chebyquad", 8, 8, &[0.04315276038596162, 0.19309084058803627, 0.2663287068590618, 0.5000000004024621, 0.499999999597538, 0.7336712931409382, 0.8069091594119636, 0.9568472396140384]),
    ("chebyquad", 9, 9, &[0.044205346135782746, 0.19949067230988096, 0.23561910847106, 0.416046907892598, 0.5, 0.583953092107402, 0.76438089152894, 0.8005093276901191, 0.9557946538642172]),
    ("chebyquad", 7, 7, &[0.05806914962097547, 0.23517161235742162, 0.3380440947400462, 0.5, 0.6619559052599538, 0.7648283876425784, 0.9419308503790246]),
];

// ---------------------------------------------------------------- helpers

fn problem(name: &str, dim: usize, m: usize) -> Mgh {
    Mgh::new(name, Some(dim), Some(m)).unwrap_or_else(|e| panic!("{name} {dim} {m}: {e}"))
}

fn default_problem(name: &str) -> Mgh {
    Mgh::new(name, None, None).unwrap()
}

fn relative_error(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let difference = a - b;
    difference.dot(&difference).sqrt() / a.dot(a).sqrt().max(b.dot(b).sqrt()).max(1e-300)
}

fn gradient(p: &Mgh, x: &Array1<f64>) -> Array1<f64> {
    let mut grad = Array1::zeros(p.dim());
    p.value_and_grad(x, &mut grad).unwrap();
    grad
}

fn norm_inf(x: &Array1<f64>) -> f64 {
    x.iter().fold(0.0, |acc, v| acc.max(v.abs()))
}

/// A fixed pseudo-random pattern in [-1, 1] (`k` picks the pattern).
fn pattern(n: usize, k: usize) -> Array1<f64> {
    Array1::from_shape_fn(n, |j| {
        ((2.1 + k as f64) * j as f64 + 0.3 * k as f64 + 0.4).cos()
    })
}

/// The scale of each variable at `x`: `max(|x_j|, 0.1)`.
fn scales(x: &Array1<f64>) -> Array1<f64> {
    x.mapv(|xj| xj.abs().max(0.1))
}

/// `x` moved by `fraction` of each variable's scale, along a fixed pattern.
fn perturbed(x: &Array1<f64>, fraction: f64) -> Array1<f64> {
    x + &(fraction * &pattern(x.len(), 7) * &scales(x))
}

/// `f` seen in variables scaled by `D = diag(scale)`: `g(y) = f(D y)`,
/// `grad g = D grad f`. `check_gradient` steps each `y_j` by
/// `eps^(1/3) max(1, |y_j|)`, so in these variables the steps are relative
/// to each `x_j`'s magnitude: the MGH problems mix scales (Meyer's
/// `x = (0.02, 4000, 250)`, Osborne 1's `x_4 = 0.01` inside
/// `exp(-t x_4)` with `t` up to 320), which a step of `eps^(1/3)` for
/// every `|x_j| < 1` resolves badly (truncation error, not a wrong gradient).
struct Scaled<'a> {
    problem: &'a Mgh,
    scale: Array1<f64>,
}

impl Objective for Scaled<'_> {
    type Vector = Array1<f64>;

    fn dim(&self) -> usize {
        self.problem.dim()
    }

    fn value(&self, y: &Array1<f64>) -> opt_core::Result<f64> {
        self.problem.value(&(y * &self.scale))
    }

    fn value_and_grad(&self, y: &Array1<f64>, grad: &mut Array1<f64>) -> opt_core::Result<f64> {
        let f = self.problem.value_and_grad(&(y * &self.scale), grad)?;
        *grad *= &self.scale;
        Ok(f)
    }
}

/// The rounding floor of a central difference of `f` with steps `h`:
/// each value carries an error of about `eps |f|`, so each component of
/// the difference quotient one of `eps |f| / h`. Relative to `scale`, with
/// a safety factor 10. Negligible except where `f` is huge next to its
/// derivatives (Brown badly scaled: `f(x0) = 1e12`, `|grad f| = 2e6`).
fn rounding_floor(f: f64, h: f64, n: usize, scale: f64) -> f64 {
    10.0 * f64::EPSILON * f.abs() * (n as f64).sqrt() / (h * scale).max(f64::MIN_POSITIVE)
}

/// Gradient and Hessian-vector checks at `x`, in variables scaled by
/// [`Scaled`], with [`rounding_floor`] added to the tolerance 1e-6.
fn check_derivatives_at(p: &Mgh, x: &Array1<f64>) {
    let n = p.dim();
    let f = p.value(x).unwrap();
    let scale = scales(x);
    let scaled = Scaled {
        problem: p,
        scale: scale.clone(),
    };
    let check = check_gradient(&scaled, &(x / &scale)).unwrap();
    let step = f64::EPSILON.cbrt();
    let scaled_norm = check.analytic.dot(&check.analytic).sqrt();
    let tolerance = 1e-6 + rounding_floor(f, step, n, scaled_norm);
    assert!(
        check.relative_error < tolerance,
        "{}: gradient error {:e} (tolerance {tolerance:e}) at {x}, component {}",
        p.name(),
        check.relative_error,
        check.worst_index
    );

    // H v against central differences of the gradient along v:
    // D(h) = (g(x + h v) - g(x - h v)) / 2h with opt-core's step
    // h = eps^(1/3) (1 + ||x||) / ||v|| (`central_difference_hvp`, error
    // O(h^2)), and its Richardson extrapolation (4 D(h/2) - D(h)) / 3, whose
    // O(h^4) error resolves the ill-conditioned ones (Meyer: 7e-7 against
    // 1e-10). Directions are scaled like x, so each x_j moves relative to
    // its size.
    let grad_norm = gradient(p, x).dot(&gradient(p, x)).sqrt();
    let difference = |h: f64, v: &Array1<f64>| {
        (gradient(p, &(x + &(h * v))) - gradient(p, &(x - &(h * v)))) / (2.0 * h)
    };
    for k in 0..2 {
        let v = &pattern(n, k) * &scale;
        let mut exact = Array1::zeros(n);
        p.hvp(x, &v, &mut exact).unwrap();
        let hv_norm = exact.dot(&exact).sqrt();
        let h = step * (1.0 + x.dot(x).sqrt()) / v.dot(&v).sqrt();

        let mut central = Array1::zeros(n);
        central_difference_hvp(p, x, &v, &mut central).unwrap();
        let error = relative_error(&exact, &central);
        let tolerance = 1e-6 + rounding_floor(grad_norm, h, n, hv_norm);
        assert!(
            error < tolerance,
            "{}: Hessian-vector error {error:e} (tolerance {tolerance:e}) at {x}",
            p.name()
        );

        let extrapolated = (4.0 * difference(h / 2.0, &v) - difference(h, &v)) / 3.0;
        let error = relative_error(&exact, &extrapolated);
        // Rounding: 4/3 of D(h/2)'s plus 1/3 of D(h)'s, below 3 D(h)'s.
        let tolerance = 1e-8 + 3.0 * rounding_floor(grad_norm, h, n, hv_norm);
        assert!(
            error < tolerance,
            "{}: Hessian-vector error {error:e} against the extrapolated \
             difference (tolerance {tolerance:e}) at {x}",
            p.name()
        );
    }
}

/// `value` truncated to 6 significant digits is `published` (the paper's
/// rounding): `published <= value < published + one unit in the 6th digit`,
/// with a margin of 1e-3 unit for our own rounding.
fn agrees_with_published(value: f64, published: f64) -> bool {
    let unit = 10f64.powi(published.abs().log10().floor() as i32 - 5);
    value >= published - 1e-3 * unit && value < published + 1.001 * unit
}

/// A minimizer: the paper's for the linear functions (any `x` on the
/// minimizing hyperplane for the rank-1 ones), else the peer's.
fn minimizer(name: &str, n: usize, m: usize) -> Array1<f64> {
    let mf = m as f64;
    match name {
        "linear-full-rank" => return Array1::from_elem(n, -1.0),
        "linear-rank-1" => {
            return Array1::from_shape_fn(n, |j| if j == 0 { 3.0 / (2.0 * mf + 1.0) } else { 0.0 });
        }
        "linear-rank-1-zero" => {
            return Array1::from_shape_fn(n, |j| {
                if j == 1 {
                    3.0 / (2.0 * (2.0 * mf - 3.0))
                } else {
                    0.0
                }
            });
        }
        _ => {}
    }
    let (.., x) = PEER_MINIMIZERS
        .iter()
        .find(|(name_, n_, m_, _)| (*name_, *n_, *m_) == (name, n, m))
        .unwrap_or_else(|| panic!("no minimizer for {name} {n} {m}"));
    Array1::from(x.to_vec())
}

// ---------------------------------------------------------------- values

#[test]
fn start_values_match_the_numpy_peer() {
    for &(name, n, m, f0) in PEER_START_VALUES {
        let p = problem(name, n, m);
        let f = p.value(&p.start()).unwrap();
        assert!(
            (f - f0).abs() <= 1e-12 * f0.abs(),
            "{name} n={n} m={m}: {f:e} vs peer {f0:e}"
        );
    }
    // Every problem at its default size is in the table.
    for name in MGH_NAMES {
        let p = default_problem(name);
        let m = LeastSquares::num_residuals(&p);
        assert!(
            PEER_START_VALUES
                .iter()
                .any(|&(name_, n_, m_, _)| (name_, n_, m_) == (name, p.dim(), m)),
            "{name}"
        );
    }
}

#[test]
fn start_norms_match_minpack() {
    for &(name, n, m, norm) in MINPACK_START_NORMS {
        let p = problem(name, n, m);
        let ours = p.value(&p.start()).unwrap().sqrt();
        assert!(
            (ours - norm).abs() <= 5.01e-7 * norm,
            "{name} n={n} m={m}: ||r(x0)|| {ours:.7e} vs MINPACK {norm:.7e}"
        );
    }
}

/// The minimizers the paper states exactly give its `f*`.
#[test]
fn paper_minimizers_give_the_published_values() {
    let at = |name: &str, n: usize, m: usize, x: &[f64]| {
        problem(name, n, m)
            .value(&Array1::from(x.to_vec()))
            .unwrap()
    };
    let zeros: &[(&str, usize, usize, Vec<f64>)] = &[
        ("rosenbrock", 2, 2, vec![1.0, 1.0]),
        ("freudenstein-roth", 2, 2, vec![5.0, 4.0]),
        ("brown-badly-scaled", 2, 3, vec![1e6, 2e-6]),
        ("beale", 2, 3, vec![3.0, 0.5]),
        ("helical-valley", 3, 3, vec![1.0, 0.0, 0.0]),
        ("gulf", 3, 99, vec![50.0, 25.0, 1.5]),
        ("gulf", 3, 100, vec![50.0, 25.0, 1.5]),
        ("box-3d", 3, 10, vec![1.0, 10.0, 1.0]),
        ("box-3d", 3, 10, vec![10.0, 1.0, -1.0]),
        ("box-3d", 3, 17, vec![2.5, 2.5, 0.0]),
        ("powell-singular", 4, 4, vec![0.0; 4]),
        ("wood", 4, 6, vec![1.0; 4]),
        ("biggs-exp6", 6, 13, vec![1.0, 10.0, 1.0, 5.0, 4.0, 3.0]),
        ("biggs-exp6", 6, 40, vec![1.0, 10.0, 1.0, 5.0, 4.0, 3.0]),
        ("extended-rosenbrock", 10, 10, vec![1.0; 10]),
        ("extended-rosenbrock", 1000, 1000, vec![1.0; 1000]),
        ("extended-powell", 12, 12, vec![0.0; 12]),
        ("variably-dimensioned", 10, 12, vec![1.0; 10]),
        ("brown-almost-linear", 10, 10, vec![1.0; 10]),
        ("brown-almost-linear", 1, 1, vec![1.0]),
    ];
    for (name, n, m, x) in zeros {
        let f = at(name, *n, *m, x);
        assert!(f <= 1e-20, "{name} n={n} m={m}: f(x*) = {f:e}");
    }
    // Brown almost-linear's other minimum, f = 1 at (0, ..., 0, n + 1).
    let mut corner = vec![0.0; 10];
    corner[9] = 11.0;
    assert_eq!(at("brown-almost-linear", 10, 10, &corner), 1.0);
    // Freudenstein-Roth's local minimum 48.9842 (MINPACK-1's 7-digit point).
    let local = at("freudenstein-roth", 2, 2, &[11.41248, -0.8968279]);
    assert!(agrees_with_published(local, 48.9842), "{local}");

    // The linear functions: f* = m - n at x = (-1, ..., -1); the rank-1
    // ones at any x with sum j x_j = 3/(2m+1), resp.
    // sum_{j=2}^{n-1} j x_j = 3/(2m-3).
    for (n, m) in [(10, 20), (5, 10), (5, 50), (7, 7)] {
        let (nf, mf) = (n as f64, m as f64);
        let full = problem("linear-full-rank", n, m);
        let f = full.value(&Array1::from_elem(n, -1.0)).unwrap();
        assert!((f - (mf - nf)).abs() <= 1e-12 * mf, "{n} {m}: {f}");
        assert_eq!(full.known_minimum(), Some(mf - nf));

        let rank_1 = problem("linear-rank-1", n, m);
        let mut x = Array1::zeros(n);
        x[0] = 3.0 / (2.0 * mf + 1.0);
        let expected = mf * (mf - 1.0) / (2.0 * (2.0 * mf + 1.0));
        let f = rank_1.value(&x).unwrap();
        assert!((f - expected).abs() <= 1e-12 * expected, "{n} {m}: {f}");
        assert_eq!(rank_1.known_minimum(), Some(expected));
        assert!(norm_inf(&gradient(&rank_1, &x)) < 1e-10);

        let zero = problem("linear-rank-1-zero", n, m);
        let mut x = Array1::zeros(n);
        x[1] = 3.0 / (2.0 * (2.0 * mf - 3.0));
        let expected = (mf * mf + 3.0 * mf - 6.0) / (2.0 * (2.0 * mf - 3.0));
        let f = zero.value(&x).unwrap();
        assert!((f - expected).abs() <= 1e-12 * expected, "{n} {m}: {f}");
        assert_eq!(zero.known_minimum(), Some(expected));
        assert!(norm_inf(&gradient(&zero, &x)) < 1e-10);
    }
}

/// At the peer's minimizers our `f` is the paper's `f*` (0 where none is
/// printed), our gradient vanishes, and `known_minimum` says the same.
#[test]
fn published_minima_at_the_peer_minimizers() {
    for &(name, n, m, _) in PEER_MINIMIZERS {
        let p = problem(name, n, m);
        let x = minimizer(name, n, m);
        let published = PUBLISHED_MINIMA
            .iter()
            .find(|&&(name_, n_, m_, _)| (name_, n_, m_) == (name, n, m))
            .map_or(0.0, |&(.., f)| f);
        assert_eq!(p.known_minimum(), Some(published), "{name} n={n}");
        let f = p.value(&x).unwrap();
        if published == 0.0 {
            assert!(f <= 1e-20, "{name} n={n}: f(x*) = {f:e}");
        } else {
            assert!(
                agrees_with_published(f, published),
                "{name} n={n}: f(x*) = {f:.8e}, paper {published:e}"
            );
        }
        if published == 0.0 {
            continue;
        }
        // Stationary: ||grad f||_inf small next to the gradient's terms
        // 2 |r_i| |dr_i/dx_j| (which cancel at a minimizer).
        let mut r = Array1::zeros(m);
        p.residuals(&x, &mut r).unwrap();
        let mut jacobian = Array2::zeros((m, n));
        p.jacobian(&x, &mut jacobian).unwrap();
        let terms = 2.0 * jacobian.mapv(f64::abs).t().dot(&r.mapv(f64::abs));
        let g = gradient(&p, &x);
        assert!(
            norm_inf(&g) <= 1e-6 * norm_inf(&terms),
            "{name} n={n}: ||grad||_inf = {:e} (terms {:e})",
            norm_inf(&g),
            norm_inf(&terms)
        );
    }
}

#[test]
fn known_minimum_where_the_paper_has_none() {
    let known = |name, dim, m| Mgh::new(name, dim, m).unwrap().known_minimum();
    assert_eq!(known("watson", Some(7), None), None);
    assert_eq!(known("penalty-1", Some(5), None), None);
    assert_eq!(known("penalty-2", Some(5), None), None);
    assert_eq!(known("jennrich-sampson", None, Some(11)), None);
    assert_eq!(known("brown-dennis", None, Some(21)), None);
    assert_eq!(known("chebyquad", Some(10), Some(20)), None);
    assert_eq!(known("chebyquad", Some(11), None), None);
    assert_eq!(known("chebyquad", Some(5), None), Some(0.0));
    assert_eq!(known("gulf", None, Some(50)), Some(0.0));
    assert_eq!(known("biggs-exp6", None, Some(50)), Some(0.0));
    // With n < 3 no residual of problem 34 depends on x: f = m everywhere.
    assert_eq!(known("linear-rank-1-zero", Some(2), Some(6)), Some(6.0));
    let p = problem("linear-rank-1-zero", 2, 6);
    assert_eq!(p.value(&Array1::from(vec![3.0, -2.0])).unwrap(), 6.0);
    for name in MGH_NAMES {
        assert!(default_problem(name).known_minimum().is_some(), "{name}");
    }
}

// ---------------------------------------------------------------- derivatives

#[test]
fn derivatives_at_the_default_sizes() {
    for name in MGH_NAMES {
        let p = default_problem(name);
        let m = LeastSquares::num_residuals(&p);
        let start = p.start();
        check_derivatives_at(&p, &start);
        check_derivatives_at(&p, &perturbed(&start, 0.1));
        check_derivatives_at(&p, &perturbed(&minimizer(name, p.dim(), m), 1e-2));
    }
}

#[test]
fn derivatives_at_other_sizes() {
    for (name, n, m) in [
        ("jennrich-sampson", 2, 3),
        ("gulf", 3, 100),
        ("box-3d", 3, 30),
        ("brown-dennis", 4, 30),
        ("biggs-exp6", 6, 6),
        ("watson", 2, 31),
        ("watson", 12, 31),
        ("watson", 31, 31),
        ("extended-rosenbrock", 2, 2),
        ("extended-powell", 4, 4),
        ("extended-powell", 40, 40),
        ("penalty-1", 1, 2),
        ("penalty-2", 1, 2),
        ("penalty-2", 4, 8),
        ("variably-dimensioned", 1, 3),
        ("trigonometric", 1, 1),
        ("brown-almost-linear", 1, 1),
        ("brown-almost-linear", 30, 30),
        ("discrete-boundary-value", 1, 1),
        ("discrete-integral-equation", 1, 1),
        ("discrete-integral-equation", 33, 33),
        ("broyden-tridiagonal", 1, 1),
        ("broyden-banded", 2, 2),
        ("broyden-banded", 25, 25),
        ("linear-full-rank", 5, 50),
        ("linear-rank-1", 2, 3),
        ("linear-rank-1-zero", 3, 3),
        ("chebyquad", 1, 8),
        ("chebyquad", 10, 20),
    ] {
        let p = problem(name, n, m);
        check_derivatives_at(&p, &p.start());
        check_derivatives_at(&p, &perturbed(&p.start(), 0.1));
    }
}

/// The paper's `theta` jumps across `x_1 = 0` only for `x_2 < 0`: on and
/// near `x_1 = 0` with `x_2 > 0` (where `atan(x_2/x_1)` is not usable) the
/// helical valley's derivatives stay exact.
#[test]
fn helical_valley_derivatives_on_the_axis() {
    let p = default_problem("helical-valley");
    for x in [
        [0.0, 0.8, 0.3],
        [1e-9, 0.8, 0.3],
        [-1e-9, 0.8, 0.3],
        [0.5, -0.9, 0.1],
    ] {
        check_derivatives_at(&p, &Array1::from(x.to_vec()));
    }
}

/// Gulf at `m = 100`: `r_100` has `|y_100 - x_2| = 0` at the solution, where
/// `|d|^1.5` has derivative 0 (not the NaN of `exp(1.5 ln 0)`).
#[test]
fn gulf_gradient_is_finite_at_the_solution() {
    let p = problem("gulf", 3, 100);
    let x = Array1::from(vec![50.0, 25.0, 1.5]);
    let g = gradient(&p, &x);
    assert!(g.iter().all(|v| v.is_finite() && v.abs() < 1e-14), "{g}");
    let mut hv = Array1::zeros(3);
    p.hvp(&x, &Array1::from(vec![1.0, -2.0, 0.5]), &mut hv)
        .unwrap();
    assert!(hv.iter().all(|v| v.is_finite()), "{hv}");
}

/// `grad f = 2 J' r`, `J v` and `J' u` agree with the dense Jacobian, the
/// Jacobian with central differences of the residuals, `value` with
/// `value_and_grad` (bit for bit) and with `SumOfSquares` (`value_scale` 1).
#[test]
fn least_squares_view_is_consistent() {
    for name in MGH_NAMES {
        let p = default_problem(name);
        let (n, m) = (p.dim(), LeastSquares::num_residuals(&p));
        assert_eq!(LeastSquares::num_parameters(&p), n);
        assert_eq!(p.value_scale(), 1.0);
        let x = perturbed(&p.start(), 0.1);
        let mut r = Array1::zeros(m);
        p.residuals(&x, &mut r).unwrap();
        let mut jacobian = Array2::zeros((m, n));
        p.jacobian(&x, &mut jacobian).unwrap();

        let g = gradient(&p, &x);
        let f = p.value(&x).unwrap();
        let mut scratch = Array1::zeros(n);
        assert_eq!(p.value_and_grad(&x, &mut scratch).unwrap(), f, "{name}");
        assert!((r.dot(&r) - f).abs() <= 1e-14 * f, "{name}");
        assert!(
            relative_error(&(2.0 * jacobian.t().dot(&r)), &g) < 1e-13,
            "{name}"
        );

        let v = &pattern(n, 1) * &scales(&x);
        let mut jv = Array1::zeros(m);
        p.jvp(&x, &v, &mut jv).unwrap();
        assert!(relative_error(&jv, &jacobian.dot(&v)) < 1e-13, "{name}");
        let u = pattern(m, 2);
        let mut jtu = Array1::zeros(n);
        p.jtvp(&x, &u, &mut jtu).unwrap();
        assert!(
            relative_error(&jtu, &jacobian.t().dot(&u)) < 1e-13,
            "{name}"
        );

        // J v against (r(x + h v) - r(x - h v)) / 2h.
        let h = f64::EPSILON.cbrt();
        let mut plus = Array1::zeros(m);
        let mut minus = Array1::zeros(m);
        p.residuals(&(&x + &(h * &v)), &mut plus).unwrap();
        p.residuals(&(&x - &(h * &v)), &mut minus).unwrap();
        let numeric = (plus - minus) / (2.0 * h);
        let error = relative_error(&jv, &numeric);
        let jv_norm = jv.dot(&jv).sqrt();
        let tolerance = 1e-6 + rounding_floor(norm_inf(&r), h, m, jv_norm);
        assert!(
            error < tolerance,
            "{name}: J v error {error:e} ({tolerance:e})"
        );

        let sum_of_squares = SumOfSquares(p.clone());
        let mut g_sos = Array1::zeros(n);
        let f_sos = sum_of_squares.value_and_grad(&x, &mut g_sos).unwrap();
        assert!((f_sos - f).abs() <= 1e-14 * f, "{name}");
        assert!(relative_error(&g_sos, &g) < 1e-13, "{name}");
    }
}

/// At n = 1000 (gradient and `H v` by reverse mode, the Jacobian in three
/// banded passes) the block Rosenbrock's derivatives are its hand-written
/// ones: per block `(a, b)`, `r = (10 (b - a^2), 1 - a)`,
/// `g = (-400 a t - 2 (1 - a), 200 t)` with `t = b - a^2`, and the Hessian
/// block `[[1200 a^2 - 400 b + 2, -400 a], [-400 a, 200]]`.
#[test]
fn large_banded_problem_has_the_hand_written_derivatives() {
    let n = 1000;
    let p = Mgh::new("extended-rosenbrock", Some(n), None).unwrap();
    let f0 = p.value(&p.start()).unwrap();
    assert!((f0 - 12100.0).abs() <= 1e-12 * 12100.0, "{f0}");

    let x = perturbed(&p.start(), 0.1);
    let v = pattern(n, 3);
    let mut g_expected = Array1::zeros(n);
    let mut hv_expected = Array1::zeros(n);
    let mut jacobian_expected = Array2::zeros((n, n));
    let mut f_expected = 0.0;
    for k in (0..n).step_by(2) {
        let (a, b) = (x[k], x[k + 1]);
        let t = b - a * a;
        f_expected += 100.0 * t * t + (1.0 - a) * (1.0 - a);
        g_expected[k] = -400.0 * t * a - 2.0 * (1.0 - a);
        g_expected[k + 1] = 200.0 * t;
        let (haa, hab, hbb) = (1200.0 * a * a - 400.0 * b + 2.0, -400.0 * a, 200.0);
        hv_expected[k] = haa * v[k] + hab * v[k + 1];
        hv_expected[k + 1] = hab * v[k] + hbb * v[k + 1];
        jacobian_expected[[k, k]] = -20.0 * a;
        jacobian_expected[[k, k + 1]] = 10.0;
        jacobian_expected[[k + 1, k]] = -1.0;
    }
    let mut g = Array1::zeros(n);
    let f = p.value_and_grad(&x, &mut g).unwrap();
    assert!((f - f_expected).abs() <= 1e-13 * f_expected);
    assert!(relative_error(&g, &g_expected) < 1e-14);
    let mut hv = Array1::zeros(n);
    p.hvp(&x, &v, &mut hv).unwrap();
    assert!(relative_error(&hv, &hv_expected) < 1e-14);
    let mut jacobian = Array2::zeros((n, n));
    p.jacobian(&x, &mut jacobian).unwrap();
    assert_eq!(jacobian, jacobian_expected);
}

// ---------------------------------------------------------------- names and input

#[test]
fn canonical_names_round_trip() {
    assert_eq!(default_problem("watson").name(), "mgh:watson,dim=6");
    assert_eq!(default_problem("beale").name(), "mgh:beale,dim=2");
    assert_eq!(default_problem("gulf").name(), "mgh:gulf,dim=3,m=99");
    assert_eq!(
        default_problem("linear-rank-1").name(),
        "mgh:linear-rank-1,dim=10,m=20"
    );
    assert_eq!(
        default_problem("chebyquad").name(),
        "mgh:chebyquad,dim=10,m=10"
    );
    assert_eq!(default_problem("penalty-2").name(), "mgh:penalty-2,dim=10");
    for (k, name) in MGH_NAMES.iter().enumerate() {
        let p = default_problem(name);
        assert_eq!(p.number(), k + 1);
        assert_eq!(p.problem_name(), *name);
        let spec = Spec::parse("problem", p.name()).unwrap();
        assert_eq!(Mgh::from_spec(&spec).unwrap(), p, "{name}");
    }
    let spec = Spec::parse("problem", "mgh:chebyquad,m=12,dim=8").unwrap();
    let p = Mgh::from_spec(&spec).unwrap();
    assert_eq!((p.dim(), LeastSquares::num_residuals(&p)), (8, 12));
    assert_eq!(p.name(), "mgh:chebyquad,dim=8,m=12");
}

#[test]
fn default_sizes_are_the_contract() {
    let sizes: Vec<(usize, usize)> = MGH_NAMES
        .iter()
        .map(|name| {
            let p = default_problem(name);
            (p.dim(), LeastSquares::num_residuals(&p))
        })
        .collect();
    let expected = [
        (2, 2),
        (2, 2),
        (2, 2),
        (2, 3),
        (2, 3),
        (2, 10),
        (3, 3),
        (3, 15),
        (3, 15),
        (3, 16),
        (3, 99),
        (3, 10),
        (4, 4),
        (4, 6),
        (4, 11),
        (4, 20),
        (5, 33),
        (6, 13),
        (11, 65),
        (6, 31),
        (10, 10),
        (12, 12),
        (10, 11),
        (10, 20),
        (10, 12),
        (10, 10),
        (10, 10),
        (10, 10),
        (10, 10),
        (10, 10),
        (10, 10),
        (10, 20),
        (10, 20),
        (10, 20),
        (10, 10),
    ];
    assert_eq!(sizes, expected);
    for name in MGH_NAMES {
        let p = default_problem(name);
        assert_eq!(p.start().len(), p.dim(), "{name}");
    }
}

#[test]
fn unknown_names_and_bad_sizes_say_what_is_valid() {
    let error = Mgh::new("rosenbrok", None, None).unwrap_err();
    assert!(matches!(error, BenchError::UnknownName { .. }));
    let message = error.to_string();
    assert!(
        message
            .starts_with("unknown MGH problem `rosenbrok`; valid: rosenbrock, freudenstein-roth"),
        "{message}"
    );
    assert!(
        message.ends_with("linear-rank-1-zero, chebyquad"),
        "{message}"
    );

    let message = |name, dim, m| Mgh::new(name, dim, m).unwrap_err().to_string();
    assert_eq!(
        message("extended-rosenbrock", Some(7), None),
        "invalid value `7` for `dim` of problem `mgh:extended-rosenbrock`: \
         `extended-rosenbrock` needs dim a multiple of 2"
    );
    assert!(message("extended-powell", Some(10), None).contains("multiple of 4"));
    assert!(message("watson", Some(32), None).contains("needs 2 <= dim <= 31"));
    assert!(message("watson", Some(1), None).contains("needs 2 <= dim <= 31"));
    assert!(message("watson", None, Some(30)).contains("has m = 31 residuals"));
    assert!(message("gulf", None, Some(101)).contains("needs 3 <= m <= 100"));
    assert!(message("box-3d", None, Some(2)).contains("needs m >= 3"));
    assert!(message("beale", Some(3), None).contains("n = 2 variables only"));
    assert!(message("beale", None, Some(4)).contains("has m = 3 residuals"));
    assert!(message("penalty-1", Some(0), None).contains("needs dim >= 1"));
    assert!(message("penalty-1", Some(4), Some(4)).contains("m = 5 residuals for n = 4"));
    assert!(message("linear-full-rank", Some(5), Some(4)).contains("needs m >= dim = 5"));
    assert!(message("chebyquad", Some(0), None).contains("needs dim >= 1"));
}

#[test]
fn specs_are_checked() {
    let from = |text: &str| Mgh::from_spec(&Spec::parse("problem", text).unwrap());
    let message = from("mgh").unwrap_err().to_string();
    assert!(message.contains("needs a problem name"), "{message}");
    assert!(
        message.contains("rosenbrock, freudenstein-roth"),
        "{message}"
    );
    let message = from("mgh:beale,size=3").unwrap_err().to_string();
    assert!(message.contains("unknown argument `size`"), "{message}");
    assert!(message.contains("valid: dim, m"), "{message}");
    let message = from("mgh:watson,dim=six").unwrap_err().to_string();
    assert!(message.contains("`six`"), "{message}");
    assert!(from("mgh:nope").is_err());
    assert_eq!(from("mgh:watson,dim=9").unwrap().dim(), 9);
}

#[test]
fn wrong_lengths_are_shape_mismatches() {
    let p = default_problem("bard");
    let short = Array1::zeros(2);
    let x = p.start();
    let shape = |result: opt_core::Result<()>, what: &str| match result {
        Err(OptError::ShapeMismatch { .. }) => {}
        other => panic!("{what}: expected a shape mismatch, got {other:?}"),
    };
    shape(p.value(&short).map(|_| ()), "value");
    shape(
        p.value_and_grad(&short, &mut Array1::zeros(3)).map(|_| ()),
        "value_and_grad x",
    );
    shape(
        p.value_and_grad(&x, &mut Array1::zeros(4)).map(|_| ()),
        "value_and_grad grad",
    );
    shape(p.hvp(&short, &x, &mut Array1::zeros(3)), "hvp x");
    shape(p.hvp(&x, &short, &mut Array1::zeros(3)), "hvp v");
    shape(p.hvp(&x, &x, &mut Array1::zeros(2)), "hvp out");
    shape(p.residuals(&short, &mut Array1::zeros(15)), "residuals x");
    shape(p.residuals(&x, &mut Array1::zeros(14)), "residuals buffer");
    shape(
        p.jacobian(&short, &mut Array2::zeros((15, 3))),
        "jacobian x",
    );
    shape(p.jacobian(&x, &mut Array2::zeros((14, 3))), "jacobian rows");
    shape(
        p.jacobian(&x, &mut Array2::zeros((15, 4))),
        "jacobian columns",
    );
    shape(p.jvp(&x, &short, &mut Array1::zeros(15)), "jvp v");
    shape(p.jvp(&x, &x, &mut Array1::zeros(3)), "jvp out");
    shape(p.jtvp(&x, &short, &mut Array1::zeros(3)), "jtvp u");
    shape(
        p.jtvp(&x, &Array1::zeros(15), &mut short.clone()),
        "jtvp out",
    );
}
