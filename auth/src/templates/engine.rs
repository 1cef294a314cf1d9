//! The template environment: minijinja with embedded defaults for every
//! built-in view, overridable by name from a directory or from code, and
//! Django's HTML escaping.

use std::{path::PathBuf, sync::Arc};

use minijinja::{Environment, Value};

use crate::Result;

/// The built-in templates, by name.
const DEFAULTS: &[(&str, &str)] = &[
    (
        "auth/base.html",
        include_str!("../../templates/auth/base.html"),
    ),
    (
        "auth/form.html",
        include_str!("../../templates/auth/form.html"),
    ),
    (
        "registration/login.html",
        include_str!("../../templates/registration/login.html"),
    ),
    (
        "registration/logged_out.html",
        include_str!("../../templates/registration/logged_out.html"),
    ),
    (
        "registration/password_change_form.html",
        include_str!("../../templates/registration/password_change_form.html"),
    ),
    (
        "registration/password_change_done.html",
        include_str!("../../templates/registration/password_change_done.html"),
    ),
];

/// The template environment of an app.
#[derive(Clone)]
pub(crate) struct Engine {
    env: Arc<Environment<'static>>,
}

impl Engine {
    /// Looks templates up in `registered` (from code), then `dir`, then the
    /// built-in defaults.
    pub(crate) fn new(dir: Option<PathBuf>, registered: Vec<(String, String)>) -> Result<Self> {
        if let Some(dir) = &dir
            && !dir.is_dir()
        {
            let shown = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
            return Err(crate::Error::Config(format!(
                "the templates directory {} does not exist (a relative path is resolved \
                 against the working directory; use \
                 concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/templates\") for one next to the crate)",
                shown.display()
            )));
        }
        let mut env = Environment::new();
        env.set_formatter(django_escape_formatter);
        env.set_loader(move |name| {
            if let Some(dir) = &dir
                && let Some(path) = safe_join(dir, name)
                && path.is_file()
            {
                return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("cannot read {}: {e}", path.display()),
                    )
                });
            }
            Ok(DEFAULTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, source)| (*source).to_owned()))
        });
        for (name, source) in registered {
            env.add_template_owned(name, source)?;
        }
        Ok(Engine { env: Arc::new(env) })
    }

    pub(crate) fn render(&self, name: &str, context: Value) -> Result<String> {
        Ok(self.env.get_template(name)?.render(context)?)
    }
}

/// Escapes as Django does (`& < > " '`), leaving `/` readable so values
/// such as `next` round-trip through naive HTML parsers.
fn django_escape_formatter(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &Value,
) -> std::result::Result<(), minijinja::Error> {
    if matches!(state.auto_escape(), minijinja::AutoEscape::Html) && !value.is_safe() {
        let text = if value.is_undefined() {
            String::new()
        } else {
            value.to_string()
        };
        write!(out, "{}", crate::html::escape(&text)).map_err(|_| {
            minijinja::Error::new(
                minijinja::ErrorKind::WriteFailure,
                "cannot write template output",
            )
        })
    } else {
        minijinja::escape_formatter(out, state, value)
    }
}

/// `name` under `dir`, refusing absolute paths and `..`.
fn safe_join(dir: &std::path::Path, name: &str) -> Option<PathBuf> {
    let relative = std::path::Path::new(name);
    let plain = relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    plain.then(|| dir.join(relative))
}
