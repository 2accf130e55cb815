//! Reduce-on-plateau: the one schedule that keeps state.
//!
//! Source: PyTorch `torch.optim.lr_scheduler.ReduceLROnPlateau`, with its
//! names, defaults and exact bookkeeping. After each metric:
//!
//! 1. if the metric is better than `best` (see [`ThresholdMode`]), it becomes
//!    `best` and `num_bad_epochs = 0`; otherwise `num_bad_epochs += 1` (a NaN
//!    metric is never better);
//! 2. while in cooldown (`cooldown_counter > 0`), `cooldown_counter -= 1` and
//!    `num_bad_epochs = 0`;
//! 3. if `num_bad_epochs > patience`, then `new = max(lr * factor, min_lr)`,
//!    taken only if `lr - new > eps`; `cooldown_counter = cooldown` and
//!    `num_bad_epochs = 0`.
//!
//! So with `patience = p` the rate is cut on the `(p + 1)`-th bad metric in a
//! row, and after a cut the next `cooldown` metrics count for nothing.

use serde::{Deserialize, Serialize};

use crate::error::{OptError, Result};

/// Whether the monitored metric should go down or up (PyTorch's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlateauMode {
    /// The metric should decrease (a loss). The default.
    #[default]
    Min,
    /// The metric should increase (an accuracy).
    Max,
}

/// How `threshold` turns `best` into the bar a new metric must pass
/// (PyTorch's `threshold_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    /// Better means `< best * (1 - threshold)` in `Min` mode and
    /// `> best * (1 + threshold)` in `Max` mode. The default.
    #[default]
    Rel,
    /// Better means `< best - threshold` in `Min` mode and
    /// `> best + threshold` in `Max` mode.
    Abs,
}

/// The hyperparameters of [`ReduceOnPlateau`], with PyTorch's names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlateauConfig {
    /// Minimize or maximize the metric. Default [`PlateauMode::Min`].
    pub mode: PlateauMode,
    /// `new_lr = lr * factor`, in `[0, 1)`. Default 0.1.
    pub factor: f64,
    /// Bad metrics in a row tolerated before a cut. Default 10.
    pub patience: u64,
    /// Margin a metric must beat `best` by, finite and `>= 0`. Default 1e-4.
    pub threshold: f64,
    /// Relative or absolute margin. Default [`ThresholdMode::Rel`].
    pub threshold_mode: ThresholdMode,
    /// Metrics ignored after a cut. Default 0.
    pub cooldown: u64,
    /// Lower bound on the learning rate, finite and `>= 0`. Default 0.
    pub min_lr: f64,
    /// Cuts smaller than this are skipped, finite and `>= 0`. Default 1e-8.
    pub eps: f64,
}

