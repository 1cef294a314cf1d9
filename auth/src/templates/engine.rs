//! The template environment: minijinja with embedded defaults for every
//! built-in view, overridable by name from a directory or from code, and
//! Django's HTML escaping.

use std::{path::PathBuf, sync::Arc};

use minijinja::{Environment, Value};

use crate::{kernel::error::Result, urls::Urls};

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
        "auth/reauthenticate.html",
        include_str!("../../templates/auth/reauthenticate.html"),
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
    (
        "registration/password_reset_form.html",
        include_str!("../../templates/registration/password_reset_form.html"),
    ),
    (
        "registration/password_reset_done.html",
        include_str!("../../templates/registration/password_reset_done.html"),
    ),
    (
        "registration/password_reset_confirm.html",
        include_str!("../../templates/registration/password_reset_confirm.html"),
    ),
    (
        "registration/password_reset_complete.html",
        include_str!("../../templates/registration/password_reset_complete.html"),
    ),
    (
        "registration/password_reset_email.html",
        include_str!("../../templates/registration/password_reset_email.html"),
    ),
    (
        "registration/password_reset_subject.txt",
        include_str!("../../templates/registration/password_reset_subject.txt"),
    ),
];

/// The template environment of an app.
#[derive(Clone)]
pub(crate) struct Engine {
    env: Arc<Environment<'static>>,
    /// Per template: whether it (or a template it extends, includes or
    /// imports) reads `perms`, so permissions load only for those.
    reads_perms: Arc<std::sync::Mutex<ReadsPerms>>,
}

impl Engine {
    /// Looks templates up in `registered` (from code), then `dir`, then
    /// the built-in defaults: the core's, then `apps`' (each feature app's
    /// own, given by the builder).
    pub(crate) fn new(
        dir: Option<PathBuf>,
        registered: Vec<(String, String)>,
        urls: Urls,
        apps: Vec<&'static [(&'static str, &'static str)]>,
    ) -> Result<Self> {
        if let Some(dir) = &dir
            && !dir.is_dir()
        {
            let shown = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
            let missing = crate::kernel::checks::CheckMessage::error(
                "auth.E002",
                format!("the templates directory {} does not exist", shown.display()),
            )
            .hint(
                "a relative path is resolved against the working directory; use \
                 concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/templates\") for one next to the crate",
            )
            .obj("templates_dir");
            return Err(crate::kernel::error::Error::Config(missing.to_string()));
        }
        let mut env = Environment::new();
        env.set_formatter(django_escape_formatter);
        super::url::register(&mut env, urls);
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
            Ok(std::iter::once(DEFAULTS)
                .chain(apps.iter().copied())
                .flat_map(|set| set.iter())
                .find(|(n, _)| *n == name)
                .map(|(_, source)| (*source).to_owned()))
        });
        for (name, source) in registered {
            env.add_template_owned(name, source)?;
        }
        Ok(Engine {
            env: Arc::new(env),
            reads_perms: Arc::default(),
        })
    }

    /// Whether rendering `name` may read `perms`: the template or one it
    /// reaches through `extends`, `include`, `import` or `from` names it
    /// (a template named by a variable counts as reading it).
    pub(crate) fn reads_perms(&self, name: &str) -> bool {
        let cache = || {
            self.reads_perms
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(known) = cache().get(name) {
            return *known;
        }
        let mut seen = std::collections::HashSet::new();
        let reads = self.reaches_variable(name, "perms", &mut seen);
        cache().insert(name.to_owned(), reads);
        reads
    }

    fn reaches_variable(
        &self,
        name: &str,
        variable: &str,
        seen: &mut std::collections::HashSet<String>,
    ) -> bool {
        if !seen.insert(name.to_owned()) {
            return false;
        }
        let Ok(template) = self.env.get_template(name) else {
            return false; // rendering will report it
        };
        if template.undeclared_variables(false).contains(variable) {
            return true;
        }
        match referenced_templates(template.source()) {
            Some(names) => names
                .iter()
                .any(|other| self.reaches_variable(other, variable, seen)),
            None => true,
        }
    }

    /// Whether a template of this name exists (the app's, or built in).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.env.get_template(name).is_ok()
    }

    pub(crate) fn render(&self, name: &str, context: Value) -> Result<String> {
        Ok(self.env.get_template(name)?.render(context)?)
    }
}

