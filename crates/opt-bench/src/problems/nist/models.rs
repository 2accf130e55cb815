//! The model functions `f(x; b)` of the NIST StRD nonlinear regression
//! problems and their analytic derivatives `df/db`.
//!
//! Several problems share a model (Misra1a and BoxBOD, the three Lanczos,
//! the three Gauss, Hahn1 and Thurber, Chwirut1 and Chwirut2), so there are
//! 20 model families for 27 problems. Each family is written out by hand with
//! its partial derivatives; the tests check them against central differences.

use std::f64::consts::PI;

/// One NIST model family, `f(x; b)` with `x` the predictor(s) of one
/// observation and `b` the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// `b1*(1-exp(-b2*x))` (Misra1a, BoxBOD).
    ExponentialSaturation,
    /// `exp(-b1*x)/(b2+b3*x)` (Chwirut1, Chwirut2).
    Chwirut,
    /// `b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)` (Lanczos1-3).
    ThreeExponentials,
    /// `b1*exp(-b2*x) + b3*exp(-(x-b4)^2/b5^2) + b6*exp(-(x-b7)^2/b8^2)` (Gauss1-3).
    ExponentialAndTwoGaussians,
    /// `b1*x^b2` (DanWood).
    Power,
    /// `b1*(1-(1+b2*x/2)^(-2))` (Misra1b).
    Misra1b,
    /// `(b1 + b2*x + b3*x^2) / (1 + b4*x + b5*x^2)` (Kirby2).
    RationalQuadratic,
    /// `(b1+b2*x+b3*x^2+b4*x^3) / (1+b5*x+b6*x^2+b7*x^3)` (Hahn1, Thurber).
    RationalCubic,
    /// `b1 - b2*x1*exp(-b3*x2)`, fitted to `log(y)` (Nelson).
    Nelson,
    /// `b1 + b2*exp(-x*b4) + b3*exp(-x*b5)` (MGH17).
    Mgh17,
    /// `b1*(1-(1+2*b2*x)^(-1/2))` (Misra1c).
    Misra1c,
    /// `b1*b2*x/(1+b2*x)` (Misra1d).
    Misra1d,
    /// `b1 - b2*x - arctan(b3/(x-b4))/pi` (Roszman1).
    Roszman1,
    /// Annual cycle plus two fitted cycles (ENSO): `b1 + b2*cos(2 pi x/12) +
    /// b3*sin(2 pi x/12) + b5*cos(2 pi x/b4) + b6*sin(2 pi x/b4) +
    /// b8*cos(2 pi x/b7) + b9*sin(2 pi x/b7)`.
    Enso,
    /// `b1*(x^2+x*b2) / (x^2+x*b3+b4)` (MGH09).
    Mgh09,
    /// `b1/(1+exp(b2-b3*x))` (Rat42).
    Rat42,
    /// `b1*exp(b2/(x+b3))` (MGH10).
    Mgh10,
    /// `(b1/b2)*exp(-0.5*((x-b3)/b2)^2)` (Eckerle4).
    Eckerle4,
    /// `b1/((1+exp(b2-b3*x))^(1/b4))` (Rat43).
    Rat43,
    /// `b1*(b2+x)^(-1/b3)` (Bennett5).
    Bennett5,
}

impl Model {
    /// Number of parameters `p`.
    pub fn num_parameters(self) -> usize {
        match self {
            Model::ExponentialSaturation
            | Model::Power
            | Model::Misra1b
            | Model::Misra1c
            | Model::Misra1d => 2,
            Model::Chwirut
            | Model::Nelson
            | Model::Rat42
            | Model::Mgh10
            | Model::Eckerle4
            | Model::Bennett5 => 3,
            Model::Roszman1 | Model::Mgh09 | Model::Rat43 => 4,
            Model::RationalQuadratic | Model::Mgh17 => 5,
            Model::ThreeExponentials => 6,
            Model::RationalCubic => 7,
            Model::ExponentialAndTwoGaussians => 8,
            Model::Enso => 9,
        }
    }

    /// Number of predictors per observation (2 for Nelson, 1 otherwise).
    pub fn num_predictors(self) -> usize {
        if self == Model::Nelson { 2 } else { 1 }
    }

