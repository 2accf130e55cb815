//! Data loaders: the classification/regression CSV format, the quadratic
//! JSON format, and the data sets embedded in the crate.
//!
//! # CSV
//!
//! No header; one row per sample; comma-separated numbers, the feature
//! columns first and the label (classification) or target (regression)
//! last. Whitespace around a field is ignored, as are blank lines at the end
//! of the file; a blank line before the last row is an error, so row `i`
//! (0-based) is always line `i + 1` of the file and errors found after
//! parsing can name their line.
//!
//! # Quadratic JSON
//!
//! `{"A": [[...], ...], "b": [...], "x0": [...]}` for
//! `f(x) = 0.5 x'Ax - b'x`; `x0` is optional. `A` must be square and
//! symmetric, `b` and `x0` of its size, every number finite.
//!
//! # Embedded data sets
//!
//! `data/breast-cancer` (WDBC, standardized, labels -1/+1) and `data/digits`
//! (8x8 digits, pixels 0..16, classes 0..9), each with a README giving its
//! source, licence and sha256, and the generated `synthetic` logistic data
//! ([`crate::synthetic`]). Nothing is read from outside the crate.
//! [`export_data_set`] writes any of them in the CSV format
//! (`cargo xtask data NAME`), so peers in other languages use the same numbers.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use ndarray::{Array1, Array2};
use serde::Deserialize;

use crate::error::{BenchError, Result};

/// Name used in messages for the embedded breast-cancer file.
pub const BREAST_CANCER_FILE: &str = "breast-cancer/wdbc-standardized.csv";
/// The embedded breast-cancer CSV: 569 rows, 30 standardized features, label -1/+1.
pub const BREAST_CANCER_CSV: &str = include_str!("../data/breast-cancer/wdbc-standardized.csv");
/// Name used in messages for the embedded digits file.
pub const DIGITS_FILE: &str = "digits/digits.csv";
/// The embedded digits CSV: 1797 rows, 64 pixels in 0..16, class 0..9.
pub const DIGITS_CSV: &str = include_str!("../data/digits/digits.csv");

/// The largest class label [`class_labels`] accepts.
pub const MAX_CLASS_LABEL: usize = 65_535;

/// Parse a CSV of `features..., label` rows into the feature matrix
/// (`n x d`) and the last column (length `n`).
///
/// Errors name `problem`, `file` and the 1-based line: an empty file, a row
/// with a different number of fields than the first, an empty, non-numeric
/// or non-finite field (with its 1-based column), fewer than 2 columns.
pub fn parse_csv(text: &str, file: &str, problem: &str) -> Result<(Array2<f64>, Array1<f64>)> {
    let error = |line: usize, message: String| data_error(problem, file, line, message);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let used = lines
        .iter()
        .rposition(|line| !line.trim().is_empty())
        .map_or(0, |last| last + 1);
    if used == 0 {
        return Err(error(
            1,
            "empty file: expected one row per sample, features then the label".to_owned(),
        ));
    }
    let width = lines[0].split(',').count();
    if width < 2 {
        return Err(error(
            1,
            format!("expected at least 2 fields (features, then the label), found {width}"),
        ));
    }
    let mut features = Vec::with_capacity(used * (width - 1));
    let mut labels = Vec::with_capacity(used);
    for (index, line) in lines[..used].iter().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            return Err(error(number, "empty line".to_owned()));
        }
        let fields = line.split(',').count();
        if fields != width {
            return Err(error(
                number,
                format!("expected {width} fields, found {fields}"),
            ));
        }
        for (column, field) in line.split(',').map(str::trim).enumerate() {
            let value = parse_field(field)
                .map_err(|why| error(number, format!("column {}: {why}", column + 1)))?;
            if column + 1 < width {
                features.push(value);
            } else {
                labels.push(value);
            }
        }
    }
    let features = Array2::from_shape_vec((used, width - 1), features)
        .expect("every row has `width - 1` features");
    Ok((features, Array1::from(labels)))
}

fn parse_field(field: &str) -> std::result::Result<f64, String> {
    if field.is_empty() {
        return Err("empty field".to_owned());
    }
    match field.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(format!("`{field}` is not finite")),
        Err(_) => Err(format!("`{field}` is not a number")),
    }
}

/// Read `path` to a string; the error names the file.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| BenchError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// [`parse_csv`] on the file at `path` (its path names it in messages).
pub fn load_csv(path: &Path, problem: &str) -> Result<(Array2<f64>, Array1<f64>)> {
    parse_csv(&read_text(path)?, &path.display().to_string(), problem)
}

