//! What a build reports: the platforms left out ([`Skipped`]) and every configuration problem
//! of every platform ([`ConfigReport`]). The registry and the builder both use these, so they
//! live apart from both.

use std::collections::BTreeSet;
use std::fmt;

use conn_core::error::ConfigError;
use conn_core::Error;

/// A platform left out because none of its variables is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The platform (`douyin`, `ths`, `erp`, or a content profile name).
    pub platform: String,
    /// The variables to set to enable it.
    pub variables: Vec<String>,
    /// What else would do (an alternative credential, a caveat).
    pub hint: String,
}

impl Skipped {
    /// The configuration error for using the platform anyway: it names the first variable and
    /// lists them all.
    pub fn to_error(&self) -> Error {
        let first = self.variables.first().cloned().unwrap_or_default();
        Error::Config(ConfigError::var(first, self.message()))
    }

    fn message(&self) -> String {
        let mut m = format!(
            "{} is not configured; set {}",
            self.platform,
            self.variables.join(" and ")
        );
        if !self.hint.is_empty() {
            m.push_str(" (");
            m.push_str(&self.hint);
            m.push(')');
        }
        m
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Everything wrong with one platform's configuration.
#[derive(Debug)]
pub struct PlatformProblem {
    /// The platform.
    pub platform: String,
    /// Its errors (configuration errors name their variable).
    pub errors: Vec<Error>,
}

impl PlatformProblem {
    /// The variables named by this platform's errors.
    pub fn variables(&self) -> Vec<&str> {
        self.errors
            .iter()
            .filter_map(|e| match e {
                Error::Config(c) => c.var.as_deref(),
                _ => None,
            })
            .collect()
    }
}

/// Every configuration problem of every platform, found in one pass.
///
/// `Display` lists each platform, each variable to set or fix and why; it converts into
/// [`conn_core::Error::Config`] (exit code 3 in the CLI).
#[derive(Debug, Default)]
pub struct ConfigReport {
    problems: Vec<PlatformProblem>,
    pub(crate) skipped: Vec<Skipped>,
}

impl ConfigReport {
    /// The platforms with problems, in build order.
    pub fn problems(&self) -> &[PlatformProblem] {
        &self.problems
    }

    /// The problem of one platform.
    pub fn problem(&self, platform: &str) -> Option<&PlatformProblem> {
        self.problems.iter().find(|p| p.platform == platform)
    }

    /// Platforms that were not configured at all (not errors).
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Every variable named by a problem, in order.
    pub fn variables(&self) -> Vec<&str> {
        self.problems.iter().flat_map(|p| p.variables()).collect()
    }

    /// True when no platform has a problem.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Adds `errors` to `platform`'s problem (nothing when there are none).
    pub(crate) fn add(&mut self, platform: &str, errors: Vec<Error>) {
        if errors.is_empty() {
            return;
        }
        match self.problems.iter_mut().find(|p| p.platform == platform) {
            Some(p) => p.errors.extend(errors),
            None => self.problems.push(PlatformProblem {
                platform: platform.to_owned(),
                errors,
            }),
        }
    }
}

fn error_line(e: &Error) -> String {
    match e {
        Error::Config(c) => match &c.var {
            Some(v) => format!("{v}: {}", c.message),
            None => c.message.clone(),
        },
        other => other.to_string(),
    }
}

impl fmt::Display for ConfigReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{n} platform{} configured incompletely; fix every line below",
            if n == 1 { " is" } else { "s are" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {}:", p.platform)?;
            for e in &p.errors {
                write!(f, "\n    - {}", error_line(e))?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigReport {}

impl From<ConfigReport> for Error {
    /// One configuration error whose message is the whole report; `var` is set when the
    /// report names exactly one variable.
    fn from(report: ConfigReport) -> Self {
        let vars: BTreeSet<&str> = report.variables().into_iter().collect();
        let var = (vars.len() == 1)
            .then(|| vars.iter().next().map(|v| (*v).to_owned()))
            .flatten();
        Error::Config(ConfigError {
            var,
            message: report.to_string(),
            also: Vec::new(),
        })
    }
}
