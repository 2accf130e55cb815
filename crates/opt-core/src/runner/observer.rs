//! Observers: what watches a run (progress bar, JSON-lines trace, history).

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::{IterState, RunReport};
use crate::counting::Evals;
use crate::error::{OptError, Result};
use crate::scalar::Scalar;
use crate::vector::VectorSpace;

/// Called at the start (iteration 0) and after every iteration of a run.
pub trait Observer<V: VectorSpace> {
    /// See the state after an iteration; `elapsed_s` counts from the start.
    fn observe(&mut self, state: &IterState<V>, evals: &Evals, elapsed_s: f64) -> Result<()>;
    /// See the final report.
    fn finish(&mut self, _report: &RunReport<V>) -> Result<()> {
        Ok(())
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
#[derive(Debug)]
pub struct ProgressObserver {
    bar: ProgressBar,
}

impl ProgressObserver {
    /// A bar over `max_iters` iterations (a spinner when unknown).
    pub fn new(max_iters: Option<usize>) -> Self {
        let bar = match max_iters {
            Some(n) => ProgressBar::new(n as u64),
            None => ProgressBar::new_spinner(),
        };
        if std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} iters  {msg}  [{elapsed}]")
            {
                bar.set_style(style);
            }
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        Self { bar }
    }
}

impl<V: VectorSpace> Observer<V> for ProgressObserver {
    fn observe(&mut self, state: &IterState<V>, _evals: &Evals, _elapsed_s: f64) -> Result<()> {
        self.bar.set_position(state.iter as u64);
        if state.iter.is_multiple_of(16) {
            self.bar.set_message(format!(
                "f = {:.6e}  |g| = {:.3e}",
                state.f.to_f64_lossless(),
                state.grad.norm2().to_f64_lossless()
            ));
        }
        Ok(())
    }

    fn finish(&mut self, _report: &RunReport<V>) -> Result<()> {
        self.bar.finish_and_clear();
        Ok(())
    }
}

/// Problems larger than this are traced without their iterate.
pub const TRACE_MAX_DIM: usize = 1000;

#[derive(Serialize)]
struct TraceLine<'a> {
    iter: usize,
    f: f64,
    grad_norm: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<&'a [f64]>,
}

/// Writes one JSON object per line, for the start and every iteration:
/// `{"iter", "f", "grad_norm", "x"}` (`grad_norm` Euclidean; `x` only for
/// problems of dimension at most [`TRACE_MAX_DIM`]).
#[derive(Debug)]
pub struct JsonLinesTrace<W: Write> {
    writer: W,
    x_buffer: Vec<f64>,
}

impl<W: Write> JsonLinesTrace<W> {
    /// Trace into `writer` (wrap files in a `BufWriter`).
    pub fn new(writer: W) -> Self {
        Self {
            writer,
            x_buffer: Vec::new(),
        }
    }
}

fn io_error(error: impl std::fmt::Display) -> OptError {
    OptError::Problem(format!("writing the trace: {error}").into())
}

impl<T: Scalar, W: Write> Observer<ndarray::Array1<T>> for JsonLinesTrace<W> {
    fn observe(
        &mut self,
        state: &IterState<ndarray::Array1<T>>,
        _evals: &Evals,
        _elapsed_s: f64,
    ) -> Result<()> {
        let x = if state.x.len() <= TRACE_MAX_DIM {
            self.x_buffer.clear();
            self.x_buffer
                .extend(state.x.iter().map(|v| v.to_f64_lossless()));
            Some(self.x_buffer.as_slice())
        } else {
            None
        };
        let line = TraceLine {
            iter: state.iter,
            f: state.f.to_f64_lossless(),
            grad_norm: state.grad.norm2().to_f64_lossless(),
            x,
        };
        serde_json::to_writer(&mut self.writer, &line).map_err(io_error)?;
        self.writer.write_all(b"\n").map_err(io_error)
    }

    fn finish(&mut self, _report: &RunReport<ndarray::Array1<T>>) -> Result<()> {
        self.writer.flush().map_err(io_error)
    }
}

/// One point of a [`History`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistoryRecord {
    pub iter: usize,
    pub f: f64,
    pub grad_norm: f64,
    pub evals: Evals,
    pub time_s: f64,
}

/// Keeps every point of a run in memory (for reports and plots), and the
/// iterates when `keep_iterates` is set (for 2-D trajectory plots).
#[derive(Debug, Clone, Default)]
pub struct History {
    pub records: Vec<HistoryRecord>,
    pub iterates: Vec<Vec<f64>>,
    keep_iterates: bool,
}

impl History {
    /// An empty history; iterates are kept when `keep_iterates`.
    pub fn new(keep_iterates: bool) -> Self {
        Self {
            records: Vec::new(),
            iterates: Vec::new(),
            keep_iterates,
        }
    }
}

/// A [`History`] shared with the runner, read back after the run.
pub type SharedHistory = std::rc::Rc<std::cell::RefCell<History>>;

impl<T: Scalar> Observer<ndarray::Array1<T>> for SharedHistory {
    fn observe(
        &mut self,
        state: &IterState<ndarray::Array1<T>>,
        evals: &Evals,
        elapsed_s: f64,
    ) -> Result<()> {
        let mut history = self.borrow_mut();
        history.records.push(HistoryRecord {
            iter: state.iter,
            f: state.f.to_f64_lossless(),
            grad_norm: state.grad.norm2().to_f64_lossless(),
            evals: *evals,
            time_s: elapsed_s,
        });
        if history.keep_iterates {
            history
                .iterates
                .push(state.x.iter().map(|v| v.to_f64_lossless()).collect());
        }
        Ok(())
    }
}
