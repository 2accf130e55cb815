//! `cargo xtask landscape`: train a network as `cargo xtask train` does,
//! keeping its parameters at the start and after every epoch (the
//! trajectory), then draw its loss landscape (Li et al. 2018,
//! `opt_models::landscape`):
//!
//! - `landscape-line.{svg,png}`: the training loss (whole training set,
//!   the objective that was minimised) and the test accuracy along
//!   `theta(t) = (1 - t) theta_0 + t theta_E` from the initial to the
//!   final parameters, `t` in `[-0.5, 1.5]` at `4 ceil(N / 2) + 1` points
//!   for `--resolution N` (53 for the default 25; `t = 0` and `t = 1`
//!   among them);
//! - `landscape-plane.{svg,png}`: `log10` of the training loss on the
//!   plane `theta_E + alpha d1 + beta d2`, `--resolution` points per axis,
//!   with the trajectory projected on it. `--directions random` (default):
//!   two filter-normalised Gaussian directions (seeded by `--seed`), the
//!   grid `[-span, span]^2`; most of a trajectory lies outside such a
//!   plane, and the fraction that does is printed and written. `pca`: the
//!   two principal directions of `theta_k - theta_E`, the grid the box
//!   around the projected trajectory and `theta_E`, widened by 15% on each
//!   side and scaled by `--span`;
//! - `landscape.json`: the settings, the per-epoch records, the line, the
//!   grid of losses (`loss[j][i]` at `(alphas[i], betas[j])`), the
//!   trajectory's coordinates and residual fractions, and the seconds each
//!   part took.
//!
//! `--eval-samples N` evaluates the line and the plane on the first `N`
//! training samples instead of all of them (training uses all).

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Var;
use clap::Args;
use ndarray::Array1;
use opt_bench::landscape_plot::{HeatMapChart, LineChart, PathStyle, Shading};
use opt_bench::plot::{Series, write_chart};
use opt_core::Objective as _;
use opt_models::landscape::{
    LINE_END, LINE_START, along_line, flat_parameters, linspace, loss_surface, pca_directions,
    project_trajectory, random_directions,
};
use opt_models::loss::Loss;
use opt_models::network::Network;
use opt_models::train::{EpochRecord, evaluate, objective_on};
use serde_json::json;

use crate::train::{RunArgs, TrainArgs, build_network, load_data, run_optimizer};

/// Most grid points per axis of the plane.
const MAX_RESOLUTION: usize = 201;

/// Widening of the PCA plane's box around the trajectory, per side.
const PCA_MARGIN: f64 = 0.15;

#[derive(Debug, Args)]
pub struct LandscapeArgs {
    #[command(flatten)]
    run: RunArgs,
    /// The plane's directions: `random` (filter-normalised Gaussian) or
    /// `pca` (principal directions of the trajectory).
    #[arg(long, default_value = "random")]
    directions: String,
    /// Grid points per axis of the plane.
    #[arg(long, value_name = "N", default_value_t = 25)]
    resolution: usize,
    /// Half-width of the plane's grid (random directions), or the scale of
    /// the box around the trajectory (pca).
    #[arg(long, value_name = "R", default_value_t = 1.0)]
    span: f64,
    /// Evaluate the line and the plane on the first N training samples
    /// (default: all); training always uses the whole set. Each grid point
    /// costs one forward pass over them, so a CNN on MNIST wants a few
    /// thousand.
    #[arg(long, value_name = "N")]
    eval_samples: Option<usize>,
    /// Output folder (default target/opt-bench/landscape).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// How the plane is spanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directions {
    Random,
    Pca,
}

