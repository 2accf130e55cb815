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

/// `train` with `extra` after a digits MLP run of batch 256 and seed 3.
fn train_run(optimizer: &str, epochs: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "train",
        "--model",
        "mlp",
        "--data",
        "digits",
        "--optimizer",
        optimizer,
        "--epochs",
        epochs,
        "--batch-size",
        "256",
        "--seed",
        "3",
        "--json",
    ];
    args.extend_from_slice(extra);
    xtask(&args)
}

fn succeeded(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    last_json_line(output)
}

/// The per-epoch figures that do not depend on timing.
fn figures(summary: &Value) -> Vec<Value> {
    summary["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            serde_json::json!([
                r["epoch"],
                r["train_loss"],
                r["test_loss"],
                r["test_accuracy"],
                r["samples_seen"]
            ])
        })
        .collect()
}

#[test]
fn one_epoch_and_a_resumed_one_equal_two_epochs_bit_for_bit() {
    for (tag, optimizer) in [
        ("adam", "adam:lr=0.003"),
        ("sgd", "sgd:lr=0.1,momentum=0.9"),
        ("scg", "scg"),
        // 6 iterations per epoch, a new batch every 5: the second epoch
        // starts in the middle of a batch
        ("minibatch-scg", "scg:batch_size=256,batches_every=5"),
        ("lbfgs", "lbfgs:m=5"),
        ("cg", "cg"),
        ("newton-cg", "newton-cg:max_cg_iters=4"),
    ] {
        let whole_dir = support::scratch("resume", &format!("{tag}-whole"));
        let split_dir = support::scratch("resume", &format!("{tag}-split"));
        let _ = std::fs::remove_dir_all(&split_dir);
        let whole_path = whole_dir.to_str().expect("utf-8 path");
        let split_path = split_dir.to_str().expect("utf-8 path");
        let whole = succeeded(&train_run(optimizer, "2", &["--checkpoint", whole_path]));
        let first = succeeded(&train_run(optimizer, "1", &["--checkpoint", split_path]));
        assert_eq!(figures(&first)[..], figures(&whole)[..1], "{tag}");
        let resumed = succeeded(&train_run(optimizer, "2", &["--resume", split_path]));
        // the summary lists both epochs, with the same figures to the bit
        // (JSON numbers round-trip f64 exactly)
        assert_eq!(resumed["epochs"], 2, "{tag}");
        assert_eq!(figures(&resumed), figures(&whole), "{tag}");
        assert_ne!(
            whole["records"][0]["train_loss"],
            whole["records"][1]["train_loss"]
        );
        // the final parameters: the same safetensors bytes
        let weights = |dir: &std::path::Path| std::fs::read(dir.join("weights.safetensors"));
        assert_eq!(
            weights(&split_dir).expect("resumed weights"),
            weights(&whole_dir).expect("whole weights"),
            "{tag}"
        );
        let state: Value = serde_json::from_str(
            &std::fs::read_to_string(split_dir.join("state.json")).expect("state.json"),
        )
        .expect("JSON");
        assert_eq!(state["epochs_done"], 2, "{tag}");
        assert_eq!(state["settings"]["optimizer"], optimizer, "{tag}");
    }
}

#[test]
fn bad_checkpoints_and_other_settings_are_one_line_errors() {
    let dir = support::scratch("resume-errors", "checkpoint");
    let path = dir.to_str().expect("utf-8 path");
    succeeded(&train_run("sgd:lr=0.1", "1", &["--checkpoint", path]));
    let missing = support::scratch("resume-errors", "none");
    let missing_path = missing.to_str().expect("utf-8 path");
    let cases: &[(&str, &str, &[&str], &str)] = &[
        ("sgd:lr=0.1", "2", &["--resume", missing_path], "state.json"),
        (
            "sgd:lr=0.1",
            "2",
            &["--resume", path, "--accumulate", "128"],
            "micro-batch size",
        ),
        ("adam", "2", &["--resume", path], "optimizer"),
        ("sgd:lr=0.1", "1", &["--resume", path], "--epochs above"),
        ("lbfgs", "2", &["--resume", path], "optimizer"),
    ];
    for &(optimizer, epochs, extra, needle) in cases {
        let output = train_run(optimizer, epochs, extra);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{extra:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{extra:?}: {stderr}");
        assert!(stderr.contains(needle), "{extra:?}: {stderr}");
    }
    // a damaged weights file
    let weights = dir.join("weights.safetensors");
    let mut bytes = std::fs::read(&weights).expect("weights");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&weights, &bytes).expect("write");
    let output = train_run("sgd:lr=0.1", "2", &["--resume", path]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("checksum"), "{stderr}");
}

#[test]
fn a_solver_checkpoint_resumed_by_another_solver_is_a_one_line_error() {
    let dir = support::scratch("resume-errors", "cg-checkpoint");
    let path = dir.to_str().expect("utf-8 path");
    succeeded(&train_run("cg", "1", &["--checkpoint", path]));
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("state.json")).expect("state.json"))
            .expect("JSON");
    assert_eq!(state["optimizer_state"]["solver"], "cg");
    // another spec: refused by the settings check
    let output = train_run("lbfgs", "2", &["--resume", path]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("optimizer"), "{stderr}");
    // the same spec over a state of another solver (the settings say
    // `lbfgs`, the state is cg's): refused by the solver kind
    let mut forged = state.clone();
    forged["settings"]["optimizer"] = Value::from("lbfgs");
    std::fs::write(
        dir.join("state.json"),
        serde_json::to_string(&forged).expect("JSON"),
    )
    .expect("write");
    let output = train_run("lbfgs", "2", &["--resume", path]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("the state of cg, not of lbfgs"), "{stderr}");
}
