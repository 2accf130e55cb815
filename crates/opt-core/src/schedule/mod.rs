//! Learning-rate schedules.
//!
//! A schedule is a pure function of the step `t = 0, 1, 2, ...`: the runner
//! asks [`Schedule::learning_rate`] for step `t` and hands the number to the
//! optimizer, which carries no schedule of its own. [`LrSchedule`] is the
//! closed set of schedules, serializable so that a run's configuration can be
//! written down; [`ReduceOnPlateau`] is the one schedule that keeps state, since
//! it reacts to a metric rather than to the step.
//!
//! Where PyTorch has the schedule, the value at step `t` is PyTorch's
//! `torch.optim.lr_scheduler` closed form at `last_epoch = t`, i.e. the learning
//! rate in force after `t` calls of `scheduler.step()`:
//!
//! | variant | PyTorch | `a_t` |
//! | --- | --- | --- |
//! | [`Constant`](LrSchedule::Constant) | — | `lr` |
//! | [`Step`](LrSchedule::Step) | `StepLR` | `a0 * gamma^floor(t / step_size)` |
//! | [`MultiStep`](LrSchedule::MultiStep) | `MultiStepLR` | `a0 * gamma^#{m in milestones : m <= t}` |
//! | [`Exponential`](LrSchedule::Exponential) | `ExponentialLR` | `a0 * gamma^t` |
//! | [`InverseTime`](LrSchedule::InverseTime) | — | `a0 / (1 + decay_rate * t)` |
//! | [`PowerDecay`](LrSchedule::PowerDecay) | — | `a0 * (1 + t / t0)^(-power)` |
//! | [`PolyakLojasiewicz`](LrSchedule::PolyakLojasiewicz) | — | `(2t + 1) / (2 mu (t + 1)^2)` |
//! | [`Cosine`](LrSchedule::Cosine) | `CosineAnnealingLR` | `eta_min + (a0 - eta_min)(1 + cos(pi t / t_max)) / 2` |
//! | [`CosineWarmRestarts`](LrSchedule::CosineWarmRestarts) | `CosineAnnealingWarmRestarts` | cosine over `T_cur / T_i`, restarting |
//! | [`LinearWarmup`](LrSchedule::LinearWarmup) | `LinearLR` | `a0 * (s + (e - s) min(t, T) / T)` |
//! | [`OneCycle`](LrSchedule::OneCycle) | `OneCycleLR` | warm-up then anneal (learning rate only) |
//! | [`Polynomial`](LrSchedule::Polynomial) | `PolynomialLR` | `a0 * (1 - min(t, T) / T)^power` |
//! | [`Sequential`](LrSchedule::Sequential) | `SequentialLR` | child `i` at `t - milestone_i` |
//! | [`ReduceOnPlateau`] | `ReduceLROnPlateau` | stateful, see its docs |
//!
//! Every variant has a validating constructor (`LrSchedule::step`, ...) that
//! returns [`OptError::InvalidHyperparameter`] naming the offending parameter.
//! The variants' fields are public so that schedules serialize as plain data;
//! a value built by hand or deserialized should be checked with
//! [`LrSchedule::validate`]. Evaluating an unvalidated schedule never panics,
//! but its values are then unspecified.

mod plateau;

pub use plateau::{PlateauConfig, PlateauMode, ReduceOnPlateau, ThresholdMode};

use std::f64::consts::PI;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{OptError, Result};

/// A learning rate as a pure function of the step `t = 0, 1, 2, ...`.
pub trait Schedule: std::fmt::Debug + Send + Sync {
    /// The learning rate to use at step `step`.
    fn learning_rate(&self, step: u64) -> f64;
}

impl<S: Schedule + ?Sized> Schedule for &S {
    fn learning_rate(&self, step: u64) -> f64 {
        (**self).learning_rate(step)
    }
}

impl<S: Schedule + ?Sized> Schedule for Box<S> {
    fn learning_rate(&self, step: u64) -> f64 {
        (**self).learning_rate(step)
    }
}

impl<S: Schedule + ?Sized> Schedule for Arc<S> {
    fn learning_rate(&self, step: u64) -> f64 {
        (**self).learning_rate(step)
    }
}

/// How [`LrSchedule::OneCycle`] moves between two learning rates within a
/// phase (PyTorch's `anneal_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnealStrategy {
    /// `end + (start - end) (1 + cos(pi p)) / 2` (PyTorch `"cos"`, the default).
    #[default]
    Cos,
    /// `start + (end - start) p` (PyTorch `"linear"`).
    Linear,
}

impl AnnealStrategy {
    /// The value a fraction `pct` of the way from `start` to `end`.
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

/// The optional hyperparameters of [`LrSchedule::OneCycle`], with PyTorch's
/// `OneCycleLR` names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OneCycleOptions {
    /// Fraction of the cycle spent increasing the learning rate, in `[0, 1]`. Default 0.3.
    pub pct_start: f64,
    /// Cosine or linear annealing within each phase. Default [`AnnealStrategy::Cos`].
    pub anneal_strategy: AnnealStrategy,
    /// `initial_lr = max_lr / div_factor`. Default 25.
    pub div_factor: f64,
    /// `min_lr = initial_lr / final_div_factor`. Default 1e4.
    pub final_div_factor: f64,
    /// Use the paper's three phases (up, down to `initial_lr`, down to `min_lr`)
    /// instead of fastai's two. Default `false`.
    pub three_phase: bool,
}

