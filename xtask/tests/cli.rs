//! The `cargo xtask run` contract, exercised through the binary.

mod support;

use serde_json::Value;
use support::{assert_one_line_error, last_json_line, xtask};

#[test]
fn a_traced_run_writes_the_start_and_every_iteration() {
    let trace = support::scratch("cli", "rosenbrock.jsonl");
    let output = xtask(&[
        "run",
        "--problem",
        "rosenbrock",
        "--optimizer",
        "gd:lr=0.001",
        "--max-iters",
        "10",
        "--trace",
        trace.to_str().expect("utf-8 path"),
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = last_json_line(&output);
    for key in [
        "problem",
        "optimizer",
        "iterations",
        "f",
        "grad_norm",
        "grad_inf",
        "x",
        "evals",
        "converged",
        "stop_reason",
        "time_s",
    ] {
        assert!(summary.get(key).is_some(), "summary lacks {key}: {summary}");
    }
    for key in ["f", "grad", "hvp", "jac", "samples"] {
        assert!(summary["evals"].get(key).is_some(), "evals lacks {key}");
    }
    assert_eq!(summary["iterations"], 10);
    assert_eq!(summary["stop_reason"], "max_iterations");
    assert_eq!(summary["converged"], false);

    let text = std::fs::read_to_string(&trace).expect("trace written");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 11);
    for (k, line) in lines.iter().enumerate() {
        assert_eq!(line["iter"], k);
        assert!(line["f"].is_f64() && line["grad_norm"].is_f64());
        assert_eq!(line["x"].as_array().expect("x").len(), 2);
    }
    // iteration 0 is the standard start; iteration 1 one fixed step later
    assert_eq!(lines[0]["x"], serde_json::json!([-1.2, 1.0]));
    assert!((lines[0]["f"].as_f64().unwrap() - 24.2).abs() < 1e-12);
    let g0 = [-215.6, -88.0];
    let x1 = [-1.2 - 0.001 * g0[0], 1.0 - 0.001 * g0[1]];
    for i in 0..2 {
        assert!((lines[1]["x"][i].as_f64().unwrap() - x1[i]).abs() < 1e-12);
    }
    assert_eq!(summary["x"], lines[10]["x"]);
}

#[test]
fn logistic_regression_converges_with_the_default_line_search() {
    let output = xtask(&[
        "run",
        "--problem",
        "logistic:data=breast-cancer,l2=0.001",
        "--optimizer",
        "gd",
        "--gtol",
        "1e-6",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = last_json_line(&output);
    assert_eq!(summary["converged"], true);
    assert_eq!(summary["stop_reason"], "gradient_tolerance");
    assert!(summary["grad_inf"].as_f64().unwrap() <= 1e-6);
    // the Newton-polished optimum of this problem (data/breast-cancer/README.md)
    let gap = summary["f"].as_f64().unwrap() - 0.05983977454242227;
    assert!((0.0..1e-8).contains(&gap), "f - f* = {gap}");
    let evals = &summary["evals"];
    assert!(evals["grad"].as_u64().unwrap() > 10);
    assert_eq!(
        evals["samples"].as_u64().unwrap(),
        569 * evals["grad"].as_u64().unwrap()
    );
}

#[test]
fn bad_input_exits_non_zero_with_one_line_naming_the_fault() {
    assert_one_line_error(
        &["run", "--problem", "nope", "--optimizer", "gd"],
        "unknown problem `nope`",
    );
    assert_one_line_error(
        &["run", "--problem", "rosenbrock", "--optimizer", "gd:lr=-1"],
        "`lr`",
    );
    assert_one_line_error(
        &[
            "run",
            "--problem",
            "rosenbrock",
            "--optimizer",
            "gd:bogus=1",
        ],
        "unknown argument `bogus`",
    );
    assert_one_line_error(
        &["run", "--problem", "rosenbrock", "--optimizer", "sgdd"],
        "valid: gd",
    );
    let csv = support::scratch("cli", "missing-field.csv");
    std::fs::write(&csv, "1.0,2.0,1\n3.0,-1\n0.5,0.5,-1\n").expect("write csv");
    let spec = format!("logistic:file={}", csv.display());
    assert_one_line_error(&["run", "--problem", &spec, "--optimizer", "gd"], "line 2");
    assert_one_line_error(&["run", "--problem", "rosenbrock"], "--optimizer");
    assert_one_line_error(
        &[
            "run",
            "--problem",
            "rosenbrock",
            "--optimizer",
            "gd",
            "--batch-size",
            "4",
        ],
        "full-batch",
    );
}

#[test]
fn mini_batches_count_their_samples() {
    let output = xtask(&[
        "run",
        "--problem",
        "logistic:data=breast-cancer",
        "--optimizer",
        "gd:lr=0.5",
        "--batch-size",
        "100",
        "--epochs",
        "2",
        "--seed",
        "3",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = last_json_line(&output);
    assert_eq!(summary["stop_reason"], "max_epochs");
    // 569 = 5 * 100 + 69 per epoch: 12 steps make two passes
    assert_eq!(summary["iterations"], 12);
    assert_eq!(summary["evals"]["samples"], 2 * 569);
}

#[test]
fn exported_data_sets_parse_back_to_the_problems_data() {
    use opt_bench::data::{breast_cancer, parse_csv};
    use opt_bench::synthetic::synthetic;

    let exported = |name: &str| {
        let file = support::scratch("cli", &format!("{name}.csv"));
        let output = xtask(&["data", name, "--out", file.to_str().expect("utf-8 path")]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = std::fs::read_to_string(&file).expect("the export is written");
        parse_csv(&text, name, "data").expect("the export parses")
    };
    assert_eq!(exported("breast-cancer"), breast_cancer().unwrap());
    let (features, labels) = exported("synthetic");
    let (expected_features, expected_labels) = synthetic();
    // Bit for bit: the CSV carries each number's round-trip form.
    assert_eq!(&features, expected_features);
    assert_eq!(&labels, expected_labels);

    let to_stdout = xtask(&["data", "breast-cancer"]);
    assert!(to_stdout.status.success());
    assert_eq!(
        to_stdout.stdout,
        opt_bench::data::BREAST_CANCER_CSV.as_bytes()
    );
    assert_one_line_error(
        &["data", "iris"],
        "error: unknown data set `iris`; valid: breast-cancer, digits, synthetic",
    );
}

#[test]
fn second_order_methods_run_through_the_contract() {
    // Every second-order name on an MGH problem: the summary line is there,
    // and the methods that should solve Beale do.
    for optimizer in [
        "newton",
        "newton:mode=damped",
        "newton-cg",
        "cg:variant=fr",
        "scg",
        "bfgs",
        "lbfgs:m=5",
        "sfn",
        "gauss-newton",
        "lm",
    ] {
        let output = xtask(&[
            "run",
            "--problem",
            "mgh:beale",
            "--optimizer",
            optimizer,
            "--gtol",
            "1e-6",
            "--max-iters",
            "2000",
            "--json",
        ]);
        assert!(output.status.success(), "{optimizer}: {output:?}");
        let summary = last_json_line(&output);
        assert_eq!(summary["problem"], "mgh:beale", "{optimizer}");
        let x = summary["x"].as_array().unwrap();
        let x: Vec<f64> = x.iter().map(|v| v.as_f64().unwrap()).collect();
        // Beale's minimizer (3, 1/2), f* = 0.
        assert!(
            (x[0] - 3.0).abs() < 1e-4 && (x[1] - 0.5).abs() < 1e-4,
            "{optimizer}: {summary}"
        );
        assert!(
            summary["f"].as_f64().unwrap() < 1e-10,
            "{optimizer}: {summary}"
        );
    }
    // Gauss-Newton and LM count Jacobians; Newton-CG Hessian-vector products.
    let lm = last_json_line(&xtask(&[
        "run",
        "--problem",
        "nist:Misra1a,start=1",
        "--optimizer",
        "lm:ftol=1e-15,xtol=1e-15,gtol=1e-15",
        "--json",
    ]));
    assert!(lm["evals"]["jac"].as_u64().unwrap() > 0, "{lm}");
    // The fit reports standard errors: NIST's certified standard deviations
    // of Misra1a are 2.7070075241E+00 and 7.2668688436E-06.
    let errors = lm["standard_errors"].as_array().expect("standard errors");
    assert_eq!(errors.len(), 2, "{lm}");
    for (error, certified) in errors.iter().zip([2.7070075241e0, 7.2668688436e-6]) {
        let error = error.as_f64().unwrap();
        assert!((error - certified).abs() <= 1e-6 * certified, "{lm}");
    }
    // A first-order method's summary has none.
    let gd = last_json_line(&xtask(&[
        "run",
        "--problem",
        "nist:Misra1a",
        "--optimizer",
        "gd",
        "--max-iters",
        "3",
        "--json",
    ]));
    assert!(gd.get("standard_errors").is_none(), "{gd}");
    let newton_cg = last_json_line(&xtask(&[
        "run",
        "--problem",
        "mgh:wood",
        "--optimizer",
        "newton-cg",
        "--json",
    ]));
    assert!(
        newton_cg["evals"]["hvp"].as_u64().unwrap() > 0,
        "{newton_cg}"
    );
}

#[test]
fn second_order_bad_input_is_one_line_naming_the_fault() {
    // Plain Newton refuses an indefinite Hessian instead of falling back.
    let saddle = support::scratch("cli", "saddle.json");
    std::fs::write(&saddle, r#"{"A": [[1, 0], [0, -1]], "b": [1, 1]}"#).expect("write json");
    let spec = format!("quadratic:file={}", saddle.display());
    assert_one_line_error(
        &[
            "run",
            "--problem",
            &spec,
            "--optimizer",
            "newton:mode=plain",
        ],
        "Hessian is not positive definite",
    );
    assert_one_line_error(
        &["run", "--problem", "mgh:beale", "--optimizer", "lbfgs:m=0"],
        "`m`",
    );
    assert_one_line_error(
        &[
            "run",
            "--problem",
            "mgh:beale",
            "--optimizer",
            "cg:variant=xx",
        ],
        "variant",
    );
    assert_one_line_error(
        &[
            "run",
            "--problem",
            "mgh:beale",
            "--optimizer",
            "scg:sigma=1",
        ],
        "`sigma`",
    );
    assert_one_line_error(
        &["run", "--problem", "mgh:nope", "--optimizer", "lbfgs"],
        "unknown MGH problem `nope`",
    );
    assert_one_line_error(
        &["run", "--problem", "rosenbrock", "--optimizer", "lm"],
        "least-squares form",
    );
    assert_one_line_error(
        &[
            "run",
            "--problem",
            "nist:Misra1a,start=3",
            "--optimizer",
            "lm",
        ],
        "start",
    );
}
