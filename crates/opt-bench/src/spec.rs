//! The `name[:key=value,key=value,...]` specs of the runner's command line,
//! shared by problems and optimizers.
//!
//! - Whitespace around the name, keys and values is ignored.
//! - A single item without `=` right after the `:` is the *positional*
//!   argument: `mgh:beale,dim=2` has name `mgh`, positional `beale` and the
//!   argument `dim=2`; `nist:Misra1a` has positional `Misra1a`.
//! - A value runs from the first `=` to the next `,`, so a value may contain
//!   `=` (a file name) but not `,`.
//! - Empty names, keys or values, items without `=` (other than the
//!   positional one) and repeated keys are errors.
//!
//! A [`Spec`] only knows the shape; which keys are valid is the business of
//! the registry that builds from it ([`Spec::check_keys`]), and the typed
//! getters ([`Spec::get_f64`], ...) turn values into numbers with errors
//! that name the key and the value.

use std::fmt;

use crate::error::{BenchError, Result, names};

/// A parsed `name[:positional][,key=value,...]` spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// What the spec describes: `"problem"` or `"optimizer"` (used in messages).
    pub kind: &'static str,
    /// The name before the `:`.
    pub name: String,
    /// The single item without `=` right after the `:`, if any.
    pub positional: Option<String>,
    args: Vec<(String, String)>,
}

impl Spec {
    /// Parse `text` as a spec of the given `kind` (`"problem"`, `"optimizer"`).
    pub fn parse(kind: &'static str, text: &str) -> Result<Spec> {
        let text = text.trim();
        let fail = |message: String| BenchError::Spec {
            kind,
            spec: text.to_owned(),
            message,
        };
        let (name, rest) = match text.split_once(':') {
            Some((name, rest)) => (name.trim(), Some(rest)),
            None => (text, None),
        };
        if name.is_empty() {
            return Err(fail(format!(
                "empty {kind} name; expected `name[:key=value,...]`"
            )));
        }
        if let Some(bad) = name.chars().find(|c| matches!(c, '=' | ',')) {
            return Err(fail(format!(
                "`{bad}` in the name `{name}`; expected `name[:key=value,...]`"
            )));
        }
        let mut spec = Spec {
            kind,
            name: name.to_owned(),
            positional: None,
            args: Vec::new(),
        };
        let Some(rest) = rest else {
            return Ok(spec);
        };
        if rest.trim().is_empty() {
            return Err(fail(
                "nothing after `:`; drop the `:` or add key=value".to_owned(),
            ));
        }
        for (position, item) in rest.split(',').map(str::trim).enumerate() {
            if item.is_empty() {
                return Err(fail(
                    "empty argument (a doubled or trailing `,`?)".to_owned(),
                ));
            }
            let Some((key, value)) = item.split_once('=') else {
                if position == 0 {
                    spec.positional = Some(item.to_owned());
                    continue;
                }
                return Err(fail(format!(
                    "argument `{item}` has no `=`; expected key=value"
                )));
            };
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() {
                return Err(fail(format!("empty key in `{item}`")));
            }
            if value.is_empty() {
                return Err(fail(format!("empty value for `{key}`")));
            }
            if spec.args.iter().any(|(k, _)| k == key) {
                return Err(fail(format!("duplicate key `{key}`")));
            }
            spec.args.push((key.to_owned(), value.to_owned()));
        }
        Ok(spec)
    }

    /// The `key=value` arguments in the order given.
    pub fn args(&self) -> &[(String, String)] {
        &self.args
    }

    /// `true` when `key` was given.
    pub fn contains(&self, key: &str) -> bool {
        self.args.iter().any(|(k, _)| k == key)
    }

