//! The NIST StRD nonlinear regression problems: every embedded file parses,
//! its certified values reproduce its certified residual sum of squares,
//! every analytic Jacobian agrees with central differences, malformed files
//! give errors that name the file and line, and Levenberg-Marquardt reaches
//! the certified estimates.

use ndarray::{Array1, Array2};
use opt_bench::BenchError;
use opt_bench::Spec;
use opt_bench::problems::nist::{
    Difficulty, NIST_NAMES, Nist, log_relative_error, nist_file_text, parse_dat,
};
use opt_core::{Counted, LeastSquares, Objective, Runner};
use opt_second_order::levenberg_marquardt::{
    LevenbergMarquardt, LevenbergMarquardtConfig, fit_summary,
};

fn problem(name: &str, start: usize) -> Nist {
    Nist::new(name, start).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn rss(p: &Nist, b: &Array1<f64>) -> f64 {
    p.value(b).unwrap()
}

// ---------------------------------------------------------------- the files

#[test]
fn every_file_parses_with_nists_counts() {
    let mut levels = [0; 3];
    for name in NIST_NAMES {
        let p = problem(name, 1);
        assert_eq!(p.dataset(), name);
        let data = p.data();
        assert_eq!(p.num_observations(), data.response.len());
        assert_eq!(p.num_parameters(), data.parameters.len());
        assert_eq!(p.num_residuals(), p.num_observations());
        assert!(
            data.parameters.iter().all(|q| q.certified_digits == 11),
            "{name}"
        );
        levels[p.difficulty() as usize] += 1;
        let second = problem(name, 2);
        assert_ne!(p.start(), second.start(), "{name}");
        assert_eq!(p.name(), format!("nist:{name},start=1"));
    }
    assert_eq!(levels, [8, 11, 8]);
    let misra = problem("Misra1a", 2);
    assert_eq!(misra.start().to_vec(), vec![250.0, 0.0005]);
    assert_eq!(
        misra.certified_parameters().to_vec(),
        vec![2.3894212918E+02, 5.5015643181E-04]
    );
    assert_eq!(
        misra.certified_std_devs().to_vec(),
        vec![2.7070075241E+00, 7.2668688436E-06]
    );
    assert_eq!(misra.certified_rss(), 1.2455138894E-01);
    assert_eq!(misra.difficulty(), Difficulty::Lower);
    assert_eq!(misra.num_observations(), 14);
    assert_eq!(misra.formula(), "y = b1*(1-exp[-b2*x])");
    let nelson = problem("Nelson", 1);
    assert_eq!(nelson.data().num_predictors, 2);
    assert_eq!(nelson.num_observations(), 128);
    // Rat43 states 9 degrees of freedom where n - p = 11: read, not checked.
    assert_eq!(problem("Rat43", 1).data().degrees_of_freedom, 9);
}

#[test]
fn certified_parameters_reproduce_the_certified_rss() {
    // The strongest check of files, models and residual signs together:
    // at the 11-digit certified parameters the RSS matches the certified
    // one to about 9 digits. Lanczos1's certified RSS (1.4e-25) is below
    // what double precision resolves (README): there the RSS is only tiny.
    for name in NIST_NAMES {
        let p = problem(name, 1);
        let value = rss(&p, &p.certified_parameters());
        if name == "Lanczos1" {
            assert!(value < 1e-19, "{name}: {value:e}");
            continue;
        }
        let lre = p.rss_lre(value);
        assert!(
            lre >= 8.0,
            "{name}: RSS {value:e} vs {:e} (LRE {lre:.2})",
            p.certified_rss()
        );
    }
}

#[test]
fn nelson_fits_the_log_of_the_response() {
    let p = problem("Nelson", 1);
    let b = p.certified_parameters();
    let mut r = Array1::zeros(p.num_observations());
    p.residuals(&b, &mut r).unwrap();
    let data = p.data();
    let x = data.predictors_of(0);
    let model = b[0] - b[1] * x[0] * (-b[2] * x[1]).exp();
    assert_eq!(r[0], data.response[0].ln() - model);
}

#[test]
fn analytic_jacobians_match_central_differences() {
    // At both starts and at the certified values, each Jacobian column
    // against (r(b + h e_j) - r(b - h e_j)) / 2h with h = eps^(1/3) |b_j|
    // (relative: the parameters range from 1e-9 to 1e3).
    let h0 = f64::EPSILON.cbrt();
    for name in NIST_NAMES {
        let p = problem(name, 1);
        let (m, n) = (p.num_observations(), p.num_parameters());
        let points = [
            problem(name, 1).start(),
            problem(name, 2).start(),
            p.certified_parameters(),
        ];
        let y = &p.data().response;
        for b in &points {
            let mut jacobian = Array2::zeros((m, n));
            p.jacobian(b, &mut jacobian).unwrap();
            let mut plus = Array1::zeros(m);
            let mut minus = Array1::zeros(m);
            for j in 0..n {
                let h = if b[j] == 0.0 { h0 } else { h0 * b[j].abs() };
                let mut shifted = b.clone();
                shifted[j] += h;
                p.residuals(&shifted, &mut plus).unwrap();
                shifted[j] -= 2.0 * h;
                p.residuals(&shifted, &mut minus).unwrap();
                let numeric = (&plus - &minus) / (2.0 * h);
                let analytic = jacobian.column(j);
                let scale = analytic
                    .iter()
                    .chain(numeric.iter())
                    .fold(0.0_f64, |a, v| a.max(v.abs()));
                // Truncation O(h^2) relative to the column, plus the rounding
                // of residuals of size |y| + |r| divided by 2h.
                for i in 0..m {
                    let error = (analytic[i] - numeric[i]).abs();
                    let rounding = 8.0 * f64::EPSILON * (y[i].abs() + plus[i].abs()) / h;
                    assert!(
                        error <= 1e-6 * scale + rounding,
                        "{name} at {b}: J[{i}, {j}] = {} vs {}",
                        analytic[i],
                        numeric[i]
                    );
                }
            }
        }
        // The objective's gradient is 2 J'r (value scale 1).
        let b = p.certified_parameters();
        let mut g = Array1::zeros(b.len());
        p.value_and_grad(&b, &mut g).unwrap();
        let mut r = Array1::zeros(m);
        p.residuals(&b, &mut r).unwrap();
        let mut jacobian = Array2::zeros((m, n));
        p.jacobian(&b, &mut jacobian).unwrap();
        assert_eq!(g, jacobian.t().dot(&r) * 2.0, "{name}");
        assert_eq!(p.value_scale(), 1.0);
    }
}

#[test]
fn log_relative_error_is_capped_and_clamped() {
    assert_eq!(log_relative_error(1.0, 1.0, 11), 11.0);
    assert!((log_relative_error(1.001, 1.0, 11) - 3.0).abs() < 1e-9);
    assert_eq!(log_relative_error(1.0 + 1e-14, 1.0, 11), 11.0);
    assert_eq!(log_relative_error(5.0, 1.0, 11), 0.0);
    assert_eq!(log_relative_error(f64::NAN, 1.0, 11), 0.0);
}

// ---------------------------------------------------------------- bad input

fn data_error(text: &str) -> (usize, String) {
    match parse_dat(text, "broken.dat") {
        Err(BenchError::Data {
            file,
            line,
            message,
            ..
        }) => {
            assert_eq!(file, "broken.dat");
            (line, message)
        }
        other => panic!("expected a line error, got {other:?}"),
    }
}

fn misra() -> Vec<String> {
    nist_file_text("Misra1a")
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn malformed_files_name_the_line() {
    // Truncated in the data: the first missing line is named.
    let lines = misra();
    let (line, message) = data_error(&lines[..70].join("\n"));
    assert_eq!(line, 71);
    assert!(message.contains("truncated"), "{message}");
    // Truncated before the certified values.
    let (line, message) = data_error(&lines[..41].join("\n"));
    assert_eq!(line, 42);
    assert!(message.contains("parameter b2"), "{message}");
    // A bad number in a parameter line.
    let mut bad = lines.clone();
    bad[40] = bad[40].replace("500", "5OO");
    let (line, message) = data_error(&bad.join("\n"));
    assert_eq!(line, 41);
    assert!(
        message.contains("start 1") && message.contains("5OO"),
        "{message}"
    );
    // A data row with a missing column.
    let mut bad = lines.clone();
    bad[64] = "      35.18E0".to_owned();
    let (line, message) = data_error(&bad.join("\n"));
    assert_eq!(line, 65);
    assert!(message.contains("expected 2 numbers"), "{message}");
    // A data value that is not finite.
    let mut bad = lines.clone();
    bad[62] = "      inf     141.1E0".to_owned();
    let (line, message) = data_error(&bad.join("\n"));
    assert_eq!(line, 63);
    assert!(message.contains("not finite"), "{message}");
    // No residual sum of squares.
    let mut bad = lines.clone();
    bad[43] = String::new();
    let (_, message) = data_error(&bad.join("\n"));
    assert!(message.contains("Residual Sum of Squares"), "{message}");
    // A header whose line ranges are garbled.
    let mut bad = lines.clone();
    bad[6] = "               Data              (lines 61 to sixty)".to_owned();
    let (line, message) = data_error(&bad.join("\n"));
    assert_eq!(line, 7);
    assert!(message.contains("lines A to B"), "{message}");
    // Extra rows after the announced data.
    let mut extra = lines.clone();
    extra.push("      1.0E0     2.0E0".to_owned());
    let (line, message) = data_error(&extra.join("\n"));
    assert_eq!(line, 75);
    assert!(message.contains("after the data"), "{message}");
    // An empty file.
    let (line, _) = data_error("");
    assert_eq!(line, 1);
}

#[test]
fn a_file_with_another_model_is_refused() {
    let text = nist_file_text("Misra1a")
        .unwrap()
        .replace("y = b1*(1-exp[-b2*x])", "y = b1*(1+exp[-b2*x])");
    let error = Nist::from_dat_text(&text, "edited.dat", 1).unwrap_err();
    assert!(
        matches!(error, BenchError::DataFile { .. }) && error.to_string().contains("edited.dat"),
        "{error}"
    );
    let renamed = nist_file_text("Misra1a")
        .unwrap()
        .replace("Misra1a ", "Misra9z ");
    let error = Nist::from_dat_text(&renamed, "renamed.dat", 1).unwrap_err();
    assert!(error.to_string().contains("Misra9z"), "{error}");
    let ok = Nist::from_dat_text(nist_file_text("BoxBOD").unwrap(), "BoxBOD.dat", 2).unwrap();
    assert_eq!(ok, problem("BoxBOD", 2));
}

#[test]
fn specs_and_names() {
    let spec = Spec::parse("problem", "nist:misra1a,start=2").unwrap();
    let p = Nist::from_spec(&spec).unwrap();
    assert_eq!(p.name(), "nist:Misra1a,start=2");
    let default = Nist::from_spec(&Spec::parse("problem", "nist:Rat43").unwrap()).unwrap();
    assert_eq!(default.start_index(), 1);
    for (text, expected) in [
        ("nist:Misra1a,start=3", "must be 1 or 2"),
        ("nist:Nope", "valid: Misra1a"),
        ("nist", "needs a problem name"),
        ("nist:Misra1a,dim=2", "unknown argument `dim`"),
    ] {
        let error = Nist::from_spec(&Spec::parse("problem", text).unwrap()).unwrap_err();
        assert!(error.to_string().contains(expected), "{text}: {error}");
    }
    let short = Array1::zeros(1);
    assert!(problem("Misra1a", 1).value(&short).is_err());
}

// ---------------------------------------------------------------- fits

/// Levenberg-Marquardt from the problem's start with `ftol = xtol = gtol =
/// 1e-15` (MINPACK's default `sqrt(eps)` stops at 4 to 6 correct digits on
/// a third of the problems, as SciPy's `method='lm'` does): the minimum LRE
/// over the parameters, the LRE of the RSS, and the Jacobian count.
fn lm_fit(p: &Nist) -> (Array1<f64>, f64, f64, u64) {
    let counted = Counted::new(p.clone());
    let config = LevenbergMarquardtConfig {
        ftol: 1e-15,
        xtol: 1e-15,
        gtol: 1e-15,
        ..LevenbergMarquardtConfig::default()
    };
    let mut solver = LevenbergMarquardt::new(config).unwrap();
    let report = Runner::new()
        .max_iters(1000)
        .run(&counted, &mut solver, p.start())
        .unwrap();
    let min_lre = p.min_parameter_lre(&report.x);
    let rss_lre = p.rss_lre(report.f);
    (report.x, min_lre, rss_lre, report.evals.jac)
}

#[test]
fn lm_reaches_the_certified_values_of_lower_and_average_problems() {
    for name in NIST_NAMES {
        for start in [1, 2] {
            let p = problem(name, start);
            if p.difficulty() == Difficulty::Higher {
                continue;
            }
            let (x, min_lre, rss_lre, _) = lm_fit(&p);
            assert!(
                min_lre >= 6.0,
                "{} : parameter LRE {min_lre:.2} at {x}",
                p.name()
            );
            if name != "Lanczos1" {
                assert!(rss_lre >= 6.0, "{}: RSS LRE {rss_lre:.2}", p.name());
            }
        }
    }
}

#[test]
fn lm_reaches_the_certified_values_of_higher_problems() {
    for name in NIST_NAMES {
        for start in [1, 2] {
            let p = problem(name, start);
            if p.difficulty() != Difficulty::Higher {
                continue;
            }
            let (x, min_lre, rss_lre, _) = lm_fit(&p);
            assert!(
                min_lre >= 6.0,
                "{}: parameter LRE {min_lre:.2} at {x}",
                p.name()
            );
            assert!(rss_lre >= 6.0, "{}: RSS LRE {rss_lre:.2}", p.name());
        }
    }
}

#[test]
fn standard_errors_match_the_certified_ones() {
    // NIST's certified standard deviations are sqrt(diag (J'J)^-1 RSS/(n-p))
    // at the certified estimates (Rat43 included: n - p = 11, not its
    // stated 9 degrees of freedom).
    // Lanczos1 is left out: its certified RSS (1.4e-25) is below what double
    // precision resolves, so s (and every standard error) computed in double
    // precision is off by a factor of about 170.
    for name in NIST_NAMES.into_iter().filter(|&name| name != "Lanczos1") {
        let p = problem(name, 1);
        let summary = fit_summary(&p, &p.certified_parameters()).unwrap();
        assert_eq!(
            summary.degrees_of_freedom,
            p.num_observations() - p.num_parameters()
        );
        for (j, (&se, &certified)) in summary
            .standard_errors
            .iter()
            .zip(p.certified_std_devs().iter())
            .enumerate()
        {
            let lre = log_relative_error(se, certified, 11);
            assert!(
                lre >= 5.0,
                "{name} b{}: {se:e} vs {certified:e} (LRE {lre:.2})",
                j + 1
            );
        }
    }
}
