//! `cargo xtask <command>`: the workspace's command line.
//!
//! - `run`: one optimizer on one problem, per the contract in
//!   `docs/architecture.md` (trace file, `--json` summary);
//! - `bench`: the built-in suite, writing `report.md`, `results.json` and plots;
//! - `data`: a built-in data set written in the CSV format, for peers;
//! - `train`: a network of `opt-models` trained by any optimizer;
//! - `landscape`: a trained network's loss along a line and on a plane,
//!   with its trajectory (SVG, PNG, JSON);
//! - `ci`: what `.ci/run` does.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::{Args, Parser, Subcommand};
use opt_bench::data::export_data_set;
use opt_bench::report::{BenchOptions, run_bench};
use opt_bench::run::{DEFAULT_MAX_ITERS, RunOptions, run_specs};

mod landscape;
mod train;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Run, benchmark and check the opt workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
    /// Threads of candle's CPU kernels for `train`, `landscape` and `bench`
    /// (their RAYON_NUM_THREADS). Default: RAYON_NUM_THREADS when set, else
    /// the available cores; 0: the available cores.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Run one optimizer on one problem.
    Run(RunArgs),
    /// Run the benchmark suite on the built-in problems; write report.md,
    /// results.json and plots.
    Bench(BenchArgs),
    /// Write a built-in data set (breast-cancer, digits, synthetic) in the
    /// CSV format: features, then the label, one row per sample.
    Data(DataArgs),
    /// Train a network (mlp, cnn) on digits or an IDX directory with any
    /// optimizer; per epoch train loss, test loss, test accuracy, seconds.
    Train(train::TrainArgs),
    /// Train a network as `train` does and draw its loss landscape: along
    /// the line from the initial to the final parameters, and on a plane
    /// (random filter-normalised or PCA directions) with the trajectory.
    Landscape(landscape::LandscapeArgs),
    /// Run what CI runs: fmt, clippy, tests, the quick benchmark.
    Ci,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The problem: `name[:key=value,...]`, e.g. `rosenbrock:dim=10`,
    /// `logistic:data=breast-cancer,l2=0.001`.
    #[arg(long)]
    problem: String,
    /// The optimizer: `name[:key=value,...]`, e.g. `gd:lr=0.001`, `gd:line_search=wolfe`.
    #[arg(long)]
    optimizer: String,
    /// Maximum iterations. Without this and without --epochs the budget is
    /// 1000 iterations.
    #[arg(long)]
    max_iters: Option<usize>,
    /// Maximum effective passes over the data (sample evaluations / n).
    #[arg(long)]
    epochs: Option<f64>,
    /// Mini-batch size for stochastic optimizers (default: the full batch;
    /// 1 for sag, saga and svrg).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Stop when the gradient's infinity norm is at most G.
    #[arg(long)]
    gtol: Option<f64>,
    /// Stop when |f_prev - f| <= F max(|f_prev|, |f|, 1).
    #[arg(long)]
    ftol: Option<f64>,
    /// Seed for mini-batch sampling and stochastic methods.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop after this many seconds of wall-clock time.
    #[arg(long)]
    time_limit: Option<f64>,
    /// Write one JSON object per iteration to FILE.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Print the summary as one JSON object on the last line of stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// A CI-sized subset.
    #[arg(long)]
    quick: bool,
    /// Output folder (default target/opt-bench).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct DataArgs {
    /// The data set: breast-cancer, digits or synthetic.
    name: String,
    /// Output file (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            // clap's message without its usage block, on one line
            let text = error.to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|line| !line.starts_with("Usage:"))
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect();
            eprintln!("{}", message.join(" "));
            return ExitCode::from(2);
        }
    };
    let uses_candle = matches!(
        cli.command,
        Commands::Train(_) | Commands::Landscape(_) | Commands::Bench(_)
    );
    if uses_candle && let Some(code) = run_with_candle_threads(cli.threads) {
        return code;
    }
    let outcome = match cli.command {
        Commands::Run(args) => run(args),
        Commands::Bench(args) => bench(args),
        Commands::Data(args) => data(args),
        Commands::Train(args) => train::train(args),
        Commands::Landscape(args) => {
            landscape::landscape(args, workspace_root().join("target/opt-bench/landscape"))
        }
        Commands::Ci => ci(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// candle 0.11.1 reads its thread count from RAYON_NUM_THREADS at every
/// matrix product and, when the variable is unset, counts the CPUs again
/// each time (from /proc and the affinity mask): 8 of the 13 ms of an MLP
/// epoch on digits went there (docs/benchmarks.md). The environment of a
/// running process cannot be changed safely, so when the variable does not
/// hold the wanted count, run this same command again as a child with it
/// set and return the child's exit code. `None`: the environment already
/// fits, go on in this process.
fn run_with_candle_threads(threads: Option<usize>) -> Option<ExitCode> {
    const VARIABLE: &str = "RAYON_NUM_THREADS";
    let current = std::env::var(VARIABLE).ok();
    let available = || std::thread::available_parallelism().map_or(1, usize::from);
    let wanted = match threads {
        None if current.is_some() => return None,
        None | Some(0) => available(),
        Some(n) => n,
    }
    .to_string();
    if current.as_deref() == Some(wanted.as_str()) {
        return None;
    }
    let executable = match std::env::current_exe() {
        Ok(path) => path,
        Err(error) => {
            eprintln!("error: cannot set the thread count (no path to this program: {error})");
            return Some(ExitCode::FAILURE);
        }
    };
    let status = Command::new(executable)
        .args(std::env::args_os().skip(1))
        .env(VARIABLE, &wanted)
        .status();
    match status {
        Ok(status) => Some(match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::FAILURE,
        }),
        Err(error) => {
            eprintln!(
                "error: cannot set the thread count (cannot run this program again: {error})"
            );
            Some(ExitCode::FAILURE)
        }
    }
}

fn run(args: RunArgs) -> Result<(), String> {
    let options = RunOptions {
        max_iters: args.max_iters,
        epochs: args.epochs,
        batch_size: args.batch_size,
        gtol: args.gtol,
        ftol: args.ftol,
        seed: args.seed,
        time_limit_s: args.time_limit,
        trace: args.trace,
        progress: !args.json,
        keep_history: false,
        ..RunOptions::default()
    };
    let record = run_specs(&args.problem, &args.optimizer, &options).map_err(|e| e.to_string())?;
    if args.json {
        let line = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        println!("{line}");
    } else {
        println!("problem     {}", record.problem);
        println!("optimizer   {}", record.optimizer);
        println!(
            "stopped     {} after {} iterations",
            record.stop_reason, record.iterations
        );
        println!("f           {:.12e}", record.f);
        println!(
            "|grad|_2    {:.6e}   |grad|_inf {:.6e}",
            record.grad_norm, record.grad_inf
        );
        let e = record.evals;
        println!(
            "evals       f {}  grad {}  hvp {}  jac {}  samples {}",
            e.f, e.grad, e.hvp, e.jac, e.samples
        );
        println!("time        {:.3} s", record.time_s);
        if let Some(errors) = &record.standard_errors {
            for (j, (value, error)) in record.x.iter().zip(errors).enumerate() {
                println!("x{:<10} {value:.10e} +/- {error:.4e}", j + 1);
            }
        }
    }
    Ok(())
}

fn bench(args: BenchArgs) -> Result<(), String> {
    let out = args
        .out
        .unwrap_or_else(|| workspace_root().join("target/opt-bench"));
    let options = BenchOptions {
        quick: args.quick,
        out_dir: out.clone(),
    };
    let summary = run_bench(&options).map_err(|e| e.to_string())?;
    println!(
        "{} runs; wrote {}",
        summary.runs,
        summary
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn data(args: DataArgs) -> Result<(), String> {
    let exported = match &args.out {
        Some(path) => {
            let file =
                File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            export_data_set(
                &args.name,
                &mut BufWriter::new(file),
                &path.display().to_string(),
            )
        }
        None => export_data_set(
            &args.name,
            &mut BufWriter::new(std::io::stdout().lock()),
            "standard output",
        ),
    };
    exported.map_err(|e| e.to_string())
}

/// The steps of `.ci/run`, in order.
const CI_STEPS: &[&[&str]] = &[
    &["fmt", "--all", "--check"],
    &[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ],
    &["test", "--workspace"],
    // Needs the system's OpenBLAS (`libopenblas-dev`, which `.ci/run` installs).
    &["test", "-p", "opt-second-order", "--features", "lapack"],
    &["xtask", "bench", "--quick"],
];

fn ci() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for step in CI_STEPS {
        eprintln!("==> cargo {}", step.join(" "));
        let status = Command::new(&cargo)
            .args(*step)
            .current_dir(workspace_root())
            .status()
            .map_err(|e| format!("cannot start cargo: {e}"))?;
        if !status.success() {
            return Err(format!("`cargo {}` failed ({status})", step.join(" ")));
        }
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

// Keep the documented default in one place.
const _: () = assert!(DEFAULT_MAX_ITERS == 1000);
