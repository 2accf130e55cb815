//! `cargo xtask landscape`, exercised through the binary.

mod support;

use serde_json::Value;
use support::{assert_one_line_error, xtask};

#[test]
fn a_small_run_writes_both_figures_and_the_grids() {
    let out = support::scratch("landscape", "small");
    let output = xtask(&[
        "landscape",
        "--model",
        "mlp",
        "--data",
        "digits",
        "--optimizer",
        "adam:lr=0.01",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--resolution",
        "5",
        "--directions",
        "pca",
        "--eval-samples",
        "1000",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    for name in [
        "landscape-line.svg",
        "landscape-line.png",
        "landscape-plane.svg",
        "landscape-plane.png",
        "landscape.json",
    ] {
        let path = out.join(name);
        let size = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        assert!(size > 0, "{name} is empty");
        assert!(stdout.contains(name), "{name} not listed in {stdout}");
    }
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("landscape.json")).expect("the JSON file"),
    )
    .expect("valid JSON");
    assert_eq!(summary["eval_samples"], 1000);
    let plane = &summary["plane"];
    assert_eq!(plane["alphas"].as_array().expect("alphas").len(), 5);
    assert_eq!(plane["betas"].as_array().expect("betas").len(), 5);
    let rows = plane["train_loss"].as_array().expect("a grid");
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .all(|row| row.as_array().map(Vec::len) == Some(5))
    );
    // the line: 4 ceil(5 / 2) + 1 = 13 points, its ends at t = -0.5 and 1.5
    let line = &summary["line"];
    let t = line["t"].as_array().expect("t");
    assert_eq!(t.len(), 13);
    assert_eq!(t[0], -0.5);
    assert_eq!(t[12], 1.5);
    // the trajectory: the start and two epochs; PCA of a 2-epoch
    // trajectory spans it exactly, the final point at the origin
    let trajectory = &summary["trajectory"];
    let coordinates = trajectory["coordinates"].as_array().expect("coordinates");
    assert_eq!(coordinates.len(), 3);
    assert_eq!(coordinates[2][0], 0.0);
    assert_eq!(coordinates[2][1], 0.0);
    let residual = trajectory["residual_fraction"].as_f64().expect("a number");
    assert!(residual < 1e-6, "{residual}");
    // the line at t = 0 and t = 1 (indices 3 and 9) passes through the
    // trajectory's ends
    let losses = trajectory["train_loss"].as_array().expect("losses");
    assert_eq!(t[3], 0.0);
    assert_eq!(t[9], 1.0);
    assert_eq!(line["train_loss"][3], losses[0]);
    assert_eq!(line["train_loss"][9], losses[2]);
    let records = summary["records"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    assert_eq!(
        line["test_accuracy"][9], records[1]["test_accuracy"],
        "the final parameters' test accuracy"
    );
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let base = [
        "landscape",
        "--model",
        "mlp",
        "--data",
        "digits",
        "--optimizer",
        "adam",
        "--epochs",
        "1",
    ];
    let cases: &[(&[&str], &str)] = &[
        (&["--directions", "eigen"], "unknown --directions `eigen`"),
        (&["--resolution", "1"], "invalid --resolution 1"),
        (&["--span", "0"], "invalid --span 0"),
        (&["--span", "nan"], "invalid --span NaN"),
        (
            &["--directions", "pca"],
            "--directions pca needs --epochs 2",
        ),
        (&["--accumulate", "0"], "invalid --accumulate 0"),
        (&["--eval-samples", "0"], "invalid --eval-samples 0"),
        (&["--resolution", "x"], "invalid value 'x'"),
    ];
    for (extra, expected) in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        assert_one_line_error(&args, expected);
    }
    assert_one_line_error(
        &[
            "landscape",
            "--model",
            "rnn",
            "--data",
            "digits",
            "--optimizer",
            "adam",
        ],
        "unknown model `rnn`",
    );
}