    /// An [`BenchError::UnknownArgument`] for the first key not in `valid`.
    pub fn check_keys(&self, valid: &[&str]) -> Result<()> {
        match self
            .args
            .iter()
            .find(|(key, _)| !valid.contains(&key.as_str()))
        {
            Some((key, _)) => Err(BenchError::UnknownArgument {
                kind: self.kind,
                name: self.name.clone(),
                key: key.clone(),
                valid: names(valid),
            }),
            None => Ok(()),
        }
    }

    /// An error if a positional argument was given: for names that take none.
    pub fn check_no_positional(&self) -> Result<()> {
        match &self.positional {
            Some(item) => Err(BenchError::Spec {
                kind: self.kind,
                spec: self.to_string(),
                message: format!(
                    "`{}` takes no positional argument, found `{item}`",
                    self.name
                ),
            }),
            None => Ok(()),
        }
    }

    /// The raw value of `key`.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` as a finite `f64`.
    pub fn get_f64(&self, key: &str) -> Result<Option<f64>> {
        self.get_parsed(key, |value| match value.parse::<f64>() {
            Ok(number) if number.is_finite() => Ok(number),
            Ok(_) => Err("not a finite number"),
            Err(_) => Err("not a number"),
        })
    }

    /// The value of `key` as a non-negative integer.
    pub fn get_usize(&self, key: &str) -> Result<Option<usize>> {
        self.get_parsed(key, |value| {
            value
                .parse::<usize>()
                .map_err(|_| "not a non-negative integer")
        })
    }

    /// The value of `key` as an unsigned 64-bit integer (e.g. a seed).
    pub fn get_u64(&self, key: &str) -> Result<Option<u64>> {
        self.get_parsed(key, |value| {
            value
                .parse::<u64>()
                .map_err(|_| "not an unsigned 64-bit integer")
        })
    }

    /// The value of `key` as a boolean: `true`/`false`/`1`/`0`.
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>> {
        self.get_parsed(key, |value| match value {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err("expected true, false, 1 or 0"),
        })
    }