/// Run `cargo xtask landscape`, writing into `args.out` or `default_out`;
/// an error is the one line to print.
pub fn landscape(args: LandscapeArgs, default_out: PathBuf) -> Result<(), String> {
    let directions = match args.directions.as_str() {
        "random" => Directions::Random,
        "pca" => Directions::Pca,
        other => {
            return Err(format!(
                "unknown --directions `{other}`; expected random or pca"
            ));
        }
    };
    if args.eval_samples == Some(0) {
        return Err("invalid --eval-samples 0: must be at least 1".into());
    }
    if args.resolution < 2 || args.resolution > MAX_RESOLUTION {
        return Err(format!(
            "invalid --resolution {}: must be between 2 and {MAX_RESOLUTION}",
            args.resolution
        ));
    }
    if !(args.span.is_finite() && args.span > 0.0) {
        return Err(format!(
            "invalid --span {}: must be a positive number",
            args.span
        ));
    }
    let spec = args.run.checked_spec()?;
    if directions == Directions::Pca && args.run.epochs < 2 {
        return Err(
            "--directions pca needs --epochs 2 or more (the trajectory must span a plane)".into(),
        );
    }
    let out = args.out.clone().unwrap_or(default_out);
    let text = |e: &dyn std::fmt::Display| e.to_string();

    // train, recording the parameters at the start and after every epoch
    let started = Instant::now();
    let (train_set, test_set) = load_data(&args.run.data)?;
    let device = candle_core::Device::Cpu;
    let network = build_network(&args.run.model, &train_set, args.run.seed, &device)?;
    let objective =
        objective_on(network, Loss::cross_entropy(), &train_set).map_err(|e| text(&e))?;
    // the same storage as the network's: the training loop writes each
    // epoch's parameters into it before calling back
    let vars: Vec<Var> = objective.network().parameters().to_vec();
    let mut trajectory: Vec<Array1<f32>> = vec![flat_parameters(&vars).map_err(|e| text(&e))?];
    let mut records: Vec<EpochRecord> = Vec::new();
    let mut snapshot_error = None;
    println!(
        "{:>5}  {:>11}  {:>10}  {:>8}",
        "epoch", "train_loss", "test_loss", "test_acc"
    );
    let train_args = TrainArgs::plain(args.run.clone());
    let report = run_optimizer(&spec, objective, &test_set, &train_args, |record| {
        println!(
            "{:>5}  {:>11.6}  {:>10.6}  {:>8.4}",
            record.epoch, record.train_loss, record.test_loss, record.test_accuracy
        );
        match flat_parameters(&vars) {
            Ok(point) => trajectory.push(point),
            Err(error) => {
                snapshot_error.get_or_insert(error);
            }
        }
        records.push(record.clone());
    })?;
    if let Some(error) = snapshot_error {
        return Err(format!("cannot read the parameters: {error}"));
    }
    if let Some(reason) = &report.stopped_early {
        println!("stopped early: {reason}");
    }
    let training_s = started.elapsed().as_secs_f64();
    let last = trajectory.len() - 1;
    let (start_point, end_point) = (&trajectory[0], &trajectory[last]);

    // a fresh objective on the training data (or its first samples) to
    // evaluate anywhere
    let eval_set = match args.eval_samples {
        Some(count) if count < train_set.len() => train_set
            .subset(&(0..count).collect::<Vec<_>>())
            .map_err(|e| text(&e))?,
        _ => train_set.clone(),
    };
    let network = build_network(&args.run.model, &train_set, args.run.seed, &device)?;
    let objective =
        objective_on(network, Loss::cross_entropy(), &eval_set).map_err(|e| text(&e))?;

    let started = Instant::now();
    // 2N points or a few more, a multiple of 4 plus one so that t = 0 and
    // t = 1 are on the grid
    let line_points = 4 * args.resolution.div_ceil(2) + 1;
    let ts = linspace(LINE_START, LINE_END, line_points).map_err(|e| text(&e))?;
    let line = along_line(start_point, end_point, &ts, |_, theta| {
        let loss = f64::from(objective.value(theta)?);
        objective.load_parameters(theta)?;
        let tested = evaluate(objective.network(), objective.loss(), &test_set)?;
        Ok((loss, tested.loss, tested.accuracy))
    })
    .map_err(|e| text(&e))?;
    let line_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let (d1, d2, explained) = match directions {
        Directions::Random => {
            let [d1, d2] = random_directions(objective.slots(), end_point, args.run.seed)
                .map_err(|e| text(&e))?;
            (d1, d2, None)
        }
        Directions::Pca => {
            let pca = pca_directions(end_point, &trajectory).map_err(|e| text(&e))?;
            let [d1, d2] = pca.directions;
            (d1, d2, Some(pca.explained))
        }
    };
    let projection =
        project_trajectory(end_point, [&d1, &d2], &trajectory).map_err(|e| text(&e))?;
    let (alphas, betas) = match directions {
        Directions::Random => {
            let grid = linspace(-args.span, args.span, args.resolution).map_err(|e| text(&e))?;
            (grid.clone(), grid)
        }
        Directions::Pca => {
            let axis = |index: usize| {
                let (mut low, mut high) = (0.0_f64, 0.0_f64);
                for point in &projection.coordinates {
                    (low, high) = (low.min(point[index]), high.max(point[index]));
                }
                let (middle, half) = (0.5 * (low + high), 0.5 * (high - low));
                let half = args.span * half.max(f64::MIN_POSITIVE) * (1.0 + 2.0 * PCA_MARGIN);
                linspace(middle - half, middle + half, args.resolution).map_err(|e| text(&e))
            };
            (axis(0)?, axis(1)?)
        }
    };
    let surface =
        loss_surface(&objective, end_point, [&d1, &d2], &alphas, &betas).map_err(|e| text(&e))?;
    let trajectory_losses: Vec<f64> = trajectory
        .iter()
        .map(|theta| objective.value(theta).map(f64::from))
        .collect::<Result<_, _>>()
        .map_err(|e| text(&e))?;
    let plane_s = started.elapsed().as_secs_f64();

    // pictures and numbers
    let started = Instant::now();
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let describe = match directions {
        Directions::Random => "filter-normalised random directions",
        Directions::Pca => "principal directions of the trajectory",
    };
    let mut files = Vec::new();
    let loss_series = [Series {
        label: "training loss".into(),
        points: ts.iter().zip(&line).map(|(&t, p)| (t, p.0)).collect(),
    }];
    let accuracy_series = [Series {
        label: "test accuracy (right)".into(),
        points: ts.iter().zip(&line).map(|(&t, p)| (t, p.2)).collect(),
    }];
    let line_title = format!(
        "{} on {}, {}: from initial (t = 0) to final (t = 1) parameters",
        args.run.model, args.run.data, args.run.optimizer
    );
    let line_chart = LineChart {
        title: &line_title,
        x_label: "t in (1 - t) theta_0 + t theta_final",
        y_label: "training loss (log scale)",
        series: &loss_series,
        log_y: true,
        secondary: Some(("test accuracy", &accuracy_series, (0.0, 1.0))),
        marks: &[(0.0, " initial"), (1.0, " final")],
    };
    files.extend(write_chart(&line_chart, &out.join("landscape-line")).map_err(|e| text(&e))?);
    let log_values: Vec<Vec<f64>> = surface
        .values
        .iter()
        .map(|row| row.iter().map(|v| v.log10()).collect())
        .collect();
    let path = [Series {
        label: String::new(),
        points: projection
            .coordinates
            .iter()
            .map(|c| (c[0], c[1]))
            .collect(),
    }];
    let plane_title = format!(
        "{}, {}: {}; {:.2}% of the path outside the plane",
        args.run.model,
        args.run.optimizer,
        match directions {
            Directions::Random => "random directions",
            Directions::Pca => "PCA directions",
        },
        100.0 * projection.residual_fraction
    );
    let plane_chart = HeatMapChart {
        title: &plane_title,
        x_label: "alpha (first direction)",
        y_label: "beta (second direction)",
        value_label: "log10 training loss",
        xs: &surface.alphas,
        ys: &surface.betas,
        values: &log_values,
        levels: 12,
        banded: false,
        shading: Shading::Viridis,
        paths: &path,
        path_style: PathStyle {
            mark_points: true,
            label_ends: true,
            mark_last: false,
        },
        marks: &[],
    };
    files.extend(write_chart(&plane_chart, &out.join("landscape-plane")).map_err(|e| text(&e))?);
    let plots_s = started.elapsed().as_secs_f64();
    let summary = json!({
        "model": args.run.model,
        "data": args.run.data,
        "optimizer": args.run.optimizer,
        "epochs": args.run.epochs,
        "batch_size": args.run.batch_size,
        "accumulate": args.run.accumulate,
        "seed": args.run.seed,
        "directions": args.directions,
        "resolution": args.resolution,
        "span": args.span,
        "eval_samples": eval_set.len(),
        "parameters": end_point.len(),
        "records": records,
        "stopped_early": report.stopped_early,
        "line": {
            "t": ts,
            "train_loss": line.iter().map(|p| p.0).collect::<Vec<_>>(),
            "test_loss": line.iter().map(|p| p.1).collect::<Vec<_>>(),
            "test_accuracy": line.iter().map(|p| p.2).collect::<Vec<_>>(),
        },
        "plane": {
            "alphas": surface.alphas,
            "betas": surface.betas,
            "train_loss": surface.values,
            "pca_explained": explained,
        },
        "trajectory": {
            "coordinates": projection.coordinates,
            "train_loss": trajectory_losses,
            "residual_fractions": projection.residual_fractions,
            "residual_fraction": projection.residual_fraction,
        },
        "seconds": {
            "training": training_s,
            "line": line_s,
            "plane": plane_s,
            "plots": plots_s,
        },
    });
    let json_path = out.join("landscape.json");
    write_json(&json_path, &summary)?;
    files.push(json_path);
    println!(
        "trajectory: {:.2}% of its squared distance to the final point lies outside the plane \
         ({describe})",
        100.0 * projection.residual_fraction
    );
    if let Some([first, second]) = explained {
        println!(
            "principal directions explain {:.1}% and {:.1}%",
            100.0 * first,
            100.0 * second
        );
    }
    println!(
        "seconds: training {training_s:.2}, line {line_s:.2}, plane {plane_s:.2}, plots {plots_s:.2}"
    );
    println!(
        "wrote {}",
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