/// The templates `source` names in `extends`, `include`, `import` and
/// `from` tags; `None` when one is named by an expression other than a
/// string literal.
fn referenced_templates(source: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for tag in source.split("{%").skip(1) {
        let body = tag.split("%}").next().unwrap_or_default();
        let body = body.trim_start_matches(['-', '+']).trim_start();
        let mut words = body.splitn(2, char::is_whitespace);
        let keyword = words.next().unwrap_or_default();
        if !matches!(keyword, "extends" | "include" | "import" | "from") {
            continue;
        }
        let rest = words.next().unwrap_or_default().trim_start();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let literal = rest[1..].split(quote).next()?;
        names.push(literal.to_owned());
        // `include ["a.html", "b.html"]` and the like are lists: give up.
    }
    Some(names)
}

/// Whether each template reads `perms`, by name (foldhash: looked up on
/// every render, with names the app chose).
type ReadsPerms = std::collections::HashMap<String, bool, foldhash::fast::RandomState>;

/// Escapes as Django does (`& < > " '`), leaving `/` readable so values
/// such as `next` round-trip through naive HTML parsers.
fn django_escape_formatter(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &Value,
) -> std::result::Result<(), minijinja::Error> {
    if let Some(written) = super::csrf::write_input(value, out) {
        // Markup this crate makes: printed as is.
        return written.map_err(|_| {
            minijinja::Error::new(
                minijinja::ErrorKind::WriteFailure,
                "cannot write template output",
            )
        });
    }
    if matches!(state.auto_escape(), minijinja::AutoEscape::Html) && !value.is_safe() {
        let written = if value.is_undefined() {
            Ok(())
        } else if let Some(text) = value.as_str() {
            // Strings, the common case, are escaped straight into the output.
            write_escaped(out, text)
        } else {
            write_escaped(out, &value.to_string())
        };
        written.map_err(|_| {
            minijinja::Error::new(
                minijinja::ErrorKind::WriteFailure,
                "cannot write template output",
            )
        })
    } else {
        minijinja::escape_formatter(out, state, value)
    }
}

/// Writes `text` escaped as Django does (`& < > " '`), in runs between
/// the characters that need it.
fn write_escaped(out: &mut minijinja::Output<'_>, text: &str) -> std::fmt::Result {
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            _ => continue,
        };
        out.write_str(&text[start..i])?;
        out.write_str(entity)?;
        start = i + 1;
    }
    out.write_str(&text[start..])
}

/// `name` under `dir`, refusing absolute paths and `..`.
fn safe_join(dir: &std::path::Path, name: &str) -> Option<PathBuf> {
    let relative = std::path::Path::new(name);
    let plain = relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    plain.then(|| dir.join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(templates: &[(&str, &str)]) -> Engine {
        let registered = templates
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        Engine::new(None, registered, Urls::default(), Vec::new()).unwrap()
    }

    /// Printing escapes exactly as `html::escape` does, for strings and
    /// other values, over every short string of the characters that
    /// matter (and multi-byte ones between them).
    #[test]
    fn printed_values_are_escaped_like_django() {
        let engine = engine(&[("v.html", "{{ v }}|{{ n }}")]);
        let alphabet = ['&', '<', '>', '"', '\'', 'a', 'é', '/', '😀'];
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
        }
        for text in &strings {
            let printed = engine
                .render("v.html", minijinja::context! { v => text, n => 1.5 })
                .unwrap();
            assert_eq!(
                printed,
                format!("{}|1.5", crate::http::html::escape(text)),
                "{text:?}"
            );
        }
        let list = engine
            .render("v.html", minijinja::context! { v => vec!["<a>"], n => () })
            .unwrap();
        assert_eq!(list, "[&#x27;&lt;a&gt;&#x27;]|None");
    }

    #[test]
    fn perms_is_found_through_extends_and_include() {
        let engine = engine(&[
            (
                "base.html",
                "<nav>{% if perms.accounts %}R{% endif %}</nav>{% block body %}{% endblock %}",
            ),
            (
                "page.html",
                "{% extends \"base.html\" %}{% block body %}{{ user }}{% endblock %}",
            ),
            ("outer.html", "{% include 'page.html' %}"),
            (
                "plain.html",
                "{{ user.username }}{% include 'other.html' %}",
            ),
            ("other.html", "{{ csrf_input }}"),
            ("dynamic.html", "{% extends layout %}"),
        ]);
        assert!(engine.reads_perms("base.html"));
        assert!(engine.reads_perms("page.html"));
        assert!(engine.reads_perms("outer.html"));
        assert!(!engine.reads_perms("plain.html"));
        assert!(engine.reads_perms("dynamic.html"));
        assert!(!engine.reads_perms("registration/login.html"));
    }
}