impl Default for OneCycleOptions {
    fn default() -> Self {
        OneCycleOptions {
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }
}

/// The learning-rate schedules that are pure functions of the step.
///
/// Build them with the validating constructors ([`LrSchedule::step`],
/// [`LrSchedule::cosine`], ...); the fields are public for serialization, and a
/// value built by hand or deserialized should be checked with
/// [`LrSchedule::validate`]. `t` below is the step passed to
/// [`Schedule::learning_rate`], `a0` the `base_lr`.
///
/// Serialized with an internal tag, e.g.
/// `{"kind":"step","base_lr":0.1,"step_size":30,"gamma":0.1}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LrSchedule {
    /// `a_t = lr`.
    Constant {
        /// The learning rate, finite and `>= 0`.
        lr: f64,
    },
    /// `a_t = a0 * gamma^floor(t / step_size)`.
    ///
    /// Source: PyTorch `StepLR` (closed form).
    Step {
        /// `a0`, finite and `>= 0`.
        base_lr: f64,
        /// Period of the decay, `>= 1`.
        step_size: u64,
        /// Multiplicative factor, finite and `> 0` (PyTorch's default is 0.1).
        gamma: f64,
    },
    /// `a_t = a0 * gamma^k` with `k` the number of milestones `<= t` (a
    /// milestone listed twice counts twice).
    ///
    /// Source: PyTorch `MultiStepLR` (closed form, `bisect_right`).
    MultiStep {
        /// `a0`, finite and `>= 0`.
        base_lr: f64,
        /// Steps at which the rate is multiplied by `gamma`, non-decreasing.
        milestones: Vec<u64>,
        /// Multiplicative factor, finite and `> 0` (PyTorch's default is 0.1).
        gamma: f64,
    },
    /// `a_t = a0 * gamma^t`.
    ///
    /// Source: PyTorch `ExponentialLR` (closed form).
    Exponential {
        /// `a0`, finite and `>= 0`.
        base_lr: f64,
        /// Multiplicative factor per step, finite and `> 0`.
        gamma: f64,
    },
    /// `a_t = a0 / (1 + decay_rate * t)`.
    ///
    /// The `1/t` decay of stochastic approximation (Robbins & Monro, 1951);
    /// Keras' `InverseTimeDecay` with `decay_steps = 1`, `staircase = False`.
    InverseTime {
        /// `a0`, finite and `>= 0`.
        base_lr: f64,
        /// Finite and `>= 0`.
        decay_rate: f64,
    },
    /// `a_t = a0 * (1 + t / t0)^(-power)`.
    ///
    /// Robbins–Monro step sizes (Robbins & Monro, 1951; Bottou, Curtis &
    /// Nocedal, "Optimization Methods for Large-Scale Machine Learning", 2018,
    /// §4.2): `power` in `(1/2, 1]` gives `sum a_t = inf` and
    /// `sum a_t^2 < inf`, the classical convergence conditions for SGD;
    /// `power < 1` is the usual choice with Polyak–Ruppert averaging. Only
    /// `power > 0` is enforced.
    PowerDecay {
        /// `a0`, finite and `>= 0`.
        base_lr: f64,
        /// Time scale of the decay, finite and `> 0`.
        t0: f64,
        /// Decay exponent, finite and `> 0` (`(0.5, 1]` recommended).
        power: f64,
    },
    /// `a_t = (2t + 1) / (2 mu (t + 1)^2)`.
    ///
    /// The decreasing step size for SGD on a `mu`-Polyak–Łojasiewicz function
    /// (Karimi, Nutini & Schmidt, "Linear Convergence of Gradient and
    /// Proximal-Gradient Methods Under the Polyak-Łojasiewicz Condition",
    /// ECML-PKDD 2016, Theorem 4), which gives an `O(1/t)` rate. Starts at
    /// `1 / (2 mu)` and behaves like `1 / (mu t)`.
    PolyakLojasiewicz {
        /// The PL constant, finite and `> 0`.
        mu: f64,
    },
    /// `a_t = eta_min + (a0 - eta_min) (1 + cos(pi t / t_max)) / 2`.
    ///
    /// Source: PyTorch `CosineAnnealingLR` (closed form; Loshchilov & Hutter,
    /// SGDR, 2017). As in PyTorch, the formula is not clamped: past `t_max`
    /// the rate rises again with period `2 t_max`; follow it with a
    /// [`Constant`](LrSchedule::Constant) in a
    /// [`Sequential`](LrSchedule::Sequential) to hold `eta_min`.
    Cosine {
        /// `a0`, finite and `>= 0`.
        base_lr: f64,
        /// Half-period, `>= 1`.
        t_max: u64,
        /// Minimum learning rate, finite and `>= 0` (PyTorch's default is 0).
        eta_min: f64,
    },
    /// `a_t = eta_min + (a0 - eta_min) (1 + cos(pi T_cur / T_i)) / 2`, where
    /// the `i`-th period lasts `T_i = t_0 * t_mult^i` steps and `T_cur` counts
    /// the steps since the last restart: the rate jumps back to `a0` at
    /// `t = t_0`, `t_0 (1 + t_mult)`, `t_0 (1 + t_mult + t_mult^2)`, ...
    ///
    /// Source: PyTorch `CosineAnnealingWarmRestarts` stepped once per step
    /// (Loshchilov & Hutter, SGDR, 2017); computed in integers, so restarts
    /// fall exactly on their steps.
    CosineWarmRestarts {
        /// `a0`, finite and `>= 0`.
        base_lr: f64,
        /// Length of the first period, `>= 1`.
        t_0: u64,
        /// Growth factor of the period, `>= 1` (PyTorch's default is 1).
        t_mult: u64,
        /// Minimum learning rate, finite and `>= 0` (PyTorch's default is 0).
        eta_min: f64,
    },
    /// `a_t = a0 * (start_factor + (end_factor - start_factor) min(t, total_iters) / total_iters)`.
    ///
    /// Source: PyTorch `LinearLR` (closed form), whose defaults are
    /// `start_factor = 1/3`, `end_factor = 1`, `total_iters = 5`.
    LinearWarmup {
        /// `a0`, finite and `>= 0`.
        base_lr: f64,
        /// Factor at `t = 0`, in `(0, 1]`.
        start_factor: f64,
        /// Factor from `t = total_iters` on, in `[0, 1]`.
        end_factor: f64,
        /// Length of the ramp, `>= 1`.
        total_iters: u64,
    },
    /// The 1cycle policy, learning rate only (no momentum cycling).
    ///
    /// With `initial_lr = max_lr / div_factor` and
    /// `min_lr = initial_lr / final_div_factor`, phases end at the (possibly
    /// fractional) steps `e_1 = pct_start * total_steps - 1` and
    /// `e_2 = total_steps - 1`; the rate is annealed from `initial_lr` to
    /// `max_lr` over `[0, e_1]` and from `max_lr` to `min_lr` over `[e_1, e_2]`,
    /// a fraction `p = (t - start) / (end - start)` of the way. With
    /// `three_phase`, the phases are `initial_lr -> max_lr` over `[0, e_1]`,
    /// `max_lr -> initial_lr` over `[e_1, 2 pct_start total_steps - 2]` and
    /// `initial_lr -> min_lr` up to `total_steps - 1`.
    ///
    /// Source: PyTorch `OneCycleLR` (Smith & Topin, "Super-Convergence", 2017).
    /// Two differences, both where PyTorch fails: steps `t >= total_steps - 1`
    /// give the final rate `min_lr` (PyTorch raises past `total_steps`), and a
    /// phase of zero length (`pct_start * total_steps == 1`) counts as
    /// finished (`p = 1`) where PyTorch divides by zero.
    OneCycle {
        /// Peak learning rate, finite and `>= 0`.
        max_lr: f64,
        /// Length of the cycle, `>= 1`.
        total_steps: u64,
        /// Fraction of the cycle spent increasing the rate, in `[0, 1]`.
        pct_start: f64,
        /// Cosine or linear annealing.
        anneal_strategy: AnnealStrategy,
        /// `initial_lr = max_lr / div_factor`, finite and `> 0`.
        div_factor: f64,
        /// `min_lr = initial_lr / final_div_factor`, finite and `> 0`.
        final_div_factor: f64,
        /// Three phases instead of two.
        three_phase: bool,
    },
    /// `a_t = a0 * (1 - min(t, total_iters) / total_iters)^power`.
    ///
    /// Source: PyTorch `PolynomialLR` (closed form), whose defaults are
    /// `total_iters = 5`, `power = 1`.
    Polynomial {
        /// `a0`, finite and `>= 0`.
        base_lr: f64,
        /// Steps until the rate reaches 0, `>= 1`.
        total_iters: u64,
        /// Exponent, finite and `> 0`.
        power: f64,
    },
    /// Schedule `i` from milestone `i - 1` on, seeing the step counted from
    /// that milestone: with `m_0 < m_1 < ...` and `k` the number of
    /// milestones `<= t`, `a_t = schedules[k](t - m_{k-1})` (and
    /// `schedules[0](t)` before the first milestone).
    ///
    /// Source: PyTorch `SequentialLR`.
    Sequential {
        /// At least one schedule.
        schedules: Vec<LrSchedule>,
        /// Strictly increasing, one fewer than `schedules`.
        milestones: Vec<u64>,
    },
}

impl LrSchedule {
    /// [`LrSchedule::Constant`].
    pub fn constant(lr: f64) -> Result<Self> {
        Self::checked(LrSchedule::Constant { lr })
    }

