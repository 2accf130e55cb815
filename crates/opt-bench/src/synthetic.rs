//! The synthetic logistic data set (`logistic:data=synthetic`): `n = 50000`
//! samples of `d = 100` features, generated inside the crate with a fixed
//! seed by a self-contained generator, so the numbers never change with a
//! dependency's version.
//!
//! # Generator
//!
//! [`SplitMix64`] (Steele, Lea & Flood, "Fast splittable pseudorandom number
//! generators", OOPSLA 2014; the constants of Vigna's `splitmix64.c`) gives
//! 64-bit words; a uniform is the top 53 bits times `2^-53`, in `[0, 1)`;
//! standard normals come in pairs from the Box-Muller transform
//! `sqrt(-2 ln u1) (cos 2 pi u2, sin 2 pi u2)` with `u1 = 1 - uniform` in
//! `(0, 1]`.
//!
//! # The data
//!
//! Draws are taken in this order from one stream seeded with
//! [`SYNTHETIC_SEED`]: `d` normals `v_j` for the planted weights, then per
//! sample `d` normals `z_ij` (in Box-Muller pairs; the second of the last
//! pair is dropped when `d` is odd) and one uniform `u_i` for the label. So
//! the first `m` rows of a data set of `n > m` rows are the data set of `m`
//! rows.
//!
//! - **Correlated features**: an AR(1) chain along the features,
//!   `t_i0 = z_i0`, `t_ij = rho t_i,j-1 + sqrt(1 - rho^2) z_ij`, so every
//!   `t_ij` is a standard normal and `corr(t_ij, t_ik) = rho^|j-k|`
//!   ([`SYNTHETIC_CORRELATION`] = 0.5).
//! - **Column scales over one order of magnitude**: `a_ij = s_j t_ij` with
//!   `s_j = 10^(-j/(d-1))`, from 1 down to 0.1, rounded to
//!   [`SYNTHETIC_DECIMALS`] decimals (so the CSV export is short and parses
//!   back to the same doubles).
//! - **Labels through a logistic link**: planted weights `w_j = c v_j / s_j`
//!   (every feature matters about equally, the small-scale ones through
//!   large weights), with `c` such that the margin `a.w` has standard
//!   deviation [`SYNTHETIC_MARGIN_STD`] = 2 in the population (computed from
//!   `rho^|j-k|`, not from the sample); `y_i = +1` when
//!   `u_i < sigma(a_i.w)`, else `-1`. About one label in five disagrees
//!   with the sign of the planted margin, so the data are not separable
//!   and the minimizer is finite even without `l2`.
//!
//! The data set is built once per process ([`synthetic`], a `OnceLock`);
//! nothing is read from or written to a file (`cargo xtask data synthetic`
//! exports it as CSV for peers).

use std::sync::OnceLock;

use ndarray::{Array1, Array2};

/// Samples of the synthetic data set.
pub const SYNTHETIC_SAMPLES: usize = 50_000;
/// Features of the synthetic data set.
pub const SYNTHETIC_FEATURES: usize = 100;
/// The seed of the one stream everything is drawn from.
pub const SYNTHETIC_SEED: u64 = 0x5EED_0005;
/// `rho`: the correlation of neighbouring features.
pub const SYNTHETIC_CORRELATION: f64 = 0.5;
/// Population standard deviation of the planted margin `a.w`.
pub const SYNTHETIC_MARGIN_STD: f64 = 2.0;
/// Features are rounded to this many decimals.
pub const SYNTHETIC_DECIMALS: i32 = 5;

/// SplitMix64: a 64-bit state advanced by the golden-ratio increment and
/// finalized by two xor-shift-multiply rounds (Vigna's `splitmix64.c`).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose first output is the finalizer of `seed + 0x9E3779B97F4A7C15`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64-bit word.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform in `[0, 1)`: the top 53 bits times `2^-53`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Two independent standard normals (Box-Muller).
    pub fn next_normal_pair(&mut self) -> (f64, f64) {
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        let radius = (-2.0 * u1.ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
        (radius * cos, radius * sin)
    }

    /// Fill `out` with standard normals, pair by pair.
    fn fill_normals(&mut self, out: &mut [f64]) {
        for pair in out.chunks_mut(2) {
            let (a, b) = self.next_normal_pair();
            pair[0] = a;
            if let Some(second) = pair.get_mut(1) {
                *second = b;
            }
        }
    }
}

