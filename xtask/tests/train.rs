//! The `cargo xtask train` contract, exercised through the binary.

mod support;

use serde_json::Value;
use support::{last_json_line, xtask};

#[test]
fn a_json_run_reports_the_contract_keys_and_traces_every_epoch() {
    let trace = support::scratch("train", "mlp.jsonl");
    let output = xtask(&[
        "train",
        "--model",
        "mlp",
        "--data",
        "digits",
        "--optimizer",
        "sgd:lr=0.1,momentum=0.9",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--accumulate",
        "32",
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
    assert_eq!(summary["epochs"], 2);
    for key in ["test_accuracy", "train_loss", "epoch_time_s", "test_loss"] {
        assert!(summary[key].is_f64(), "{key} in {summary}");
    }
    let accuracy = summary["test_accuracy"].as_f64().expect("a number");
    // two epochs of SGD with momentum already beat chance (0.1) by far
    assert!(accuracy > 0.5 && accuracy <= 1.0, "{summary}");
    let records = summary["records"].as_array().expect("per-epoch records");
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["samples_seen"], 2 * 1437);
    assert_eq!(summary["test_accuracy"], records[1]["test_accuracy"]);

    let lines: Vec<Value> = std::fs::read_to_string(&trace)
        .expect("the trace file")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(&lines[0], &records[0]);
    assert_eq!(lines[1]["epoch"], 2);
}

#[test]
fn bad_input_is_one_line_on_stderr_and_exit_1() {
    let cases: &[(&[&str], &str)] = &[
        (&["--model", "rnn"], "unknown model `rnn`"),
        (&["--data", "idx:/no/such/dir"], "not a directory"),
        (&["--optimizer", "newton"], "unknown optimizer `newton`"),
        (&["--batch-size", "0"], "--batch-size 0"),
        (
            &["--batch-size", "8", "--accumulate", "16"],
            "--accumulate 16",
        ),
        (&["--optimizer", "adam:lr=-1"], "lr"),
    ];
    let no_cuda: &[(&[&str], &str)] = &[(&["--device", "cuda"], "no CUDA support")];
    let cuda_cases = if candle_core::utils::cuda_is_available() {
        &[][..]
    } else {
        no_cuda
    };
    for (changes, needle) in cases.iter().chain(cuda_cases) {
        let mut args = vec![
            "train",
            "--model",
            "mlp",
            "--data",
            "digits",
            "--optimizer",
            "adam",
            "--epochs",
            "1",
        ];
        for pair in changes.chunks(2) {
            match args.iter().position(|a| *a == pair[0]) {
                Some(at) => args[at + 1] = pair[1],
                None => args.extend_from_slice(pair),
            }
        }
        let output = xtask(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