    /// `f(x; b)`.
    pub fn value(self, b: &[f64], x: &[f64]) -> f64 {
        let t = x[0];
        match self {
            Model::ExponentialSaturation => b[0] * (1.0 - (-b[1] * t).exp()),
            Model::Chwirut => (-b[0] * t).exp() / (b[1] + b[2] * t),
            Model::ThreeExponentials => {
                b[0] * (-b[1] * t).exp() + b[2] * (-b[3] * t).exp() + b[4] * (-b[5] * t).exp()
            }
            Model::ExponentialAndTwoGaussians => {
                b[0] * (-b[1] * t).exp()
                    + b[2] * gaussian(t, b[3], b[4])
                    + b[5] * gaussian(t, b[6], b[7])
            }
            Model::Power => b[0] * t.powf(b[1]),
            Model::Misra1b => b[0] * (1.0 - (1.0 + 0.5 * b[1] * t).powi(-2)),
            Model::RationalQuadratic => {
                let numerator = b[0] + t * (b[1] + t * b[2]);
                let denominator = 1.0 + t * (b[3] + t * b[4]);
                numerator / denominator
            }
            Model::RationalCubic => {
                let numerator = b[0] + t * (b[1] + t * (b[2] + t * b[3]));
                let denominator = 1.0 + t * (b[4] + t * (b[5] + t * b[6]));
                numerator / denominator
            }
            Model::Nelson => b[0] - b[1] * x[0] * (-b[2] * x[1]).exp(),
            Model::Mgh17 => b[0] + b[1] * (-t * b[3]).exp() + b[2] * (-t * b[4]).exp(),
            Model::Misra1c => b[0] * (1.0 - 1.0 / (1.0 + 2.0 * b[1] * t).sqrt()),
            Model::Misra1d => b[0] * b[1] * t / (1.0 + b[1] * t),
            Model::Roszman1 => b[0] - b[1] * t - (b[2] / (t - b[3])).atan() / PI,
            Model::Enso => {
                let annual = 2.0 * PI * t / 12.0;
                let second = 2.0 * PI * t / b[3];
                let third = 2.0 * PI * t / b[6];
                b[0] + b[1] * annual.cos()
                    + b[2] * annual.sin()
                    + b[4] * second.cos()
                    + b[5] * second.sin()
                    + b[7] * third.cos()
                    + b[8] * third.sin()
            }
            Model::Mgh09 => b[0] * (t * t + t * b[1]) / (t * t + t * b[2] + b[3]),
            Model::Rat42 => b[0] / (1.0 + (b[1] - b[2] * t).exp()),
            Model::Mgh10 => b[0] * (b[1] / (t + b[2])).exp(),
            Model::Eckerle4 => {
                let z = (t - b[2]) / b[1];
                b[0] / b[1] * (-0.5 * z * z).exp()
            }
            Model::Rat43 => b[0] / (1.0 + (b[1] - b[2] * t).exp()).powf(1.0 / b[3]),
            Model::Bennett5 => b[0] * (b[1] + t).powf(-1.0 / b[2]),
        }
    }

