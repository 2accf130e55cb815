//! A reader for the NIST StRD nonlinear regression `.dat` files, as NIST
//! publishes them (`data/nist-strd/README.md` describes the layout).
//!
//! Line ranges are not assumed: the header's "File Format" block gives the
//! lines of the starting values, the certified values and the data
//! (`Starting Values (lines 41 to 42)` and so on), and the reader follows it.
//! Every error names the file, the 1-based line and what was expected there;
//! a file that ends early is an error at the first missing line.

use crate::error::{BenchError, Result};

/// NIST's level of difficulty of a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Difficulty {
    Lower,
    Average,
    Higher,
}

impl Difficulty {
    /// `"lower"`, `"average"` or `"higher"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Difficulty::Lower => "lower",
            Difficulty::Average => "average",
            Difficulty::Higher => "higher",
        }
    }
}

impl std::fmt::Display for Difficulty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One parameter line: `bK = start1 start2 certified std_dev`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParameterLine {
    /// Starting values 1 and 2.
    pub starts: [f64; 2],
    /// The certified estimate.
    pub certified: f64,
    /// Significant digits the certified estimate is written with.
    pub certified_digits: u32,
    /// The certified standard deviation of the estimate.
    pub std_dev: f64,
}

/// Everything a `.dat` file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct DatFile {
    /// `Dataset Name:` (e.g. `Misra1a`).
    pub name: String,
    /// From the `... Level of Difficulty` line.
    pub difficulty: Difficulty,
    /// The model formula as written (lines joined, blanks collapsed, the
    /// error term `+ e` removed), e.g. `y = b1*(1-exp[-b2*x])`.
    pub model: String,
    /// One entry per parameter `b1, b2, ...`.
    pub parameters: Vec<ParameterLine>,
    /// `Residual Sum of Squares:`.
    pub certified_rss: f64,
    /// Significant digits of the certified residual sum of squares.
    pub certified_rss_digits: u32,
    /// `Residual Standard Deviation:`.
    pub residual_std_dev: f64,
    /// `Degrees of Freedom:` as the file states it (Rat43's is 9 where
    /// `n - p = 11`; it is read, not checked).
    pub degrees_of_freedom: usize,
    /// The response `y`, one per observation (as written: Nelson's model is
    /// fitted to `log(y)`, which the problem takes).
    pub response: Vec<f64>,
    /// The predictors, row by row: `num_predictors` values per observation.
    pub predictors: Vec<f64>,
    /// Predictors per observation (from the data header `Data: y x1 x2`).
    pub num_predictors: usize,
}

impl DatFile {
    /// Number of observations `n`.
    pub fn num_observations(&self) -> usize {
        self.response.len()
    }

    /// The predictors of observation `i`.
    pub fn predictors_of(&self, i: usize) -> &[f64] {
        &self.predictors[i * self.num_predictors..(i + 1) * self.num_predictors]
    }
}

/// The lines of a file, with the file's name for error messages.
struct Lines<'a> {
    file: &'a str,
    lines: Vec<&'a str>,
}

impl<'a> Lines<'a> {
    fn error(&self, line: usize, message: impl Into<String>) -> BenchError {
        BenchError::Data {
            problem: "nist".to_owned(),
            file: self.file.to_owned(),
            line,
            message: message.into(),
        }
    }

    /// Line `number` (1-based), or an error saying the file ends before it.
    fn get(&self, number: usize, expected: &str) -> Result<&'a str> {
        if number == 0 {
            return Err(self.error(1, format!("line number 0 given for {expected}")));
        }
        self.lines.get(number - 1).copied().ok_or_else(|| {
            self.error(
                number,
                format!(
                    "the file ends at line {} but {expected} should be here (truncated file?)",
                    self.lines.len()
                ),
            )
        })
    }

    /// The 1-based number of the first line (from `from`) containing `needle`.
    fn find(&self, from: usize, needle: &str) -> Option<usize> {
        self.lines
            .iter()
            .enumerate()
            .skip(from.saturating_sub(1))
            .find(|(_, line)| line.contains(needle))
            .map(|(index, _)| index + 1)
    }

    fn require(&self, from: usize, needle: &str, what: &str) -> Result<usize> {
        self.find(from, needle).ok_or_else(|| {
            self.error(
                self.lines.len().max(1),
                format!("no line containing `{needle}` ({what}) was found"),
            )
        })
    }
}

