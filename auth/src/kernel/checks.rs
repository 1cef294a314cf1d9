//! One finding of a system check, and the report of a run, printed as
//! Django's `manage.py check` prints them.

use std::net::SocketAddr;

use std::fmt;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Worth knowing; the app starts.
    Warning,
    /// The app would misbehave; `serve` refuses to start and `check` exits
    /// non-zero.
    Error,
}

/// A finding: Django's `CheckMessage`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckMessage {
    /// Error or warning.
    pub level: Level,
    /// A stable id (`auth.E001`), for `AUTH_SILENCED_SYSTEM_CHECKS`.
    pub id: &'static str,
    /// What is wrong.
    pub msg: String,
    /// What to write instead.
    pub hint: Option<String>,
    /// What it concerns (a handler, a setting), if anything in particular.
    pub obj: Option<String>,
}

impl CheckMessage {
    pub(crate) fn error(id: &'static str, msg: impl Into<String>) -> Self {
        CheckMessage {
            level: Level::Error,
            id,
            msg: msg.into(),
            hint: None,
            obj: None,
        }
    }

    pub(crate) fn warning(id: &'static str, msg: impl Into<String>) -> Self {
        CheckMessage {
            level: Level::Warning,
            ..CheckMessage::error(id, msg)
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn obj(mut self, obj: impl Into<String>) -> Self {
        self.obj = Some(obj.into());
        self
    }

    /// Whether it is an error.
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

/// `obj: (id) msg` and an indented `HINT:` line, as Django prints one.
impl fmt::Display for CheckMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let obj = self.obj.as_deref().unwrap_or("?");
        write!(f, "{obj}: ({}) {}", self.id, self.msg)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n\tHINT: {hint}")?;
        }
        Ok(())
    }
}

/// What a run of the checks found, without the silenced ones.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The findings, errors first.
    pub messages: Vec<CheckMessage>,
    /// How many were silenced by `AUTH_SILENCED_SYSTEM_CHECKS`.
    pub silenced: usize,
}

impl Report {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.messages.iter().any(CheckMessage::is_error)
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &CheckMessage> {
        self.messages.iter().filter(|m| m.is_error())
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &CheckMessage> {
        self.messages.iter().filter(|m| !m.is_error())
    }

    /// Whether a finding with this id is in the report.
    pub fn contains(&self, id: &str) -> bool {
        self.messages.iter().any(|m| m.id == id)
    }
}

/// Django's layout: `ERRORS:` and `WARNINGS:` sections, then the count
/// ("System check identified no issues (0 silenced).").
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.messages.is_empty() {
            writeln!(f, "System check identified some issues:")?;
            for (title, errors) in [("ERRORS", true), ("WARNINGS", false)] {
                let mut section = self.messages.iter().filter(|m| m.is_error() == errors);
                if let Some(first) = section.next() {
                    writeln!(f, "\n{title}:\n{first}")?;
                    for message in section {
                        writeln!(f, "{message}")?;
                    }
                }
            }
            writeln!(f)?;
        }
        let count = match self.messages.len() {
            0 => "no issues".to_owned(),
            1 => "1 issue".to_owned(),
            n => format!("{n} issues"),
        };
        write!(
            f,
            "System check identified {count} ({} silenced).",
            self.silenced
        )
    }
}

/// Which checks run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scope {
    /// The production checks too (`check --deploy`).
    pub deploy: bool,
    /// The address `serve` is about to listen on: beyond loopback, the
    /// production checks on hosts and cookies run as well.
    pub bind: Option<SocketAddr>,
}

impl Scope {
    /// What `check` runs; with `deploy`, what `check --deploy` runs.
    pub fn check(deploy: bool) -> Self {
        Scope { deploy, bind: None }
    }

    /// What `serve` runs before it listens on `bind`.
    pub fn serve(bind: SocketAddr) -> Self {
        Scope {
            deploy: false,
            bind: Some(bind),
        }
    }

    /// Whether the checks for a site on the internet apply.
    pub(crate) fn public(&self) -> bool {
        self.deploy || self.bind.is_some_and(|bind| !bind.ip().is_loopback())
    }
}