    /// [`LrSchedule::Step`]: `base_lr * gamma^floor(t / step_size)`.
    pub fn step(base_lr: f64, step_size: u64, gamma: f64) -> Result<Self> {
        Self::checked(LrSchedule::Step {
            base_lr,
            step_size,
            gamma,
        })
    }

    /// [`LrSchedule::MultiStep`]: `base_lr * gamma^#{m in milestones : m <= t}`.
    pub fn multi_step(base_lr: f64, milestones: Vec<u64>, gamma: f64) -> Result<Self> {
        Self::checked(LrSchedule::MultiStep {
            base_lr,
            milestones,
            gamma,
        })
    }

    /// [`LrSchedule::Exponential`]: `base_lr * gamma^t`.
    pub fn exponential(base_lr: f64, gamma: f64) -> Result<Self> {
        Self::checked(LrSchedule::Exponential { base_lr, gamma })
    }

    /// [`LrSchedule::InverseTime`]: `base_lr / (1 + decay_rate * t)`.
    pub fn inverse_time(base_lr: f64, decay_rate: f64) -> Result<Self> {
        Self::checked(LrSchedule::InverseTime {
            base_lr,
            decay_rate,
        })
    }

    /// [`LrSchedule::PowerDecay`]: `base_lr * (1 + t / t0)^(-power)`.
    pub fn power_decay(base_lr: f64, t0: f64, power: f64) -> Result<Self> {
        Self::checked(LrSchedule::PowerDecay { base_lr, t0, power })
    }

    /// [`LrSchedule::PolyakLojasiewicz`]: `(2t + 1) / (2 mu (t + 1)^2)`.
    pub fn polyak_lojasiewicz(mu: f64) -> Result<Self> {
        Self::checked(LrSchedule::PolyakLojasiewicz { mu })
    }

    /// [`LrSchedule::Cosine`]: PyTorch's `CosineAnnealingLR(T_max, eta_min)`.
    pub fn cosine(base_lr: f64, t_max: u64, eta_min: f64) -> Result<Self> {
        Self::checked(LrSchedule::Cosine {
            base_lr,
            t_max,
            eta_min,
        })
    }

    /// [`LrSchedule::CosineWarmRestarts`]: PyTorch's
    /// `CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)`.
    pub fn cosine_warm_restarts(base_lr: f64, t_0: u64, t_mult: u64, eta_min: f64) -> Result<Self> {
        Self::checked(LrSchedule::CosineWarmRestarts {
            base_lr,
            t_0,
            t_mult,
            eta_min,
        })
    }

    /// [`LrSchedule::LinearWarmup`]: PyTorch's
    /// `LinearLR(start_factor, end_factor, total_iters)` (defaults there:
    /// `1/3`, `1`, `5`).
    pub fn linear_warmup(
        base_lr: f64,
        start_factor: f64,
        end_factor: f64,
        total_iters: u64,
    ) -> Result<Self> {
        Self::checked(LrSchedule::LinearWarmup {
            base_lr,
            start_factor,
            end_factor,
            total_iters,
        })
    }

    /// [`LrSchedule::OneCycle`] with PyTorch's defaults ([`OneCycleOptions::default`]).
    pub fn one_cycle(max_lr: f64, total_steps: u64) -> Result<Self> {
        Self::one_cycle_with(max_lr, total_steps, OneCycleOptions::default())
    }

    /// [`LrSchedule::OneCycle`] with the given options.
    pub fn one_cycle_with(max_lr: f64, total_steps: u64, options: OneCycleOptions) -> Result<Self> {
        let OneCycleOptions {
            pct_start,
            anneal_strategy,
            div_factor,
            final_div_factor,
            three_phase,
        } = options;
        Self::checked(LrSchedule::OneCycle {
            max_lr,
            total_steps,
            pct_start,
            anneal_strategy,
            div_factor,
            final_div_factor,
            three_phase,
        })
    }

    /// [`LrSchedule::Polynomial`]: PyTorch's `PolynomialLR(total_iters, power)`.
    pub fn polynomial(base_lr: f64, total_iters: u64, power: f64) -> Result<Self> {
        Self::checked(LrSchedule::Polynomial {
            base_lr,
            total_iters,
            power,
        })
    }

    /// [`LrSchedule::Sequential`]: PyTorch's `SequentialLR(schedulers, milestones)`.
    pub fn sequential(schedules: Vec<LrSchedule>, milestones: Vec<u64>) -> Result<Self> {
        Self::checked(LrSchedule::Sequential {
            schedules,
            milestones,
        })
    }

    fn checked(self) -> Result<Self> {
        self.validate()?;
        Ok(self)
    }

    /// `Ok(())` if every hyperparameter is in its documented range (children
    /// of a [`Sequential`](LrSchedule::Sequential) included), else the first
    /// [`OptError::InvalidHyperparameter`] found.
    pub fn validate(&self) -> Result<()> {
        match self {
            LrSchedule::Constant { lr } => non_negative("lr", *lr),
            LrSchedule::Step {
                base_lr,
                step_size,
                gamma,
            } => {
                non_negative("base_lr", *base_lr)?;
                at_least_one("step_size", *step_size)?;
                positive("gamma", *gamma)
            }
            LrSchedule::MultiStep {
                base_lr,
                milestones,
                gamma,
            } => {
                non_negative("base_lr", *base_lr)?;
                if milestones.windows(2).any(|w| w[0] > w[1]) {
                    return Err(OptError::invalid(
                        "milestones",
                        format!("{milestones:?}"),
                        "must be sorted in non-decreasing order",
                    ));
                }
                positive("gamma", *gamma)
            }
            LrSchedule::Exponential { base_lr, gamma } => {
                non_negative("base_lr", *base_lr)?;
                positive("gamma", *gamma)
            }
            LrSchedule::InverseTime {
                base_lr,
                decay_rate,
            } => {
                non_negative("base_lr", *base_lr)?;
                non_negative("decay_rate", *decay_rate)
            }
            LrSchedule::PowerDecay { base_lr, t0, power } => {
                non_negative("base_lr", *base_lr)?;
                positive("t0", *t0)?;
                positive("power", *power)
            }
            LrSchedule::PolyakLojasiewicz { mu } => positive("mu", *mu),
            LrSchedule::Cosine {
                base_lr,
                t_max,
                eta_min,
            } => {
                non_negative("base_lr", *base_lr)?;
                at_least_one("t_max", *t_max)?;
                non_negative("eta_min", *eta_min)
            }
            LrSchedule::CosineWarmRestarts {
                base_lr,
                t_0,
                t_mult,
                eta_min,
            } => {
                non_negative("base_lr", *base_lr)?;
                at_least_one("t_0", *t_0)?;
                at_least_one("t_mult", *t_mult)?;
                non_negative("eta_min", *eta_min)
            }
            LrSchedule::LinearWarmup {
                base_lr,
                start_factor,
                end_factor,
                total_iters,
            } => {
                non_negative("base_lr", *base_lr)?;
                if !(*start_factor > 0.0 && *start_factor <= 1.0) {
                    return Err(OptError::invalid(
                        "start_factor",
                        start_factor,
                        "must be in (0, 1]",
                    ));
                }
                if !(*end_factor >= 0.0 && *end_factor <= 1.0) {
                    return Err(OptError::invalid(
                        "end_factor",
                        end_factor,
                        "must be in [0, 1]",
                    ));
                }
                at_least_one("total_iters", *total_iters)
            }
            LrSchedule::OneCycle {
                max_lr,
                total_steps,
                pct_start,
                anneal_strategy: _,
                div_factor,
                final_div_factor,
                three_phase: _,
            } => {
                non_negative("max_lr", *max_lr)?;
                at_least_one("total_steps", *total_steps)?;
                if !(*pct_start >= 0.0 && *pct_start <= 1.0) {
                    return Err(OptError::invalid(
                        "pct_start",
                        pct_start,
                        "must be in [0, 1]",
                    ));
                }
                positive("div_factor", *div_factor)?;
                positive("final_div_factor", *final_div_factor)
            }
            LrSchedule::Polynomial {
                base_lr,
                total_iters,
                power,
            } => {
                non_negative("base_lr", *base_lr)?;
                at_least_one("total_iters", *total_iters)?;
                positive("power", *power)
            }
            LrSchedule::Sequential {
                schedules,
                milestones,
            } => {
                if schedules.is_empty() {
                    return Err(OptError::invalid(
                        "schedules",
                        0,
                        "must hold at least one schedule",
                    ));
                }
                if milestones.len() != schedules.len() - 1 {
                    return Err(OptError::invalid(
                        "milestones",
                        format!(
                            "{} milestones for {} schedules",
                            milestones.len(),
                            schedules.len()
                        ),
                        "must hold exactly one fewer entry than `schedules`",
                    ));
                }
                if milestones.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(OptError::invalid(
                        "milestones",
                        format!("{milestones:?}"),
                        "must be strictly increasing",
                    ));
                }
                schedules.iter().try_for_each(LrSchedule::validate)
            }
        }
    }
}