/// Parse a `.dat` file; `file` names it in error messages.
pub fn parse_dat(text: &str, file: &str) -> Result<DatFile> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = Lines {
        file,
        lines: text.lines().collect(),
    };
    if lines.lines.iter().all(|line| line.trim().is_empty()) {
        return Err(lines.error(1, "empty file: expected a NIST StRD `.dat` file"));
    }

    let name_line = lines.require(1, "Dataset Name:", "the data set's name")?;
    let name = lines.lines[name_line - 1]
        .split_once("Dataset Name:")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .ok_or_else(|| lines.error(name_line, "`Dataset Name:` is followed by no name"))?
        .to_owned();

    let (start_first, start_last, start_header) = line_range(&lines, "Starting Values")?;
    let (certified_first, certified_last, _) = line_range(&lines, "Certified Values")?;
    let (data_first, data_last, data_header) = line_range(&lines, "Data")?;
    if start_first != certified_first {
        return Err(lines.error(
            start_header,
            format!(
                "starting values on lines {start_first} to {start_last} do not open the \
                 certified values on lines {certified_first} to {certified_last}"
            ),
        ));
    }
    if data_last < data_first || data_first <= certified_last {
        return Err(lines.error(
            data_header,
            format!("data lines {data_first} to {data_last} are not after the certified values"),
        ));
    }

    let difficulty = difficulty(&lines)?;
    let (num_parameters, parameters_line) = num_parameters(&lines)?;
    let model = model_formula(&lines, parameters_line, start_first)?;

    let count = start_last - start_first + 1;
    if count != num_parameters {
        return Err(lines.error(
            start_first,
            format!(
                "the header announces {num_parameters} parameters but the starting values \
                 span {count} lines"
            ),
        ));
    }
    let parameters = (0..count)
        .map(|k| parameter_line(&lines, start_first + k, k + 1))
        .collect::<Result<Vec<_>>>()?;

    let summary = |label: &str| -> Result<(usize, &str)> {
        let number = (start_last + 1..=certified_last)
            .find(|&number| {
                lines
                    .lines
                    .get(number - 1)
                    .is_some_and(|line| line.trim_start().starts_with(label))
            })
            .ok_or_else(|| {
                lines.error(
                    certified_last.min(lines.lines.len().max(1)),
                    format!(
                        "no `{label}` line among the certified values (lines {} to \
                         {certified_last})",
                        start_last + 1
                    ),
                )
            })?;
        let value = lines.lines[number - 1]
            .split_once(':')
            .map(|(_, value)| value.trim())
            .unwrap_or("");
        Ok((number, value))
    };
    let (rss_line, rss_text) = summary("Residual Sum of Squares")?;
    let certified_rss = number(&lines, rss_line, rss_text, "the residual sum of squares")?;
    let (sd_line, sd_text) = summary("Residual Standard Deviation")?;
    let residual_std_dev = number(&lines, sd_line, sd_text, "the residual standard deviation")?;
    let (dof_line, dof_text) = summary("Degrees of Freedom")?;
    let degrees_of_freedom = integer(&lines, dof_line, dof_text, "the degrees of freedom")?;
    let (obs_line, obs_text) = summary("Number of Observations")?;
    let num_observations = integer(&lines, obs_line, obs_text, "the number of observations")?;

    let rows = data_last - data_first + 1;
    if rows != num_observations {
        return Err(lines.error(
            obs_line,
            format!(
                "{num_observations} observations announced but the data span lines \
                 {data_first} to {data_last} ({rows} lines)"
            ),
        ));
    }
    let header_line = data_first - 1;
    let header = lines.get(header_line, "the data header `Data: y x`")?;
    let columns = header
        .trim_start()
        .strip_prefix("Data:")
        .map(|rest| rest.split_whitespace().count())
        .filter(|&columns| columns >= 2)
        .ok_or_else(|| {
            lines.error(
                header_line,
                format!(
                    "expected the data header `Data: y x...`, found `{}`",
                    header.trim()
                ),
            )
        })?;
    let num_predictors = columns - 1;
    let mut response = Vec::with_capacity(rows);
    let mut predictors = Vec::with_capacity(rows * num_predictors);
    for number in data_first..=data_last {
        let line = lines.get(number, "a data row")?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != columns {
            return Err(lines.error(
                number,
                format!(
                    "expected {columns} numbers (y and {num_predictors} predictor(s)), found {}",
                    fields.len()
                ),
            ));
        }
        for (column, field) in fields.iter().enumerate() {
            let what = if column == 0 {
                "the response y".to_owned()
            } else {
                format!("predictor {column}")
            };
            let value = number_field(&lines, number, field, &what)?;
            if column == 0 {
                response.push(value);
            } else {
                predictors.push(value);
            }
        }
    }
    if let Some(extra) = (data_last + 1..=lines.lines.len())
        .find(|&number| !lines.lines[number - 1].trim().is_empty())
    {
        return Err(lines.error(
            extra,
            format!("unexpected content after the data, which the header ends at line {data_last}"),
        ));
    }

    Ok(DatFile {
        name,
        difficulty,
        model,
        parameters,
        certified_rss: certified_rss.0,
        certified_rss_digits: certified_rss.1,
        residual_std_dev: residual_std_dev.0,
        degrees_of_freedom,
        response,
        predictors,
        num_predictors,
    })
}