    /// An [`BenchError::InvalidArgument`] for `key = value` of this spec.
    pub fn invalid(
        &self,
        key: &str,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> BenchError {
        BenchError::InvalidArgument {
            kind: self.kind,
            name: self.name.clone(),
            key: key.to_owned(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    fn get_parsed<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> std::result::Result<T, &'static str>,
    ) -> Result<Option<T>> {
        match self.get_str(key) {
            None => Ok(None),
            Some(value) => parse(value)
                .map(Some)
                .map_err(|reason| self.invalid(key, value, reason)),
        }
    }
}

/// The canonical text `name[:positional][,key=value,...]`, which parses back
/// to an equal spec.
impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        let items = self
            .positional
            .iter()
            .cloned()
            .chain(self.args.iter().map(|(k, v)| format!("{k}={v}")));
        for (i, item) in items.enumerate() {
            f.write_str(if i == 0 { ":" } else { "," })?;
            f.write_str(&item)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Spec> {
        Spec::parse("problem", text)
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn name_only() {
        let spec = parse("  rosenbrock ").unwrap();
        assert_eq!(spec.name, "rosenbrock");
        assert_eq!(spec.positional, None);
        assert!(spec.args().is_empty());
        assert_eq!(spec.to_string(), "rosenbrock");
    }

    #[test]
    fn key_values_are_trimmed_and_kept_in_order() {
        let spec = parse("adam: lr = 1e-3 , beta1=0.9,amsgrad=true").unwrap();
        assert_eq!(spec.name, "adam");
        assert_eq!(spec.get_str("lr"), Some("1e-3"));
        assert_eq!(spec.get_f64("lr").unwrap(), Some(1e-3));
        assert_eq!(spec.get_f64("beta1").unwrap(), Some(0.9));
        assert_eq!(spec.get_bool("amsgrad").unwrap(), Some(true));
        assert_eq!(spec.get_f64("missing").unwrap(), None);
        assert!(spec.contains("beta1"));
        assert_eq!(spec.to_string(), "adam:lr=1e-3,beta1=0.9,amsgrad=true");
        assert_eq!(parse(&spec.to_string()).unwrap(), spec);
    }

    #[test]
    fn a_value_may_contain_equals() {
        let spec = parse("quadratic:file=/tmp/a=b.json").unwrap();
        assert_eq!(spec.get_str("file"), Some("/tmp/a=b.json"));
    }

    #[test]
    fn positional_item_right_after_the_colon() {
        let spec = parse("mgh:beale,dim=2").unwrap();
        assert_eq!(spec.name, "mgh");
        assert_eq!(spec.positional.as_deref(), Some("beale"));
        assert_eq!(spec.get_usize("dim").unwrap(), Some(2));
        assert_eq!(spec.to_string(), "mgh:beale,dim=2");
        let nist = parse("nist:Misra1a").unwrap();
        assert_eq!(nist.positional.as_deref(), Some("Misra1a"));
        assert!(nist.check_no_positional().is_err());
        assert!(
            parse("rosenbrock:dim=3")
                .unwrap()
                .check_no_positional()
                .is_ok()
        );
    }

    #[test]
    fn shape_errors() {
        assert!(error("").contains("empty problem name"));
        assert!(error(":dim=2").contains("empty problem name"));
        assert!(error("rosenbrock:").contains("nothing after"));
        assert!(error("rosenbrock:dim=2,").contains("empty argument"));
        assert!(error("rosenbrock:dim=2,,x=1").contains("empty argument"));
        assert!(error("rosenbrock:=2").contains("empty key"));
        assert!(error("rosenbrock:dim=").contains("empty value for `dim`"));
        assert!(error("rosenbrock:dim=2,fast").contains("`fast` has no `=`"));
        assert!(error("mgh:beale,extra").contains("`extra` has no `=`"));
        assert!(error("rosenbrock:dim=2,dim=3").contains("duplicate key `dim`"));
        assert!(error("dim=2").contains("in the name"));
        let message = error("rosenbrock:dim=2,dim=3");
        assert!(message.starts_with("invalid problem spec `rosenbrock:dim=2,dim=3`"));
    }

    #[test]
    fn unknown_keys_list_the_valid_ones() {
        let spec = parse("rosenbrock:dim=2,size=3").unwrap();
        assert!(spec.check_keys(&["dim", "size"]).is_ok());
        let message = spec.check_keys(&["dim"]).unwrap_err().to_string();
        assert_eq!(
            message,
            "unknown argument `size` for problem `rosenbrock`; valid: dim"
        );
    }

    #[test]
    fn typed_getters_name_key_and_value() {
        let spec = Spec::parse(
            "optimizer",
            "sgd:lr=fast,eps=inf,m=-3,seed=12345678901234,nesterov=yes,k=7",
        )
        .unwrap();
        let lr = spec.get_f64("lr").unwrap_err().to_string();
        assert!(
            lr.contains("`fast`") && lr.contains("`lr`") && lr.contains("optimizer `sgd`"),
            "{lr}"
        );
        assert!(
            spec.get_f64("eps")
                .unwrap_err()
                .to_string()
                .contains("not a finite number")
        );
        assert!(
            spec.get_usize("m")
                .unwrap_err()
                .to_string()
                .contains("`-3`")
        );
        assert_eq!(spec.get_u64("seed").unwrap(), Some(12_345_678_901_234));
        assert!(spec.get_u64("lr").is_err());
        assert!(
            spec.get_bool("nesterov")
                .unwrap_err()
                .to_string()
                .contains("`yes`")
        );
        assert_eq!(spec.get_usize("k").unwrap(), Some(7));
        let bools = Spec::parse("optimizer", "x:a=1,b=0,c=false").unwrap();
        assert_eq!(bools.get_bool("a").unwrap(), Some(true));
        assert_eq!(bools.get_bool("b").unwrap(), Some(false));
        assert_eq!(bools.get_bool("c").unwrap(), Some(false));
    }
}