impl Schedule for LrSchedule {
    fn learning_rate(&self, step: u64) -> f64 {
        let t = step as f64;
        match self {
            LrSchedule::Constant { lr } => *lr,
            LrSchedule::Step {
                base_lr,
                step_size,
                gamma,
            } => {
                let decays = step.checked_div(*step_size).unwrap_or(0);
                base_lr * gamma.powf(decays as f64)
            }
            LrSchedule::MultiStep {
                base_lr,
                milestones,
                gamma,
            } => {
                let passed = milestones.partition_point(|&m| m <= step);
                base_lr * gamma.powf(passed as f64)
            }
            LrSchedule::Exponential { base_lr, gamma } => base_lr * gamma.powf(t),
            LrSchedule::InverseTime {
                base_lr,
                decay_rate,
            } => base_lr / (1.0 + decay_rate * t),
            LrSchedule::PowerDecay { base_lr, t0, power } => base_lr * (1.0 + t / t0).powf(-power),
            LrSchedule::PolyakLojasiewicz { mu } => {
                let k1 = t + 1.0;
                (2.0 * t + 1.0) / (2.0 * mu * k1 * k1)
            }
            LrSchedule::Cosine {
                base_lr,
                t_max,
                eta_min,
            } => cosine_anneal(*base_lr, *eta_min, t / *t_max as f64),
            LrSchedule::CosineWarmRestarts {
                base_lr,
                t_0,
                t_mult,
                eta_min,
            } => {
                let (t_cur, t_i) = restart_position(step, *t_0, *t_mult);
                cosine_anneal(*base_lr, *eta_min, t_cur as f64 / t_i as f64)
            }
            LrSchedule::LinearWarmup {
                base_lr,
                start_factor,
                end_factor,
                total_iters,
            } => {
                let done = step.min(*total_iters) as f64 / *total_iters as f64;
                base_lr * (start_factor + (end_factor - start_factor) * done)
            }
            LrSchedule::OneCycle {
                max_lr,
                total_steps,
                pct_start,
                anneal_strategy,
                div_factor,
                final_div_factor,
                three_phase,
            } => {
                let options = OneCycleOptions {
                    pct_start: *pct_start,
                    anneal_strategy: *anneal_strategy,
                    div_factor: *div_factor,
                    final_div_factor: *final_div_factor,
                    three_phase: *three_phase,
                };
                one_cycle_lr(*max_lr, *total_steps, &options, step)
            }
            LrSchedule::Polynomial {
                base_lr,
                total_iters,
                power,
            } => {
                let done = step.min(*total_iters) as f64 / *total_iters as f64;
                base_lr * (1.0 - done).powf(*power)
            }
            LrSchedule::Sequential {
                schedules,
                milestones,
            } => {
                let k = milestones.partition_point(|&m| m <= step);
                let local = match k.checked_sub(1).and_then(|i| milestones.get(i)) {
                    Some(&m) => step.saturating_sub(m),
                    None => step,
                };
                match schedules.get(k).or(schedules.last()) {
                    Some(schedule) => schedule.learning_rate(local),
                    None => f64::NAN,
                }
            }
        }
    }
}

/// `eta_min + (base - eta_min) (1 + cos(pi frac)) / 2`.
fn cosine_anneal(base_lr: f64, eta_min: f64, frac: f64) -> f64 {
    eta_min + (base_lr - eta_min) * (1.0 + (PI * frac).cos()) / 2.0
}

/// `(T_cur, T_i)` at step `step` for periods `t_0, t_0 t_mult, t_0 t_mult^2, ...`.
///
/// Integer arithmetic; a loop of `O(log step)` iterations when `t_mult >= 2`.
fn restart_position(step: u64, t_0: u64, t_mult: u64) -> (u64, u64) {
    let t_0 = t_0.max(1);
    if t_mult <= 1 {
        return (step % t_0, t_0);
    }
    let (mut t_cur, mut t_i) = (step, t_0);
    while t_cur >= t_i {
        t_cur -= t_i;
        t_i = t_i.saturating_mul(t_mult);
    }
    (t_cur, t_i)
}

/// PyTorch's `OneCycleLR.get_lr` at `last_epoch = step`, clamped to the last step.
fn one_cycle_lr(max_lr: f64, total_steps: u64, options: &OneCycleOptions, step: u64) -> f64 {
    let initial_lr = max_lr / options.div_factor;
    let min_lr = initial_lr / options.final_div_factor;
    let total = total_steps as f64;
    let t = step.min(total_steps.saturating_sub(1)) as f64;
    let up_end = options.pct_start * total - 1.0;
    // (end_step, start_lr, end_lr) of each phase; the last one takes every
    // step past the previous ends.
    let (phases, count) = if options.three_phase {
        let down_end = 2.0 * options.pct_start * total - 2.0;
        (
            [
                (up_end, initial_lr, max_lr),
                (down_end, max_lr, initial_lr),
                (total - 1.0, initial_lr, min_lr),
            ],
            3,
        )
    } else {
        (
            [
                (up_end, initial_lr, max_lr),
                (total - 1.0, max_lr, min_lr),
                (total - 1.0, min_lr, min_lr),
            ],
            2,
        )
    };
    let mut start_step = 0.0;
    for (i, &(end_step, start_lr, end_lr)) in phases[..count].iter().enumerate() {
        if t <= end_step || i + 1 == count {
            let span = end_step - start_step;
            let pct = if span > 0.0 {
                (t - start_step) / span
            } else {
                1.0
            };
            return options.anneal_strategy.anneal(start_lr, end_lr, pct);
        }
        start_step = end_step;
    }
    min_lr
}

fn non_negative(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(OptError::invalid(
            name,
            value,
            "must be finite and non-negative",
        ))
    }
}