    /// `df/db_j (x; b)` into `grad` (length `p`).
    pub fn gradient(self, b: &[f64], x: &[f64], grad: &mut [f64]) {
        let t = x[0];
        match self {
            Model::ExponentialSaturation => {
                let e = (-b[1] * t).exp();
                grad[0] = 1.0 - e;
                grad[1] = b[0] * t * e;
            }
            Model::Chwirut => {
                let e = (-b[0] * t).exp();
                let d = b[1] + b[2] * t;
                grad[0] = -t * e / d;
                grad[1] = -e / (d * d);
                grad[2] = -t * e / (d * d);
            }
            Model::ThreeExponentials => {
                for k in 0..3 {
                    let e = (-b[2 * k + 1] * t).exp();
                    grad[2 * k] = e;
                    grad[2 * k + 1] = -b[2 * k] * t * e;
                }
            }
            Model::ExponentialAndTwoGaussians => {
                let e = (-b[1] * t).exp();
                grad[0] = e;
                grad[1] = -b[0] * t * e;
                for k in [2, 5] {
                    let (height, center, width) = (b[k], b[k + 1], b[k + 2]);
                    let g = gaussian(t, center, width);
                    let offset = t - center;
                    let w2 = width * width;
                    grad[k] = g;
                    grad[k + 1] = height * g * 2.0 * offset / w2;
                    grad[k + 2] = height * g * 2.0 * offset * offset / (w2 * width);
                }
            }
            Model::Power => {
                let power = t.powf(b[1]);
                grad[0] = power;
                grad[1] = b[0] * power * t.ln();
            }
            Model::Misra1b => {
                let u = 1.0 + 0.5 * b[1] * t;
                grad[0] = 1.0 - u.powi(-2);
                grad[1] = b[0] * t * u.powi(-3);
            }
            Model::RationalQuadratic => {
                let numerator = b[0] + t * (b[1] + t * b[2]);
                let denominator = 1.0 + t * (b[3] + t * b[4]);
                let ratio = numerator / (denominator * denominator);
                grad[0] = 1.0 / denominator;
                grad[1] = t / denominator;
                grad[2] = t * t / denominator;
                grad[3] = -ratio * t;
                grad[4] = -ratio * t * t;
            }
            Model::RationalCubic => {
                let numerator = b[0] + t * (b[1] + t * (b[2] + t * b[3]));
                let denominator = 1.0 + t * (b[4] + t * (b[5] + t * b[6]));
                let ratio = numerator / (denominator * denominator);
                let mut power = 1.0;
                for j in 0..4 {
                    grad[j] = power / denominator;
                    power *= t;
                }
                let mut power = t;
                for j in 4..7 {
                    grad[j] = -ratio * power;
                    power *= t;
                }
            }
            Model::Nelson => {
                let e = (-b[2] * x[1]).exp();
                grad[0] = 1.0;
                grad[1] = -x[0] * e;
                grad[2] = b[1] * x[0] * x[1] * e;
            }
            Model::Mgh17 => {
                let e4 = (-t * b[3]).exp();
                let e5 = (-t * b[4]).exp();
                grad[0] = 1.0;
                grad[1] = e4;
                grad[2] = e5;
                grad[3] = -b[1] * t * e4;
                grad[4] = -b[2] * t * e5;
            }
            Model::Misra1c => {
                let u = 1.0 + 2.0 * b[1] * t;
                let root = u.sqrt();
                grad[0] = 1.0 - 1.0 / root;
                grad[1] = b[0] * t / (u * root);
            }
            Model::Misra1d => {
                let u = 1.0 + b[1] * t;
                grad[0] = b[1] * t / u;
                grad[1] = b[0] * t / (u * u);
            }
            Model::Roszman1 => {
                let offset = t - b[3];
                let q = PI * (offset * offset + b[2] * b[2]);
                grad[0] = 1.0;
                grad[1] = -t;
                grad[2] = -offset / q;
                grad[3] = -b[2] / q;
            }
            Model::Enso => {
                let annual = 2.0 * PI * t / 12.0;
                grad[0] = 1.0;
                grad[1] = annual.cos();
                grad[2] = annual.sin();
                for k in [3, 6] {
                    // d/db_k of b_{k+1} cos(w) + b_{k+2} sin(w), w = 2 pi x / b_k,
                    // dw/db_k = -w / b_k.
                    let w = 2.0 * PI * t / b[k];
                    let (sin, cos) = w.sin_cos();
                    grad[k] = (b[k + 1] * sin - b[k + 2] * cos) * w / b[k];
                    grad[k + 1] = cos;
                    grad[k + 2] = sin;
                }
            }
            Model::Mgh09 => {
                let numerator = t * t + t * b[1];
                let denominator = t * t + t * b[2] + b[3];
                grad[0] = numerator / denominator;
                grad[1] = b[0] * t / denominator;
                let common = -b[0] * numerator / (denominator * denominator);
                grad[2] = common * t;
                grad[3] = common;
            }
            Model::Rat42 => {
                let e = (b[1] - b[2] * t).exp();
                let d = 1.0 + e;
                grad[0] = 1.0 / d;
                grad[1] = -b[0] * e / (d * d);
                grad[2] = b[0] * t * e / (d * d);
            }
            Model::Mgh10 => {
                let shift = t + b[2];
                let e = (b[1] / shift).exp();
                grad[0] = e;
                grad[1] = b[0] * e / shift;
                grad[2] = -b[0] * b[1] * e / (shift * shift);
            }
            Model::Eckerle4 => {
                let z = (t - b[2]) / b[1];
                let e = (-0.5 * z * z).exp();
                let scaled = b[0] * e / (b[1] * b[1]);
                grad[0] = e / b[1];
                grad[1] = scaled * (z * z - 1.0);
                grad[2] = scaled * z;
            }
            Model::Rat43 => {
                let e = (b[1] - b[2] * t).exp();
                let u = 1.0 + e;
                let power = u.powf(-1.0 / b[3]);
                // d/du u^(-1/b4) = -(1/b4) u^(-1/b4) / u.
                let slope = -b[0] * power / (b[3] * u);
                grad[0] = power;
                grad[1] = slope * e;
                grad[2] = -slope * e * t;
                grad[3] = b[0] * power * u.ln() / (b[3] * b[3]);
            }
            Model::Bennett5 => {
                let u = b[1] + t;
                let power = u.powf(-1.0 / b[2]);
                grad[0] = power;
                grad[1] = -b[0] * power / (b[2] * u);
                grad[2] = b[0] * power * u.ln() / (b[2] * b[2]);
            }
        }
    }
}

/// `exp(-(x - center)^2 / width^2)`.
fn gaussian(x: f64, center: f64, width: f64) -> f64 {
    let z = (x - center) / width;
    (-z * z).exp()
}