/// The column scale `s_j = 10^(-j/(d-1))` (1 when `d = 1`).
pub fn column_scale(j: usize, d: usize) -> f64 {
    if d < 2 {
        1.0
    } else {
        10f64.powf(-(j as f64) / (d - 1) as f64)
    }
}

/// `x` rounded to [`SYNTHETIC_DECIMALS`] decimals.
fn quantize(x: f64) -> f64 {
    let factor = 10f64.powi(SYNTHETIC_DECIMALS);
    (x * factor).round() / factor
}

/// The planted weights `w_j = c v_j / s_j` (module docs).
fn planted_weights(rng: &mut SplitMix64, d: usize) -> Array1<f64> {
    let mut v = vec![0.0; d];
    rng.fill_normals(&mut v);
    // Var(a.w) = c^2 sum_jk v_j v_k rho^|j-k|.
    let mut variance = 0.0;
    for j in 0..d {
        for k in 0..d {
            variance += v[j] * v[k] * SYNTHETIC_CORRELATION.powi(j.abs_diff(k) as i32);
        }
    }
    let c = SYNTHETIC_MARGIN_STD / variance.sqrt();
    Array1::from_shape_fn(d, |j| c * v[j] / column_scale(j, d))
}

/// The first `n` rows of the synthetic data with `d` features from `seed`:
/// the feature matrix (`n x d`) and labels in `{-1, +1}` (module docs).
pub fn generate(n: usize, d: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = SplitMix64::new(seed);
    let weights = planted_weights(&mut rng, d);
    let scales: Vec<f64> = (0..d).map(|j| column_scale(j, d)).collect();
    let innovation = (1.0 - SYNTHETIC_CORRELATION * SYNTHETIC_CORRELATION).sqrt();
    let mut features = Array2::zeros((n, d));
    let mut labels = Array1::zeros(n);
    let mut z = vec![0.0; d];
    for (mut row, label) in features.rows_mut().into_iter().zip(labels.iter_mut()) {
        rng.fill_normals(&mut z);
        let mut chain = 0.0;
        let mut margin = 0.0;
        for j in 0..d {
            chain = if j == 0 {
                z[0]
            } else {
                SYNTHETIC_CORRELATION * chain + innovation * z[j]
            };
            let a = quantize(scales[j] * chain);
            row[j] = a;
            margin += a * weights[j];
        }
        let probability = 1.0 / (1.0 + (-margin).exp());
        *label = if rng.next_f64() < probability {
            1.0
        } else {
            -1.0
        };
    }
    (features, labels)
}