impl Default for PlateauConfig {
    fn default() -> Self {
        PlateauConfig {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

impl PlateauConfig {
    /// `Ok(())` if every field is in its documented range.
    pub fn validate(&self) -> Result<()> {
        if !(self.factor >= 0.0 && self.factor < 1.0) {
            return Err(OptError::invalid(
                "factor",
                self.factor,
                "must be in [0, 1)",
            ));
        }
        finite_non_negative("threshold", self.threshold)?;
        finite_non_negative("min_lr", self.min_lr)?;
        finite_non_negative("eps", self.eps)
    }
}

/// Cuts the learning rate when a metric stops improving (PyTorch's
/// `ReduceLROnPlateau`, one parameter group).
///
/// Unlike the [`Schedule`](super::Schedule)s, it is driven by metrics, not by
/// the step: call [`step`](ReduceOnPlateau::step) once per evaluation and use
/// the rate it returns. It serializes with its state, so a resumed run cuts at
/// the same points. (JSON has no infinities: a `best` of `±inf`, reachable only
/// by feeding an infinite metric, does not survive a JSON round trip.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReduceOnPlateau {
    config: PlateauConfig,
    lr: f64,
    /// `None` until a metric has been better than the mode's worst value
    /// (PyTorch's `mode_worse`, `±inf`).
    best: Option<f64>,
    num_bad_epochs: u64,
    cooldown_counter: u64,
    last_epoch: u64,
}

impl ReduceOnPlateau {
    /// A scheduler starting at `initial_lr` (finite, `>= 0`).
    pub fn new(initial_lr: f64, config: PlateauConfig) -> Result<Self> {
        finite_non_negative("initial_lr", initial_lr)?;
        config.validate()?;
        Ok(ReduceOnPlateau {
            config,
            lr: initial_lr,
            best: None,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
        })
    }

    /// Records `metric` and returns the learning rate to use from now on.
    pub fn step(&mut self, metric: f64) -> f64 {
        self.last_epoch = self.last_epoch.saturating_add(1);
        if self.is_better(metric) {
            self.best = Some(metric);
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs = self.num_bad_epochs.saturating_add(1);
        }
        if self.in_cooldown() {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.config.patience {
            self.reduce_lr();
            self.cooldown_counter = self.config.cooldown;
            self.num_bad_epochs = 0;
        }
        self.lr
    }

    /// The current learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.lr
    }

    /// The hyperparameters.
    pub fn config(&self) -> &PlateauConfig {
        &self.config
    }

    /// The best metric seen, `None` before the first non-NaN one.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// Bad metrics in a row since the last improvement, cut or cooldown.
    pub fn num_bad_epochs(&self) -> u64 {
        self.num_bad_epochs
    }

    /// Metrics still to be ignored after the last cut.
    pub fn cooldown_counter(&self) -> u64 {
        self.cooldown_counter
    }

    /// Whether the next metric falls in the cooldown after a cut.
    pub fn in_cooldown(&self) -> bool {
        self.cooldown_counter > 0
    }

    /// How many metrics have been recorded.
    pub fn last_epoch(&self) -> u64 {
        self.last_epoch
    }

    /// Forgets `best`, the bad-metric count and the cooldown, keeping the
    /// current learning rate (PyTorch's `_reset`).
    pub fn reset(&mut self) {
        self.best = None;
        self.num_bad_epochs = 0;
        self.cooldown_counter = 0;
    }

    fn is_better(&self, metric: f64) -> bool {
        let c = &self.config;
        let best = self.best.unwrap_or(match c.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        });
        match (c.mode, c.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => metric < best * (1.0 - c.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => metric < best - c.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => metric > best * (c.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => metric > best + c.threshold,
        }
    }

    fn reduce_lr(&mut self) {
        let new_lr = (self.lr * self.config.factor).max(self.config.min_lr);
        if self.lr - new_lr > self.config.eps {
            self.lr = new_lr;
        }
    }
}

fn finite_non_negative(name: &'static str, value: f64) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() <= 1e-12 * want.abs() + 1e-300
    }

    /// Feeds `metrics` one by one and checks the rate after each.
    fn run(sched: &mut ReduceOnPlateau, metrics: &[f64], want: &[f64]) {
        assert_eq!(metrics.len(), want.len());
        for (i, (&m, &w)) in metrics.iter().zip(want).enumerate() {
            let got = sched.step(m);
            assert!(close(got, w), "metric #{i} = {m}: lr {got}, want {w}");
            assert_eq!(got, sched.learning_rate());
        }
    }

    fn config(f: impl FnOnce(&mut PlateauConfig)) -> PlateauConfig {
        let mut c = PlateauConfig::default();
        f(&mut c);
        c
    }

    #[test]
    fn defaults_are_pytorchs() {
        let c = PlateauConfig::default();
        assert_eq!(c.mode, PlateauMode::Min);
        assert_eq!(c.factor, 0.1);
        assert_eq!(c.patience, 10);
        assert_eq!(c.threshold, 1e-4);
        assert_eq!(c.threshold_mode, ThresholdMode::Rel);
        assert_eq!(c.cooldown, 0);
        assert_eq!(c.min_lr, 0.0);
        assert_eq!(c.eps, 1e-8);
    }

    #[test]
    fn patience_counts_bad_metrics_in_a_row() {
        // patience 2: the third bad metric in a row cuts; an improvement resets.
        let c = config(|c| {
            c.patience = 2;
            c.factor = 0.5;
            c.threshold = 0.0;
        });
        let mut s = ReduceOnPlateau::new(1.0, c).unwrap();
        let metrics = [10.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 8.0, 8.0];
        let bad = [0, 0, 1, 2, 0, 1, 2, 0, 0, 1];
        let want = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25];
        for i in 0..metrics.len() {
            let lr = s.step(metrics[i]);
            assert!(close(lr, want[i]), "step {i}: {lr} vs {}", want[i]);
            assert_eq!(s.num_bad_epochs(), bad[i], "step {i}");
        }
        assert_eq!(s.best(), Some(8.0));
        assert_eq!(s.last_epoch(), 10);
    }

    #[test]
    fn default_relative_threshold() {
        // best 1.0: better needs < 1.0 * (1 - 1e-4) = 0.9999. With patience 0,
        // 0.99995 is bad (cut to 0.1), 0.9998 is better (kept).
        let c = config(|c| c.patience = 0);
        let mut s = ReduceOnPlateau::new(1.0, c).unwrap();
        run(&mut s, &[1.0, 0.99995, 0.9998], &[1.0, 0.1, 0.1]);
        assert_eq!(s.best(), Some(0.9998));
    }

    #[test]
    fn threshold_rel_versus_abs() {
        // threshold 0.1, patience 0, factor 0.1.
        // rel: better means < 0.9 best.   abs: better means < best - 0.1.
        //   100  : both better (best = 100)
        //   95   : rel 95 < 90 no -> cut;  abs 95 < 99.9 yes (best 95)
        //   0.5  : rel yes (best 0.5);     abs yes (best 0.5)
        //   0.44 : rel 0.44 < 0.45 yes;    abs 0.44 < 0.4 no -> cut
        let metrics = [100.0, 95.0, 0.5, 0.44];
        let rel = config(|c| {
            c.patience = 0;
            c.threshold = 0.1;
            c.threshold_mode = ThresholdMode::Rel;
        });
        let abs = PlateauConfig {
            threshold_mode: ThresholdMode::Abs,
            ..rel
        };
        let mut s = ReduceOnPlateau::new(1.0, rel).unwrap();
        run(&mut s, &metrics, &[1.0, 0.1, 0.1, 0.1]);
        assert_eq!(s.best(), Some(0.44));
        let mut s = ReduceOnPlateau::new(1.0, abs).unwrap();
        run(&mut s, &metrics, &[1.0, 1.0, 1.0, 0.1]);
        assert_eq!(s.best(), Some(0.5));
    }

    #[test]
    fn cooldown_ignores_metrics_after_a_cut() {
        // patience 1, factor 0.5, a flat metric.
        // Without cooldown a cut every 2 bad metrics: at #3, #5, #7, ...
        // With cooldown 2, the 2 metrics after a cut count for nothing, so
        // cuts come at #3, #7, #11.
        let flat = [5.0; 11];
        let base = config(|c| {
            c.patience = 1;
            c.factor = 0.5;
        });
        let mut s = ReduceOnPlateau::new(1.0, base).unwrap();
        run(
            &mut s,
            &flat,
            &[
                1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625, 0.0625, 0.03125,
            ],
        );
        let mut s = ReduceOnPlateau::new(
            1.0,
            PlateauConfig {
                cooldown: 2,
                ..base
            },
        )
        .unwrap();
        let counters = [0, 0, 2, 1, 0, 0, 2, 1, 0, 0, 2];
        let want = [1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125];
        for i in 0..flat.len() {
            let lr = s.step(flat[i]);
            assert!(close(lr, want[i]), "step {i}: {lr} vs {}", want[i]);
            assert_eq!(s.cooldown_counter(), counters[i], "step {i}");
        }
    }

    #[test]
    fn improvement_during_cooldown_still_updates_best() {
        let c = config(|c| {
            c.patience = 0;
            c.cooldown = 3;
            c.threshold = 0.0;
        });
        let mut s = ReduceOnPlateau::new(1.0, c).unwrap();
        run(&mut s, &[2.0, 3.0, 1.0], &[1.0, 0.1, 0.1]);
        assert_eq!(s.best(), Some(1.0));
        assert_eq!(s.cooldown_counter(), 2);
    }

    #[test]
    fn min_lr_bounds_and_eps_skips_tiny_cuts() {
        // factor 0.1, patience 0: 1 -> 0.1 -> max(0.01, 0.015) -> stays.
        let c = config(|c| {
            c.patience = 0;
            c.min_lr = 0.015;
        });
        let mut s = ReduceOnPlateau::new(1.0, c).unwrap();
        run(
            &mut s,
            &[1.0, 1.0, 1.0, 1.0, 1.0],
            &[1.0, 0.1, 0.015, 0.015, 0.015],
        );

        // A cut of 1e-8 -> 5e-9 changes the rate by 5e-9 <= eps = 1e-8: skipped.
        let c = config(|c| {
            c.patience = 0;
            c.factor = 0.5;
        });
        let mut s = ReduceOnPlateau::new(1e-8, c).unwrap();
        run(&mut s, &[1.0, 1.0, 1.0], &[1e-8, 1e-8, 1e-8]);
        // With eps = 0 it is taken.
        let mut s = ReduceOnPlateau::new(1e-8, PlateauConfig { eps: 0.0, ..c }).unwrap();
        run(&mut s, &[1.0, 1.0, 1.0], &[1e-8, 5e-9, 2.5e-9]);
    }

    #[test]
    fn max_mode() {
        // threshold 0.1 rel: better means > 1.1 best. patience 0, factor 0.5.
        //   1.0 better (best 1); 1.05 < 1.1 -> cut; 1.2 > 1.1 better (best 1.2);
        //   1.25 < 1.32 -> cut; 1.4 > 1.32 better.
        let c = config(|c| {
            c.mode = PlateauMode::Max;
            c.patience = 0;
            c.factor = 0.5;
            c.threshold = 0.1;
        });
        let mut s = ReduceOnPlateau::new(1.0, c).unwrap();
        run(
            &mut s,
            &[1.0, 1.05, 1.2, 1.25, 1.4],
            &[1.0, 0.5, 0.5, 0.25, 0.25],
        );
        assert_eq!(s.best(), Some(1.4));

        // abs: better means > best + 0.1.
        let mut s = ReduceOnPlateau::new(
            1.0,
            PlateauConfig {
                threshold_mode: ThresholdMode::Abs,
                ..c
            },
        )
        .unwrap();
        run(
            &mut s,
            &[1.0, 1.05, 1.2, 1.25, 1.4],
            &[1.0, 0.5, 0.5, 0.25, 0.25],
        );
        // In max mode a falling metric is bad.
        let mut s = ReduceOnPlateau::new(1.0, c).unwrap();
        run(&mut s, &[3.0, 2.0, 1.0], &[1.0, 0.5, 0.25]);
        // An equal metric is not better, whatever the mode, even at threshold 0.
        for mode in [PlateauMode::Max, PlateauMode::Min] {
            for threshold_mode in [ThresholdMode::Rel, ThresholdMode::Abs] {
                let c = PlateauConfig {
                    mode,
                    threshold_mode,
                    threshold: 0.0,
                    ..c
                };
                let mut s = ReduceOnPlateau::new(1.0, c).unwrap();
                run(&mut s, &[2.0, 2.0], &[1.0, 0.5]);
                assert_eq!(s.num_bad_epochs(), 0);
            }
        }
    }

    #[test]
    fn nan_metric_is_not_better() {
        let c = config(|c| c.patience = 0);
        let mut s = ReduceOnPlateau::new(1.0, c).unwrap();
        // A NaN first metric is bad and leaves `best` unset; the next finite
        // metric is then better than +inf.
        run(&mut s, &[f64::NAN, 5.0, f64::NAN], &[0.1, 0.1, 0.01]);
        assert_eq!(s.best(), Some(5.0));

        let c = config(|c| {
            c.patience = 1;
            c.mode = PlateauMode::Max;
        });
        let mut s = ReduceOnPlateau::new(1.0, c).unwrap();
        run(&mut s, &[1.0, f64::NAN, f64::NAN], &[1.0, 1.0, 0.1]);
    }

    #[test]
    fn reset_forgets_best_but_keeps_lr() {
        let c = config(|c| {
            c.patience = 0;
            c.cooldown = 5;
        });
        let mut s = ReduceOnPlateau::new(1.0, c).unwrap();
        run(&mut s, &[1.0, 2.0], &[1.0, 0.1]);
        s.reset();
        assert_eq!(s.best(), None);
        assert_eq!(s.cooldown_counter(), 0);
        assert_eq!(s.num_bad_epochs(), 0);
        assert_eq!(s.learning_rate(), 0.1);
        // 50 is better than the forgotten best (+inf).
        assert_eq!(s.step(50.0), 0.1);
        assert_eq!(s.best(), Some(50.0));
    }

    #[test]
    fn invalid_hyperparameters() {
        let named = |r: Result<ReduceOnPlateau>| match r {
            Err(OptError::InvalidHyperparameter { name, .. }) => name,
            other => panic!("expected an invalid hyperparameter, got {other:?}"),
        };
        let ok = PlateauConfig::default();
        assert_eq!(named(ReduceOnPlateau::new(-1.0, ok)), "initial_lr");
        assert_eq!(named(ReduceOnPlateau::new(f64::NAN, ok)), "initial_lr");
        for factor in [1.0, 1.5, -0.1, f64::NAN] {
            let c = PlateauConfig { factor, ..ok };
            assert_eq!(named(ReduceOnPlateau::new(1.0, c)), "factor");
        }
        let c = PlateauConfig {
            threshold: -1e-4,
            ..ok
        };
        assert_eq!(named(ReduceOnPlateau::new(1.0, c)), "threshold");
        let c = PlateauConfig {
            min_lr: f64::INFINITY,
            ..ok
        };
        assert_eq!(named(ReduceOnPlateau::new(1.0, c)), "min_lr");
        let c = PlateauConfig { eps: -1.0, ..ok };
        assert_eq!(named(ReduceOnPlateau::new(1.0, c)), "eps");
        assert!(ReduceOnPlateau::new(0.0, PlateauConfig { factor: 0.0, ..ok }).is_ok());
    }

    #[test]
    fn serde_round_trip_resumes_identically() {
        let c = config(|c| {
            c.patience = 1;
            c.cooldown = 1;
            c.mode = PlateauMode::Max;
            c.threshold_mode = ThresholdMode::Abs;
        });
        let fresh = ReduceOnPlateau::new(0.3, c).unwrap();
        let json = serde_json::to_string(&fresh).unwrap();
        assert!(json.contains("\"mode\":\"max\""), "{json}");
        assert!(json.contains("\"threshold_mode\":\"abs\""), "{json}");
        let back: ReduceOnPlateau = serde_json::from_str(&json).unwrap();
        assert_eq!(back, fresh);

        let mut a = fresh;
        for m in [0.5, 0.4, 0.4, 0.6] {
            a.step(m);
        }
        let mut b: ReduceOnPlateau =
            serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(a, b);
        for m in [0.6, 0.6, 0.6, 0.9, 0.1, 0.1, 0.1] {
            assert_eq!(a.step(m).to_bits(), b.step(m).to_bits());
        }
        assert_eq!(a, b);
    }
}