fn positive(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(OptError::invalid(
            name,
            value,
            "must be finite and positive",
        ))
    }
}

fn at_least_one(name: &'static str, value: u64) -> Result<()> {
    if value >= 1 {
        Ok(())
    } else {
        Err(OptError::invalid(name, value, "must be at least 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative tolerance 1e-12 (plus 1e-16 absolute for values at zero): a
    /// wrong formula misses by far more, rounding by far less.
    fn assert_close(got: f64, want: f64, what: &str) {
        assert!(
            (got - want).abs() <= 1e-12 * want.abs() + 1e-16,
            "{what}: got {got}, want {want}"
        );
    }

    /// Checks `schedule` at each `(t, expected)`.
    fn check(schedule: &LrSchedule, table: &[(u64, f64)]) {
        for &(t, want) in table {
            assert_close(
                schedule.learning_rate(t),
                want,
                &format!("{schedule:?} at t = {t}"),
            );
        }
    }

    /// `cos(pi / 5) = (1 + sqrt 5) / 4`.
    fn cos_pi_5() -> f64 {
        (1.0 + 5f64.sqrt()) / 4.0
    }

    #[test]
    fn constant() {
        let s = LrSchedule::constant(0.3).unwrap();
        check(&s, &[(0, 0.3), (1, 0.3), (1_000_000_000_000, 0.3)]);
    }

    #[test]
    fn step_decays_every_step_size() {
        // PyTorch StepLR docstring: lr 0.05, step_size 30, gamma 0.1.
        let s = LrSchedule::step(0.05, 30, 0.1).unwrap();
        check(
            &s,
            &[
                (0, 0.05),
                (29, 0.05),
                (30, 0.005),
                (59, 0.005),
                (60, 0.0005),
                (89, 0.0005),
                (90, 0.00005),
                (95, 0.00005),
            ],
        );
        let s = LrSchedule::step(1.0, 1, 0.5).unwrap();
        check(&s, &[(0, 1.0), (1, 0.5), (3, 0.125)]);
    }

    #[test]
    fn multi_step_counts_milestones_passed() {
        // PyTorch MultiStepLR docstring: lr 0.05, milestones [30, 80], gamma 0.1.
        let s = LrSchedule::multi_step(0.05, vec![30, 80], 0.1).unwrap();
        check(
            &s,
            &[
                (0, 0.05),
                (29, 0.05),
                (30, 0.005),
                (79, 0.005),
                (80, 0.0005),
                (1000, 0.0005),
            ],
        );
        // A repeated milestone decays twice (PyTorch counts milestones).
        let s = LrSchedule::multi_step(1.0, vec![2, 2, 5], 0.5).unwrap();
        check(&s, &[(1, 1.0), (2, 0.25), (4, 0.25), (5, 0.125)]);
        let s = LrSchedule::multi_step(0.7, vec![], 0.5).unwrap();
        check(&s, &[(0, 0.7), (100, 0.7)]);
    }

    #[test]
    fn exponential() {
        let s = LrSchedule::exponential(1.0, 0.9).unwrap();
        check(
            &s,
            &[
                (0, 1.0),
                (1, 0.9),
                (2, 0.81),
                (3, 0.729),
                (10, 0.3486784401),
            ],
        );
        let s = LrSchedule::exponential(0.5, 1.1).unwrap();
        check(&s, &[(2, 0.605)]);
    }

    #[test]
    fn inverse_time() {
        let s = LrSchedule::inverse_time(0.5, 0.1).unwrap();
        check(&s, &[(0, 0.5), (10, 0.25), (30, 0.125), (90, 0.05)]);
        let s = LrSchedule::inverse_time(0.5, 0.0).unwrap();
        check(&s, &[(1000, 0.5)]);
    }

    #[test]
    fn power_decay() {
        // (1 + t/10)^(-1/2): t = 30 -> 4^(-1/2), t = 80 -> 9^(-1/2), t = 990 -> 100^(-1/2).
        let s = LrSchedule::power_decay(1.0, 10.0, 0.5).unwrap();
        check(&s, &[(0, 1.0), (30, 0.5), (80, 1.0 / 3.0), (990, 0.1)]);
        // power 1: 2 / (1 + t/4).
        let s = LrSchedule::power_decay(2.0, 4.0, 1.0).unwrap();
        check(&s, &[(0, 2.0), (4, 1.0), (12, 0.5)]);
        // power 3/4, t0 = 1: t = 15 -> 16^(-3/4) = 1/8.
        let s = LrSchedule::power_decay(1.0, 1.0, 0.75).unwrap();
        check(&s, &[(15, 0.125)]);
    }

    #[test]
    fn polyak_lojasiewicz() {
        // mu = 1/2: a_k = (2k + 1) / (k + 1)^2.
        let s = LrSchedule::polyak_lojasiewicz(0.5).unwrap();
        check(
            &s,
            &[
                (0, 1.0),
                (1, 0.75),
                (2, 5.0 / 9.0),
                (9, 0.19),
                (99, 199.0 / 10_000.0),
            ],
        );
        // mu = 2: a_0 = 1/4, a_1 = 3/16.
        let s = LrSchedule::polyak_lojasiewicz(2.0).unwrap();
        check(&s, &[(0, 0.25), (1, 0.1875)]);
    }

    #[test]
    fn cosine_closed_form() {
        // eta_min + (0.1 - eta_min)(1 + cos(pi t / 10)) / 2 with eta_min = 0.001.
        let s = LrSchedule::cosine(0.1, 10, 0.001).unwrap();
        check(
            &s,
            &[
                (0, 0.1),
                (2, 0.001 + 0.099 * (1.0 + cos_pi_5()) / 2.0),
                (5, 0.0505),
                (8, 0.001 + 0.099 * (1.0 - cos_pi_5()) / 2.0),
                (10, 0.001),
                // PyTorch does not clamp: the rate rises again past t_max.
                (15, 0.0505),
                (20, 0.1),
            ],
        );
        let s = LrSchedule::cosine(2.0, 4, 0.0).unwrap();
        check(&s, &[(0, 2.0), (2, 1.0), (4, 0.0)]);
    }

    #[test]
    fn cosine_warm_restarts_constant_period() {
        // T_0 = 10, T_mult = 1: restarts at 10, 20, ...
        // cos(0.9 pi) = -cos(pi / 10) = -sqrt((5 + sqrt 5) / 8).
        let cos_pi_10 = ((5.0 + 5f64.sqrt()) / 8.0).sqrt();
        let s = LrSchedule::cosine_warm_restarts(1.0, 10, 1, 0.0).unwrap();
        check(
            &s,
            &[
                (0, 1.0),
                (5, 0.5),
                (9, (1.0 - cos_pi_10) / 2.0),
                (10, 1.0),
                (15, 0.5),
                (19, (1.0 - cos_pi_10) / 2.0),
                (20, 1.0),
                (25, 0.5),
            ],
        );
    }

    #[test]
    fn cosine_warm_restarts_growing_period() {
        // T_0 = 2, T_mult = 2: periods 2, 4, 8, 16, 32 start at 0, 2, 6, 14, 30, 62.
        // eta_min 0.1, base 1.1: lr = 0.1 + (1 + cos(pi T_cur / T_i)) / 2.
        let half_sqrt2 = 2f64.sqrt() / 2.0;
        // cos(pi / 8) = sqrt(2 + sqrt 2) / 2.
        let cos_pi_8 = (2.0 + 2f64.sqrt()).sqrt() / 2.0;
        let s = LrSchedule::cosine_warm_restarts(1.1, 2, 2, 0.1).unwrap();
        check(
            &s,
            &[
                (0, 1.1),
                (1, 0.6),
                (2, 1.1),
                (3, 0.1 + (1.0 + half_sqrt2) / 2.0),
                (4, 0.6),
                (5, 0.1 + (1.0 - half_sqrt2) / 2.0),
                (6, 1.1),
                (10, 0.6),
                (13, 0.1 + (1.0 - cos_pi_8) / 2.0),
                (14, 1.1),
                (22, 0.6),
                (29, 0.1 + (1.0 + (PI * 15.0 / 16.0).cos()) / 2.0),
                (30, 1.1),
                (62, 1.1),
            ],
        );
        // T_0 = 1, T_mult = 3: restarts at 1, 4, 13, 40, 121.
        let s = LrSchedule::cosine_warm_restarts(1.0, 1, 3, 0.0).unwrap();
        check(
            &s,
            &[
                (1, 1.0),
                (4, 1.0),
                (13, 1.0),
                (40, 1.0),
                (121, 1.0),
                (8, (1.0 + (PI * 4.0 / 9.0).cos()) / 2.0),
                (39, (1.0 + (PI * 26.0 / 27.0).cos()) / 2.0),
            ],
        );
        // Far out: no overflow, no hang, within [eta_min, base].
        let lr = s.learning_rate(u64::MAX);
        assert!((0.0..=1.0).contains(&lr), "{lr}");
    }

    #[test]
    fn linear_warmup_pytorch_defaults() {
        // LinearLR(start_factor = 1/3, end_factor = 1, total_iters = 5).
        let s = LrSchedule::linear_warmup(1.0, 1.0 / 3.0, 1.0, 5).unwrap();
        check(
            &s,
            &[
                (0, 1.0 / 3.0),
                (1, 7.0 / 15.0),
                (2, 0.6),
                (3, 11.0 / 15.0),
                (4, 13.0 / 15.0),
                (5, 1.0),
                (100, 1.0),
            ],
        );
        // As a linear decay: 2 * (1 - 0.5 min(t, 4) / 4).
        let s = LrSchedule::linear_warmup(2.0, 1.0, 0.5, 4).unwrap();
        check(&s, &[(0, 2.0), (2, 1.5), (4, 1.0), (10, 1.0)]);
    }

    #[test]
    fn one_cycle_matches_pytorch_test_targets() {
        // Targets from PyTorch's test_lrscheduler.py: max_lr 25, total_steps 10,
        // final_div_factor 2 (initial_lr 1, min_lr 0.5), pct_start 0.3, so the
        // peak is at step 2 and the anneal runs over 7 steps.
        let options = OneCycleOptions {
            final_div_factor: 2.0,
            anneal_strategy: AnnealStrategy::Linear,
            ..OneCycleOptions::default()
        };
        let s = LrSchedule::one_cycle_with(25.0, 10, options).unwrap();
        let linear = [1.0, 13.0, 25.0, 21.5, 18.0, 14.5, 11.0, 7.5, 4.0, 0.5];
        check(
            &s,
            &linear
                .iter()
                .copied()
                .enumerate()
                .map(|(t, lr)| (t as u64, lr))
                .collect::<Vec<_>>(),
        );

        let s = LrSchedule::one_cycle_with(
            25.0,
            10,
            OneCycleOptions {
                anneal_strategy: AnnealStrategy::Cos,
                ..options
            },
        )
        .unwrap();
        // 25 -> 0.5 a fraction k/7 of the way: 0.5 + 24.5 (1 + cos(pi k / 7)) / 2.
        let mut table = vec![(0, 1.0), (1, 13.0), (2, 25.0), (9, 0.5)];
        for k in 1..7u64 {
            let cos = (PI * k as f64 / 7.0).cos();
            table.push((2 + k, 0.5 + 24.5 * (1.0 + cos) / 2.0));
        }
        check(&s, &table);

        // Three phases, linear, pct_start 0.4, final_div_factor 4.
        let s = LrSchedule::one_cycle_with(
            25.0,
            10,
            OneCycleOptions {
                pct_start: 0.4,
                anneal_strategy: AnnealStrategy::Linear,
                div_factor: 25.0,
                final_div_factor: 4.0,
                three_phase: true,
            },
        )
        .unwrap();
        let three = [1.0, 9.0, 17.0, 25.0, 17.0, 9.0, 1.0, 0.75, 0.5, 0.25];
        check(
            &s,
            &three
                .iter()
                .copied()
                .enumerate()
                .map(|(t, lr)| (t as u64, lr))
                .collect::<Vec<_>>(),
        );
    }

    #[test]
    fn one_cycle_defaults() {
        // max_lr 1, total 100: initial 1/25 = 0.04, min 0.04 / 1e4 = 4e-6;
        // warm-up over [0, 29], anneal over [29, 99].
        let s = LrSchedule::one_cycle(1.0, 100).unwrap();
        let up = |p: f64| 0.04 + 0.96 * (1.0 - (PI * p).cos()) / 2.0;
        let down = |p: f64| 4e-6 + (1.0 - 4e-6) * (1.0 + (PI * p).cos()) / 2.0;
        check(
            &s,
            &[
                (0, 0.04),
                (10, up(10.0 / 29.0)),
                (28, up(28.0 / 29.0)),
                (29, 1.0),
                (30, down(1.0 / 70.0)),
                (50, down(0.3)),
                (64, 0.500002),
                (99, 4e-6),
                // Past the cycle the final rate holds (PyTorch raises).
                (100, 4e-6),
                (1_000_000, 4e-6),
            ],
        );
    }

    #[test]
    fn one_cycle_fractional_and_degenerate_phases() {
        // pct_start 0.25, total 10: the warm-up ends at step 1.5.
        let s = LrSchedule::one_cycle_with(
            1.0,
            10,
            OneCycleOptions {
                pct_start: 0.25,
                ..OneCycleOptions::default()
            },
        )
        .unwrap();
        // t = 1: 2/3 of the way up, (1 - cos(2 pi / 3)) / 2 = 3/4 -> 0.04 + 0.96 * 0.75.
        // t = 2: (2 - 1.5) / 7.5 = 1/15 of the way down.
        let down = |p: f64| 4e-6 + (1.0 - 4e-6) * (1.0 + (PI * p).cos()) / 2.0;
        check(
            &s,
            &[(0, 0.04), (1, 0.76), (2, down(1.0 / 15.0)), (9, 4e-6)],
        );

        // pct_start * total_steps = 1: a warm-up of zero length is finished
        // at t = 0 (PyTorch divides by zero here).
        let s = LrSchedule::one_cycle_with(
            1.0,
            10,
            OneCycleOptions {
                pct_start: 0.1,
                ..OneCycleOptions::default()
            },
        )
        .unwrap();
        check(&s, &[(0, 1.0), (1, down(1.0 / 9.0)), (9, 4e-6)]);

        // pct_start 0: the anneal phase starts at step -1.
        let s = LrSchedule::one_cycle_with(
            1.0,
            10,
            OneCycleOptions {
                pct_start: 0.0,
                ..OneCycleOptions::default()
            },
        )
        .unwrap();
        check(&s, &[(0, down(0.1)), (9, 4e-6)]);

        // A one-step cycle is its final rate.
        let s = LrSchedule::one_cycle(1.0, 1).unwrap();
        check(&s, &[(0, 4e-6), (5, 4e-6)]);
    }

    #[test]
    fn polynomial() {
        // (1 - min(t, 4) / 4)^2.
        let s = LrSchedule::polynomial(1.0, 4, 2.0).unwrap();
        check(
            &s,
            &[
                (0, 1.0),
                (1, 0.5625),
                (2, 0.25),
                (3, 0.0625),
                (4, 0.0),
                (10, 0.0),
            ],
        );
        let s = LrSchedule::polynomial(2.0, 10, 1.0).unwrap();
        check(&s, &[(5, 1.0), (7, 0.6), (10, 0.0)]);
        // power 1/2: 1 - 3/4 = 1/4 -> 1/2.
        let s = LrSchedule::polynomial(1.0, 4, 0.5).unwrap();
        check(&s, &[(3, 0.5)]);
    }

    #[test]
    fn sequential_restarts_the_step_count_at_each_milestone() {
        // PyTorch SequentialLR docstring: 0.005 for 20 steps, then
        // ExponentialLR(0.05, gamma 0.9) seeing t - 20.
        let s = LrSchedule::sequential(
            vec![
                LrSchedule::constant(0.005).unwrap(),
                LrSchedule::exponential(0.05, 0.9).unwrap(),
            ],
            vec![20],
        )
        .unwrap();
        check(
            &s,
            &[
                (0, 0.005),
                (19, 0.005),
                (20, 0.05),
                (21, 0.045),
                (22, 0.0405),
            ],
        );

        // Warm-up, cosine, then hold at 0.
        let s = LrSchedule::sequential(
            vec![
                LrSchedule::linear_warmup(1.0, 0.1, 1.0, 5).unwrap(),
                LrSchedule::cosine(1.0, 10, 0.0).unwrap(),
                LrSchedule::constant(0.0).unwrap(),
            ],
            vec![5, 15],
        )
        .unwrap();
        let cos_pi_10 = ((5.0 + 5f64.sqrt()) / 8.0).sqrt();
        check(
            &s,
            &[
                (0, 0.1),
                (3, 0.64),
                (4, 0.82),
                (5, 1.0),
                (10, 0.5),
                (14, (1.0 - cos_pi_10) / 2.0),
                (15, 0.0),
                (1000, 0.0),
            ],
        );

        // Nested: the inner sequence sees the outer local step.
        let inner = LrSchedule::sequential(
            vec![
                LrSchedule::constant(1.0).unwrap(),
                LrSchedule::step(1.0, 2, 0.5).unwrap(),
            ],
            vec![3],
        )
        .unwrap();
        let s = LrSchedule::sequential(vec![LrSchedule::constant(0.1).unwrap(), inner], vec![10])
            .unwrap();
        check(
            &s,
            &[
                (9, 0.1),
                (10, 1.0),
                (12, 1.0),
                (13, 1.0),
                (14, 1.0),
                (15, 0.5),
                (17, 0.25),
            ],
        );

        // One schedule, no milestones.
        let s = LrSchedule::sequential(vec![LrSchedule::exponential(1.0, 0.5).unwrap()], vec![])
            .unwrap();
        check(&s, &[(0, 1.0), (3, 0.125)]);
    }

    fn invalid_name(result: Result<LrSchedule>) -> &'static str {
        match result {
            Err(OptError::InvalidHyperparameter { name, .. }) => name,
            other => panic!("expected an invalid hyperparameter, got {other:?}"),
        }
    }

    #[test]
    fn constructors_reject_invalid_hyperparameters() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let c = || LrSchedule::constant(0.1).unwrap();
        let with = |f: fn(&mut OneCycleOptions)| {
            let mut o = OneCycleOptions::default();
            f(&mut o);
            LrSchedule::one_cycle_with(1.0, 100, o)
        };
        let cases: Vec<(Result<LrSchedule>, &str)> = vec![
            (LrSchedule::constant(-0.1), "lr"),
            (LrSchedule::constant(nan), "lr"),
            (LrSchedule::constant(inf), "lr"),
            (LrSchedule::step(-1.0, 10, 0.1), "base_lr"),
            (LrSchedule::step(0.1, 0, 0.1), "step_size"),
            (LrSchedule::step(0.1, 10, 0.0), "gamma"),
            (LrSchedule::step(0.1, 10, -0.5), "gamma"),
            (LrSchedule::step(0.1, 10, nan), "gamma"),
            (LrSchedule::multi_step(0.1, vec![30, 20], 0.1), "milestones"),
            (LrSchedule::multi_step(0.1, vec![], 0.0), "gamma"),
            (LrSchedule::exponential(nan, 0.9), "base_lr"),
            (LrSchedule::exponential(0.1, 0.0), "gamma"),
            (LrSchedule::exponential(0.1, inf), "gamma"),
            (LrSchedule::inverse_time(0.1, -1.0), "decay_rate"),
            (LrSchedule::inverse_time(0.1, nan), "decay_rate"),
            (LrSchedule::power_decay(0.1, 0.0, 0.5), "t0"),
            (LrSchedule::power_decay(0.1, 1.0, 0.0), "power"),
            (LrSchedule::power_decay(0.1, 1.0, -1.0), "power"),
            (LrSchedule::polyak_lojasiewicz(0.0), "mu"),
            (LrSchedule::polyak_lojasiewicz(-1.0), "mu"),
            (LrSchedule::polyak_lojasiewicz(nan), "mu"),
            (LrSchedule::cosine(0.1, 0, 0.0), "t_max"),
            (LrSchedule::cosine(0.1, 10, -1e-3), "eta_min"),
            (LrSchedule::cosine_warm_restarts(0.1, 0, 1, 0.0), "t_0"),
            (LrSchedule::cosine_warm_restarts(0.1, 10, 0, 0.0), "t_mult"),
            (LrSchedule::cosine_warm_restarts(0.1, 10, 2, nan), "eta_min"),
            (LrSchedule::linear_warmup(0.1, 0.0, 1.0, 5), "start_factor"),
            (LrSchedule::linear_warmup(0.1, 1.5, 1.0, 5), "start_factor"),
            (LrSchedule::linear_warmup(0.1, nan, 1.0, 5), "start_factor"),
            (LrSchedule::linear_warmup(0.1, 0.5, 1.1, 5), "end_factor"),
            (LrSchedule::linear_warmup(0.1, 0.5, -0.1, 5), "end_factor"),
            (LrSchedule::linear_warmup(0.1, 0.5, 1.0, 0), "total_iters"),
            (LrSchedule::one_cycle(-1.0, 10), "max_lr"),
            (LrSchedule::one_cycle(1.0, 0), "total_steps"),
            (with(|o| o.pct_start = 1.5), "pct_start"),
            (with(|o| o.pct_start = -0.1), "pct_start"),
            (with(|o| o.pct_start = f64::NAN), "pct_start"),
            (with(|o| o.div_factor = 0.0), "div_factor"),
            (with(|o| o.final_div_factor = -1.0), "final_div_factor"),
            (
                with(|o| o.final_div_factor = f64::INFINITY),
                "final_div_factor",
            ),
            (LrSchedule::polynomial(0.1, 0, 1.0), "total_iters"),
            (LrSchedule::polynomial(0.1, 5, 0.0), "power"),
            (LrSchedule::polynomial(0.1, 5, nan), "power"),
            (LrSchedule::sequential(vec![], vec![]), "schedules"),
            (LrSchedule::sequential(vec![c(), c()], vec![]), "milestones"),
            (LrSchedule::sequential(vec![c()], vec![5]), "milestones"),
            (
                LrSchedule::sequential(vec![c(), c(), c()], vec![10, 5]),
                "milestones",
            ),
            (
                LrSchedule::sequential(vec![c(), c(), c()], vec![5, 5]),
                "milestones",
            ),
            (
                LrSchedule::sequential(
                    vec![
                        c(),
                        LrSchedule::Step {
                            base_lr: 0.1,
                            step_size: 0,
                            gamma: 0.1,
                        },
                    ],
                    vec![5],
                ),
                "step_size",
            ),
        ];
        for (i, (result, name)) in cases.into_iter().enumerate() {
            assert_eq!(invalid_name(result), name, "case #{i}");
        }
        // Boundary values that are valid.
        assert!(LrSchedule::constant(0.0).is_ok());
        assert!(LrSchedule::linear_warmup(0.1, 1.0, 0.0, 1).is_ok());
        assert!(with(|o| o.pct_start = 0.0).is_ok());
        assert!(with(|o| o.pct_start = 1.0).is_ok());
        assert!(LrSchedule::sequential(vec![c(), c()], vec![0]).is_ok());
    }

    #[test]
    fn error_message_names_the_parameter() {
        let err = LrSchedule::step(0.1, 10, -2.0).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("gamma") && msg.contains("-2"), "{msg}");
    }

    #[test]
    fn unvalidated_schedules_do_not_panic() {
        let bad = [
            LrSchedule::Step {
                base_lr: 0.1,
                step_size: 0,
                gamma: 0.5,
            },
            LrSchedule::CosineWarmRestarts {
                base_lr: 0.1,
                t_0: 0,
                t_mult: 0,
                eta_min: 0.0,
            },
            LrSchedule::OneCycle {
                max_lr: 1.0,
                total_steps: 0,
                pct_start: 0.3,
                anneal_strategy: AnnealStrategy::Cos,
                div_factor: 25.0,
                final_div_factor: 1e4,
                three_phase: true,
            },
            LrSchedule::Sequential {
                schedules: vec![],
                milestones: vec![3, 1],
            },
            LrSchedule::MultiStep {
                base_lr: 1.0,
                milestones: vec![9, 1, 5],
                gamma: 0.5,
            },
        ];
        for s in &bad {
            assert!(s.validate().is_err(), "{s:?}");
            for t in [0, 1, 7, u64::MAX] {
                let _ = s.learning_rate(t);
            }
        }
    }

    fn every_variant() -> Vec<LrSchedule> {
        vec![
            LrSchedule::constant(0.1).unwrap(),
            LrSchedule::step(0.1, 30, 0.1).unwrap(),
            LrSchedule::multi_step(0.1, vec![30, 80], 0.1).unwrap(),
            LrSchedule::exponential(0.1, 0.95).unwrap(),
            LrSchedule::inverse_time(0.1, 0.01).unwrap(),
            LrSchedule::power_decay(0.1, 10.0, 0.75).unwrap(),
            LrSchedule::polyak_lojasiewicz(0.3).unwrap(),
            LrSchedule::cosine(0.1, 50, 1e-4).unwrap(),
            LrSchedule::cosine_warm_restarts(0.1, 10, 2, 1e-4).unwrap(),
            LrSchedule::linear_warmup(0.1, 1.0 / 3.0, 1.0, 5).unwrap(),
            LrSchedule::one_cycle(0.1, 100).unwrap(),
            LrSchedule::one_cycle_with(
                0.1,
                100,
                OneCycleOptions {
                    pct_start: 0.4,
                    anneal_strategy: AnnealStrategy::Linear,
                    div_factor: 10.0,
                    final_div_factor: 100.0,
                    three_phase: true,
                },
            )
            .unwrap(),
            LrSchedule::polynomial(0.1, 100, 0.9).unwrap(),
        ]
    }

    #[test]
    fn serde_round_trip() {
        let mut all = every_variant();
        let milestones = (1..all.len() as u64).map(|i| 10 * i).collect();
        let seq = LrSchedule::sequential(all.clone(), milestones).unwrap();
        all.push(seq);
        for s in &all {
            let json = serde_json::to_string(s).unwrap();
            let back: LrSchedule = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, s, "{json}");
            back.validate().unwrap();
            for t in 0..300 {
                assert_eq!(
                    back.learning_rate(t).to_bits(),
                    s.learning_rate(t).to_bits()
                );
            }
        }
    }

    #[test]
    fn serde_format_is_tagged_and_hand_writable() {
        let json = r#"{
            "kind": "sequential",
            "schedules": [
                {"kind": "linear_warmup", "base_lr": 1, "start_factor": 0.1, "end_factor": 1, "total_iters": 5},
                {"kind": "one_cycle", "max_lr": 1, "total_steps": 100, "pct_start": 0.3,
                 "anneal_strategy": "linear", "div_factor": 25, "final_div_factor": 10000,
                 "three_phase": false}
            ],
            "milestones": [5]
        }"#;
        let s: LrSchedule = serde_json::from_str(json).unwrap();
        let want = LrSchedule::sequential(
            vec![
                LrSchedule::linear_warmup(1.0, 0.1, 1.0, 5).unwrap(),
                LrSchedule::one_cycle_with(
                    1.0,
                    100,
                    OneCycleOptions {
                        anneal_strategy: AnnealStrategy::Linear,
                        ..OneCycleOptions::default()
                    },
                )
                .unwrap(),
            ],
            vec![5],
        )
        .unwrap();
        assert_eq!(s, want);
        let out = serde_json::to_string(&LrSchedule::step(0.1, 30, 0.5).unwrap()).unwrap();
        assert_eq!(
            out,
            r#"{"kind":"step","base_lr":0.1,"step_size":30,"gamma":0.5}"#
        );

        // Deserialization does not validate; `validate` does.
        let s: LrSchedule =
            serde_json::from_str(r#"{"kind":"exponential","base_lr":0.1,"gamma":-1}"#).unwrap();
        assert_eq!(invalid_name(s.validate().map(|()| s.clone())), "gamma");
    }

    #[test]
    fn trait_objects_and_wrappers() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<LrSchedule>();
        assert_send_sync::<ReduceOnPlateau>();
        assert_send_sync::<Box<dyn Schedule>>();

        let s = LrSchedule::exponential(1.0, 0.5).unwrap();
        let boxed: Vec<Box<dyn Schedule>> = every_variant()
            .into_iter()
            .map(|s| Box::new(s) as Box<dyn Schedule>)
            .collect();
        for (b, s) in boxed.iter().zip(every_variant()) {
            assert_eq!(b.learning_rate(7), s.learning_rate(7));
        }
        fn at_two(s: impl Schedule) -> f64 {
            s.learning_rate(2)
        }
        assert_eq!(at_two(&s), 0.25);
        assert_eq!(at_two(Arc::new(s.clone())), 0.25);
        assert_eq!(at_two(Box::new(s) as Box<dyn Schedule>), 0.25);
    }

    #[test]
    fn every_valid_schedule_is_finite_and_non_negative() {
        for s in every_variant() {
            for t in (0..1000).chain([u64::MAX / 2, u64::MAX]) {
                let lr = s.learning_rate(t);
                assert!(lr.is_finite() && lr >= 0.0, "{s:?} at {t}: {lr}");
            }
        }
    }
}