/// The synthetic data set: [`SYNTHETIC_SAMPLES`] x [`SYNTHETIC_FEATURES`]
/// from [`SYNTHETIC_SEED`], built on first use and kept for the process.
pub fn synthetic() -> &'static (Array2<f64>, Array1<f64>) {
    static DATA: OnceLock<(Array2<f64>, Array1<f64>)> = OnceLock::new();
    DATA.get_or_init(|| generate(SYNTHETIC_SAMPLES, SYNTHETIC_FEATURES, SYNTHETIC_SEED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayView2, Axis, Slice};

    fn rows(a: &Array2<f64>, count: usize) -> ArrayView2<'_, f64> {
        a.slice_axis(Axis(0), Slice::from(..count))
    }

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // Vigna's splitmix64.c seeded with 0.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn uniforms_and_normals_are_in_range_and_roughly_standard() {
        let mut rng = SplitMix64::new(7);
        let mut sum = 0.0;
        let mut squares = 0.0;
        let count = 20_000;
        for _ in 0..count / 2 {
            let u = rng.next_f64();
            assert!((0.0..1.0).contains(&u));
            let (a, b) = rng.next_normal_pair();
            sum += a + b;
            squares += a * a + b * b;
        }
        let mean = sum / count as f64;
        let variance = squares / count as f64 - mean * mean;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((variance - 1.0).abs() < 0.05, "variance {variance}");
    }

    #[test]
    fn the_data_set_is_deterministic_and_pinned() {
        let (a, y) = synthetic();
        assert_eq!(a.dim(), (SYNTHETIC_SAMPLES, SYNTHETIC_FEATURES));
        assert_eq!(y.len(), SYNTHETIC_SAMPLES);
        // Built once per process; a fresh generation gives the same numbers.
        assert!(std::ptr::eq(synthetic(), synthetic()));
        let (again_a, again_y) = generate(300, SYNTHETIC_FEATURES, SYNTHETIC_SEED);
        assert_eq!(again_a, rows(a, 300));
        assert_eq!(again_y, y.slice_axis(Axis(0), Slice::from(..300)));

        // The first row's first two features, recomputed from the seed with
        // an independent SplitMix64 and Box-Muller: the 100 planted-weight
        // normals use 100 words, the first row's normals start at word 101.
        let mut state = SYNTHETIC_SEED;
        let mut word = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        for _ in 0..SYNTHETIC_FEATURES {
            word();
        }
        let unit = |w: u64| (w >> 11) as f64 / 9_007_199_254_740_992.0;
        let (u1, u2) = (1.0 - unit(word()), unit(word()));
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = 2.0 * std::f64::consts::PI * u2;
        let (z0, z1) = (radius * angle.cos(), radius * angle.sin());
        let round = |v: f64| (v * 1e5).round() / 1e5;
        let a01 = round(10f64.powf(-1.0 / 99.0) * (0.5 * z0 + 0.75f64.sqrt() * z1));
        assert_eq!(a[[0, 0]], round(z0));
        assert_eq!(a[[0, 1]], a01);
        // And as numbers, so a change of the generator shows in the diff.
        assert_eq!(a[[0, 0]], 0.25302);
        assert_eq!(a[[0, 1]], -1.02279);
        assert_eq!(a[[SYNTHETIC_SAMPLES - 1, SYNTHETIC_FEATURES - 1]], 0.01742);
        assert_eq!(&y.as_slice().unwrap()[..8], FIRST_LABELS);
    }

    /// The first eight labels of the data set.
    const FIRST_LABELS: &[f64] = &[1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 1.0, 1.0];

    #[test]
    fn labels_are_signs_of_both_classes_and_scales_span_a_decade() {
        let (a, y) = synthetic();
        assert!(y.iter().all(|&v| v == 1.0 || v == -1.0));
        let positive = y.iter().filter(|&&v| v == 1.0).count();
        // The planted margin is symmetric about 0: about half of each.
        assert!((24_000..26_000).contains(&positive), "{positive} positive");
        let std = |j: usize| {
            let column = a.column(j);
            (column.dot(&column) / column.len() as f64).sqrt()
        };
        assert!((std(0) - 1.0).abs() < 0.02, "{}", std(0));
        assert!((std(SYNTHETIC_FEATURES - 1) - 0.1).abs() < 0.002);
        // Neighbouring (standardized) features correlate by about rho.
        let (c0, c1) = (a.column(10), a.column(11));
        let correlation = c0.dot(&c1) / (c0.dot(&c0) * c1.dot(&c1)).sqrt();
        assert!(
            (correlation - SYNTHETIC_CORRELATION).abs() < 0.02,
            "{correlation}"
        );
    }

    #[test]
    fn a_prefix_of_rows_is_the_smaller_data_set() {
        let (small_a, small_y) = generate(7, 5, 3);
        let (big_a, big_y) = generate(20, 5, 3);
        assert_eq!(small_a, rows(&big_a, 7));
        assert_eq!(small_y, big_y.slice_axis(Axis(0), Slice::from(..7)));
    }
}