/// Map binary classification labels to `{-1, +1}`: labels already in
/// `{-1, +1}` are kept, labels in `{0, 1}` are mapped `0 -> -1`, `1 -> +1`.
///
/// Anything else (another value, or `-1` and `0` in the same file) is an
/// error naming the line (row `i` is line `i + 1`, see the module docs).
pub fn binary_labels(labels: &mut Array1<f64>, file: &str, problem: &str) -> Result<()> {
    let mut first_minus_one = None;
    let mut first_zero = None;
    for (row, &label) in labels.iter().enumerate() {
        if label == -1.0 {
            first_minus_one.get_or_insert(row);
        } else if label == 0.0 {
            first_zero.get_or_insert(row);
        } else if label != 1.0 {
            return Err(data_error(
                problem,
                file,
                row + 1,
                format!("label {label} is not in {{-1, +1}} (or {{0, 1}}, mapped to -1, +1)"),
            ));
        }
    }
    match (first_minus_one, first_zero) {
        (Some(minus), Some(zero)) => {
            let (later, other, label, other_label) = if zero > minus {
                (zero, minus, 0, -1)
            } else {
                (minus, zero, -1, 0)
            };
            Err(data_error(
                problem,
                file,
                later + 1,
                format!(
                    "label {label} mixes the {{-1, +1}} and {{0, 1}} conventions \
                     (line {} has label {other_label})",
                    other + 1
                ),
            ))
        }
        (None, Some(_)) => {
            labels.mapv_inplace(|y| if y == 0.0 { -1.0 } else { y });
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Class labels `0..K` as indices, and the number of classes
/// `K = max label + 1` (at least 2). A label that is not an integer in
/// `0..=MAX_CLASS_LABEL` is an error naming its line.
pub fn class_labels(
    labels: &Array1<f64>,
    file: &str,
    problem: &str,
) -> Result<(Vec<usize>, usize)> {
    let mut classes = Vec::with_capacity(labels.len());
    for (row, &label) in labels.iter().enumerate() {
        if label < 0.0 || label.fract() != 0.0 || label > MAX_CLASS_LABEL as f64 {
            return Err(data_error(
                problem,
                file,
                row + 1,
                format!("class label {label} is not an integer in 0..={MAX_CLASS_LABEL}"),
            ));
        }
        classes.push(label as usize);
    }
    let num_classes = classes.iter().max().map_or(0, |&max| max + 1);
    if num_classes < 2 {
        return Err(BenchError::DataFile {
            problem: problem.to_owned(),
            file: file.to_owned(),
            message: format!("expected at least 2 classes (labels 0..K-1), found {num_classes}"),
        });
    }
    Ok((classes, num_classes))
}

/// The embedded breast-cancer data: 569 x 30 standardized features, labels -1/+1.
pub fn breast_cancer() -> Result<(Array2<f64>, Array1<f64>)> {
    parse_csv(BREAST_CANCER_CSV, BREAST_CANCER_FILE, "breast-cancer")
}

/// The embedded digits data: 1797 x 64 raw pixels in `0..=16`, classes `0..=9`.
pub fn digits() -> Result<(Array2<f64>, Array1<f64>)> {
    parse_csv(DIGITS_CSV, DIGITS_FILE, "digits")
}

/// The data sets [`export_data_set`] knows.
pub const DATA_SET_NAMES: &[&str] = &["breast-cancer", "digits", "synthetic"];

/// Write `features` (`n x d`) and `labels` (length `n`) in the CSV format
/// (module docs), each number in Rust's shortest form that parses back to
/// the same `f64` ([`parse_csv`] reads back exactly these values).
///
/// # Panics
///
/// If `labels` is not of length `n`.
pub fn write_csv<W: Write>(
    features: &Array2<f64>,
    labels: &Array1<f64>,
    out: &mut W,
) -> std::io::Result<()> {
    assert_eq!(features.nrows(), labels.len(), "one label per row");
    let mut line = String::new();
    for (row, label) in features.rows().into_iter().zip(labels) {
        line.clear();
        for value in row {
            // Writing to a String cannot fail.
            let _ = write!(line, "{value},");
        }
        let _ = writeln!(line, "{label}");
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Write the built-in data set `name` ([`DATA_SET_NAMES`]) as CSV to `out`:
/// `breast-cancer` and `digits` are the embedded files byte for byte (digits
/// with raw pixels 0..16; `softmax:data=digits` divides them by 16),
/// `synthetic` goes through [`write_csv`]. `file` names `out` in errors.
pub fn export_data_set<W: Write>(name: &str, out: &mut W, file: &str) -> Result<()> {
    let written = match name {
        "breast-cancer" => out.write_all(BREAST_CANCER_CSV.as_bytes()),
        "digits" => out.write_all(DIGITS_CSV.as_bytes()),
        "synthetic" => {
            let (features, labels) = crate::synthetic::synthetic();
            write_csv(features, labels, out)
        }
        unknown => {
            return Err(BenchError::UnknownName {
                kind: "data set",
                name: unknown.to_owned(),
                valid: crate::error::names(DATA_SET_NAMES),
            });
        }
    };
    written
        .and_then(|()| out.flush())
        .map_err(|source| BenchError::Write {
            file: file.to_owned(),
            source,
        })
}

/// The data of a quadratic `f(x) = 0.5 x'Ax - b'x` and its start.
#[derive(Debug, Clone, PartialEq)]
pub struct QuadraticData {
    /// The symmetric `n x n` matrix.
    pub a: Array2<f64>,
    /// The linear term, length `n`.
    pub b: Array1<f64>,
    /// The start, length `n`, if the file gives one.
    pub x0: Option<Array1<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuadraticJson {
    #[serde(rename = "A")]
    a: Vec<Vec<f64>>,
    b: Vec<f64>,
    #[serde(default)]
    x0: Option<Vec<f64>>,
}

/// Parse and validate the quadratic JSON format (module docs). Malformed
/// JSON is an error naming `file` and serde's line; a wrong shape, an
/// asymmetric `A` or a non-finite number an error naming `file`.
pub fn parse_quadratic_json(text: &str, file: &str) -> Result<QuadraticData> {
    const PROBLEM: &str = "quadratic";
    let parsed: QuadraticJson = serde_json::from_str(text).map_err(|e| {
        let position = format!(" at line {} column {}", e.line(), e.column());
        let full = e.to_string();
        let what = full.strip_suffix(&position).unwrap_or(&full);
        data_error(
            PROBLEM,
            file,
            e.line(),
            format!("malformed JSON: {what} (column {})", e.column()),
        )
    })?;
    let file_error = |message: String| BenchError::DataFile {
        problem: PROBLEM.to_owned(),
        file: file.to_owned(),
        message,
    };
    let n = parsed.a.len();
    if let Some((row, entries)) = parsed.a.iter().enumerate().find(|(_, row)| row.len() != n) {
        return Err(file_error(format!(
            "A must be square: it has {n} rows but row {row} has {} entries",
            entries.len()
        )));
    }
    let a = Array2::from_shape_vec((n, n), parsed.a.into_iter().flatten().collect())
        .expect("every row has n entries");
    let data = QuadraticData {
        a,
        b: Array1::from(parsed.b),
        x0: parsed.x0.map(Array1::from),
    };
    check_quadratic(&data).map_err(file_error)?;
    Ok(data)
}

/// [`parse_quadratic_json`] on the file at `path`.
pub fn load_quadratic_json(path: &Path) -> Result<QuadraticData> {
    parse_quadratic_json(&read_text(path)?, &path.display().to_string())
}

/// Relative tolerance of the symmetry check: `|A_ij - A_ji| <= SYMMETRY_TOLERANCE * max |A|`.
pub const SYMMETRY_TOLERANCE: f64 = 1e-12;

/// Why `data` is not a valid quadratic, if it is not.
pub(crate) fn check_quadratic(data: &QuadraticData) -> std::result::Result<(), String> {
    let QuadraticData { a, b, x0 } = data;
    let n = a.nrows();
    if n == 0 {
        return Err("A is empty: the problem needs at least one variable".to_owned());
    }
    if a.ncols() != n {
        return Err(format!("A must be square, found {n} x {}", a.ncols()));
    }
    if b.len() != n {
        return Err(format!(
            "b has length {}, expected {n} (the size of A)",
            b.len()
        ));
    }
    if let Some(x0) = x0
        && x0.len() != n
    {
        return Err(format!(
            "x0 has length {}, expected {n} (the size of A)",
            x0.len()
        ));
    }
    let finite = |name: &str, all_finite: bool| {
        if all_finite {
            Ok(())
        } else {
            Err(format!("{name} has a non-finite entry"))
        }
    };
    finite("A", a.iter().all(|v| v.is_finite()))?;
    finite("b", b.iter().all(|v| v.is_finite()))?;
    finite("x0", x0.iter().flatten().all(|v| v.is_finite()))?;
    let scale = a.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    for i in 0..n {
        for j in (i + 1)..n {
            let (upper, lower) = (a[[i, j]], a[[j, i]]);
            if (upper - lower).abs() > SYMMETRY_TOLERANCE * scale {
                return Err(format!(
                    "A is not symmetric: A[{i}][{j}] = {upper} but A[{j}][{i}] = {lower} \
                     (0-based; tolerance {SYMMETRY_TOLERANCE} x max |A|); \
                     0.5 x'Ax only sees (A + A')/2, so give that symmetric part"
                ));
            }
        }
    }
    Ok(())
}

fn data_error(problem: &str, file: &str, line: usize, message: String) -> BenchError {
    BenchError::Data {
        problem: problem.to_owned(),
        file: file.to_owned(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn csv_error(text: &str) -> String {
        parse_csv(text, "x.csv", "logistic")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_rows_and_tolerates_whitespace_crlf_and_trailing_blank_lines() {
        let (a, y) = parse_csv(" 1, 2 ,3\r\n4,5e-1,-6\r\n\n  \n", "x.csv", "lstsq").unwrap();
        assert_eq!(a, array![[1.0, 2.0], [4.0, 0.5]]);
        assert_eq!(y, array![3.0, -6.0]);
    }

    #[test]
    fn malformed_csv_names_file_line_and_problem() {
        assert_eq!(
            csv_error(""),
            "logistic: x.csv line 1: empty file: expected one row per sample, features then the label"
        );
        assert!(csv_error("\n\n").contains("x.csv line 1: empty file"));
        assert_eq!(
            csv_error("1,2,3\n1,2,3\n1,2\n"),
            "logistic: x.csv line 3: expected 3 fields, found 2"
        );
        assert_eq!(
            csv_error("1,2\n1,x\n"),
            "logistic: x.csv line 2: column 2: `x` is not a number"
        );
        assert_eq!(
            csv_error("1,2\nNaN,1\n"),
            "logistic: x.csv line 2: column 1: `NaN` is not finite"
        );
        assert_eq!(
            csv_error("1,2\n1,inf\n"),
            "logistic: x.csv line 2: column 2: `inf` is not finite"
        );
        assert_eq!(
            csv_error("1,2\n1,\n"),
            "logistic: x.csv line 2: column 2: empty field"
        );
        assert_eq!(
            csv_error("1,2\n\n1,2\n"),
            "logistic: x.csv line 2: empty line"
        );
        assert!(csv_error("1\n2\n").contains("line 1: expected at least 2 fields"));
    }

    #[test]
    fn binary_labels_are_mapped_or_rejected() {
        let mut y = array![0.0, 1.0, 1.0, 0.0];
        binary_labels(&mut y, "f.csv", "logistic").unwrap();
        assert_eq!(y, array![-1.0, 1.0, 1.0, -1.0]);
        let mut kept = array![-1.0, 1.0];
        binary_labels(&mut kept, "f.csv", "logistic").unwrap();
        assert_eq!(kept, array![-1.0, 1.0]);
        let message = binary_labels(&mut array![1.0, 2.0], "f.csv", "logistic")
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("logistic: f.csv line 2: label 2"),
            "{message}"
        );
        let mixed = binary_labels(&mut array![1.0, -1.0, 0.0], "f.csv", "logistic")
            .unwrap_err()
            .to_string();
        assert!(
            mixed.starts_with("logistic: f.csv line 3: label 0 mixes"),
            "{mixed}"
        );
    }

    #[test]
    fn class_labels_are_integers() {
        let (classes, k) = class_labels(&array![0.0, 2.0, 1.0], "f.csv", "softmax").unwrap();
        assert_eq!((classes, k), (vec![0, 2, 1], 3));
        let message = class_labels(&array![0.0, 1.5], "f.csv", "softmax")
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("softmax: f.csv line 2:"), "{message}");
        assert!(class_labels(&array![0.0, -1.0], "f.csv", "softmax").is_err());
        assert!(class_labels(&array![0.0, 0.0], "f.csv", "softmax").is_err());
    }

    #[test]
    fn embedded_data_sets_have_their_documented_shapes() {
        let (a, y) = breast_cancer().unwrap();
        assert_eq!(a.dim(), (569, 30));
        assert_eq!(y.iter().filter(|&&v| v == 1.0).count(), 357);
        assert_eq!(y.iter().filter(|&&v| v == -1.0).count(), 212);
        let (pixels, digit) = digits().unwrap();
        assert_eq!(pixels.dim(), (1797, 64));
        assert!(pixels.iter().all(|&p| (0.0..=16.0).contains(&p)));
        let (classes, k) = class_labels(&digit, DIGITS_FILE, "softmax").unwrap();
        assert_eq!(k, 10);
        assert_eq!(classes.iter().filter(|&&c| c == 0).count(), 178);
    }

    #[test]
    fn written_csv_parses_back_to_the_same_numbers() {
        // Rows of the synthetic data set (its generator, fewer rows), plus
        // values whose shortest forms are awkward.
        let (mut a, y) = crate::synthetic::generate(40, 100, crate::synthetic::SYNTHETIC_SEED);
        a[[0, 0]] = 0.1 + 0.2;
        a[[0, 1]] = -1e-300;
        a[[0, 2]] = 123_456_789.123_456_78;
        let mut out = Vec::new();
        write_csv(&a, &y, &mut out).unwrap();
        let (back_a, back_y) = parse_csv(std::str::from_utf8(&out).unwrap(), "s.csv", "t").unwrap();
        assert_eq!(back_a, a);
        assert_eq!(back_y, y);
    }

    #[test]
    fn embedded_data_sets_export_byte_for_byte() {
        let mut out = Vec::new();
        export_data_set("breast-cancer", &mut out, "out.csv").unwrap();
        assert_eq!(out, BREAST_CANCER_CSV.as_bytes());
        out.clear();
        export_data_set("digits", &mut out, "out.csv").unwrap();
        assert_eq!(out, DIGITS_CSV.as_bytes());
        let unknown = export_data_set("iris", &mut out, "out.csv")
            .unwrap_err()
            .to_string();
        assert_eq!(
            unknown,
            "unknown data set `iris`; valid: breast-cancer, digits, synthetic"
        );
    }

    #[test]
    fn quadratic_json_round_trip_and_errors() {
        let data = parse_quadratic_json(
            r#"{"A": [[2, 1], [1, 3]], "b": [1, 0], "x0": [5, 5]}"#,
            "q.json",
        )
        .unwrap();
        assert_eq!(data.a, array![[2.0, 1.0], [1.0, 3.0]]);
        assert_eq!(data.b, array![1.0, 0.0]);
        assert_eq!(data.x0, Some(array![5.0, 5.0]));
        assert_eq!(
            parse_quadratic_json(r#"{"A": [[1]], "b": [1]}"#, "q.json")
                .unwrap()
                .x0,
            None
        );

        let error = |text: &str| {
            parse_quadratic_json(text, "q.json")
                .unwrap_err()
                .to_string()
        };
        let malformed = error("{\"A\": [[1, 2],\n [2, 1]],\n \"b\": [1, 2");
        assert!(
            malformed.starts_with("quadratic: q.json line 3: malformed JSON"),
            "{malformed}"
        );
        assert!(error(r#"{"A": [[1]], "b": [1], "x_0": [1]}"#).contains("unknown field `x_0`"));
        assert!(error(r#"{"A": [[1]]}"#).contains("missing field `b`"));
        let asymmetric = error(r#"{"A": [[1, 2], [3, 1]], "b": [1, 2]}"#);
        assert!(
            asymmetric
                .starts_with("quadratic: q.json: A is not symmetric: A[0][1] = 2 but A[1][0] = 3"),
            "{asymmetric}"
        );
        assert!(
            error(r#"{"A": [[1, 2], [2, 1]], "b": [1]}"#).contains("b has length 1, expected 2")
        );
        assert!(
            error(r#"{"A": [[1, 2], [2, 1]], "b": [1, 1], "x0": [1]}"#).contains("x0 has length 1")
        );
        assert!(error(r#"{"A": [[1, 2], [2]], "b": [1, 1]}"#).contains("must be square"));
        assert!(error(r#"{"A": [], "b": []}"#).contains("A is empty"));
        // Symmetric up to rounding is accepted.
        assert!(
            parse_quadratic_json(
                r#"{"A": [[1, 0.30000000000000004], [0.3, 1]], "b": [0, 0]}"#,
                "q.json"
            )
            .is_ok()
        );
    }
}