/// `(first, last, the header line's number)` of the header's
/// `LABEL (lines FIRST to LAST)`.
fn line_range(lines: &Lines<'_>, label: &str) -> Result<(usize, usize, usize)> {
    let number = lines
        .lines
        .iter()
        .position(|line| {
            let line = line.trim_start();
            let line = line
                .strip_prefix("File Format:")
                .unwrap_or(line)
                .trim_start();
            line.starts_with(label) && line.contains("(lines")
        })
        .map(|index| index + 1)
        .ok_or_else(|| {
            lines.error(
                1,
                format!(
                    "the header has no `{label} (lines A to B)` entry in its File Format block"
                ),
            )
        })?;
    let line = lines.lines[number - 1];
    let inside = line
        .split_once("(lines")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside);
    let bad = || {
        lines.error(
            number,
            format!("expected `{label} (lines A to B)`, found `{}`", line.trim()),
        )
    };
    let inside = inside.ok_or_else(bad)?;
    let (first, last) = inside.split_once("to").ok_or_else(bad)?;
    let first: usize = first.trim().parse().map_err(|_| bad())?;
    let last: usize = last.trim().parse().map_err(|_| bad())?;
    if first == 0 || last < first {
        return Err(bad());
    }
    Ok((first, last, number))
}

fn difficulty(lines: &Lines<'_>) -> Result<Difficulty> {
    let number = lines.require(1, "Level of Difficulty", "the level of difficulty")?;
    let line = lines.lines[number - 1];
    match line.split_whitespace().next() {
        Some("Lower") => Ok(Difficulty::Lower),
        Some("Average") => Ok(Difficulty::Average),
        Some("Higher") => Ok(Difficulty::Higher),
        _ => Err(lines.error(
            number,
            format!(
                "expected `Lower|Average|Higher Level of Difficulty`, found `{}`",
                line.trim()
            ),
        )),
    }
}

/// The `N Parameters (b1 to bN)` line: `(N, its line number)`.
fn num_parameters(lines: &Lines<'_>) -> Result<(usize, usize)> {
    let model_line = lines.require(1, "Model:", "the model")?;
    let number = lines.require(model_line, "Parameters", "the number of parameters")?;
    let line = lines.lines[number - 1];
    let count = line
        .split_whitespace()
        .next()
        .and_then(|word| word.parse::<usize>().ok())
        .filter(|&count| count > 0)
        .ok_or_else(|| {
            lines.error(
                number,
                format!(
                    "expected `N Parameters (b1 to bN)`, found `{}`",
                    line.trim()
                ),
            )
        })?;
    Ok((count, number))
}

/// The model's formula: the lines after the parameter count up to and
/// including the one ending in the error term `+ e`, joined, with `+ e`
/// removed and blanks collapsed. A `pi = ...` definition (Roszman1) is left out.
fn model_formula(lines: &Lines<'_>, parameters_line: usize, before: usize) -> Result<String> {
    let mut parts = Vec::new();
    for number in parameters_line + 1..before.min(lines.lines.len() + 1) {
        let line = lines.lines[number - 1].trim();
        if line.is_empty() || line.starts_with("pi =") {
            continue;
        }
        let compact: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
        let without_error_term = compact
            .strip_suffix("+ e")
            .or_else(|| compact.strip_suffix("+e"));
        match without_error_term {
            Some(last) => {
                parts.push(last.trim().to_owned());
                return Ok(parts.join(" "));
            }
            None => parts.push(compact),
        }
    }
    Err(lines.error(
        parameters_line + 1,
        "no model formula ending in the error term `+ e` after the parameter count",
    ))
}

fn parameter_line(lines: &Lines<'_>, number: usize, k: usize) -> Result<ParameterLine> {
    let line = lines.get(number, &format!("parameter b{k}"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let expected_name = format!("b{k}");
    if fields.len() != 6 || fields[0] != expected_name || fields[1] != "=" {
        return Err(lines.error(
            number,
            format!(
                "expected `{expected_name} = start1 start2 certified std_dev`, found `{}`",
                line.trim()
            ),
        ));
    }
    let start1 = number_field(lines, number, fields[2], "start 1")?;
    let start2 = number_field(lines, number, fields[3], "start 2")?;
    let certified = number_field(lines, number, fields[4], "the certified value")?;
    let std_dev = number_field(lines, number, fields[5], "the certified standard deviation")?;
    Ok(ParameterLine {
        starts: [start1, start2],
        certified,
        certified_digits: significant_digits(fields[4]),
        std_dev,
    })
}

/// A finite number in `field`, or an error naming the line and `what`.
fn number_field(lines: &Lines<'_>, number: usize, field: &str, what: &str) -> Result<f64> {
    match field.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(lines.error(number, format!("{what}: `{field}` is not finite"))),
        Err(_) => Err(lines.error(number, format!("{what}: `{field}` is not a number"))),
    }
}

/// `number_field` with the significant digits of the text.
fn number(lines: &Lines<'_>, number: usize, field: &str, what: &str) -> Result<(f64, u32)> {
    let value = number_field(lines, number, field, what)?;
    Ok((value, significant_digits(field)))
}

fn integer(lines: &Lines<'_>, number: usize, field: &str, what: &str) -> Result<usize> {
    field.parse::<usize>().map_err(|_| {
        lines.error(
            number,
            format!("{what}: `{field}` is not a non-negative integer"),
        )
    })
}

/// Significant digits of a decimal literal: the mantissa's digits without
/// its leading zeros (`2.3894212918E+02` has 11, `0.0001` has 1).
fn significant_digits(literal: &str) -> u32 {
    let mantissa = literal
        .split(['e', 'E'])
        .next()
        .unwrap_or(literal)
        .trim_start_matches(['+', '-']);
    let digits: Vec<char> = mantissa.chars().filter(char::is_ascii_digit).collect();
    let leading_zeros = digits.iter().take_while(|&&d| d == '0').count();
    (digits.len() - leading_zeros).max(1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits_of_nist_literals() {
        assert_eq!(significant_digits("2.3894212918E+02"), 11);
        assert_eq!(significant_digits("-5.7701013174E-02"), 11);
        assert_eq!(significant_digits("0.0001"), 1);
        assert_eq!(significant_digits(".591E0"), 3);
        assert_eq!(significant_digits("500"), 3);
    }
}
