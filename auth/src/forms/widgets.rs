//! Form fields as templates see them (Django's bound fields and
//! widgets): label, value, errors, help texts and a rendered accessible
//! `<input>`.

use std::collections::BTreeMap;

use minijinja::Value;

use crate::http::html::escape as html_escape;

/// One input of a built-in form.
#[derive(Clone, Debug)]
pub(crate) struct FormField {
    /// The input's `name` (Django's field name).
    pub(crate) name: &'static str,
    /// The visible label.
    pub(crate) label: &'static str,
    /// `text`, `password`, `email` or `checkbox` (whose `value` is
    /// non-empty when ticked).
    pub(crate) input_type: &'static str,
    /// The value to show again (never for passwords).
    pub(crate) value: String,
    /// Error messages for this field.
    pub(crate) errors: Vec<String>,
    /// Help texts shown under the field.
    pub(crate) help_texts: Vec<String>,
    /// Extra attributes (`autocomplete`, `maxlength`, …).
    pub(crate) attrs: Vec<(&'static str, String)>,
}

impl FormField {
    pub(crate) fn new(name: &'static str, label: &'static str, input_type: &'static str) -> Self {
        FormField {
            name,
            label,
            input_type,
            value: String::new(),
            errors: Vec::new(),
            help_texts: Vec::new(),
            attrs: Vec::new(),
        }
    }

    pub(crate) fn attr(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.attrs.push((name, value.into()));
        self
    }

    /// The `<input>` element.
    pub(crate) fn widget(&self) -> String {
        let mut html = format!(
            "<input type=\"{}\" name=\"{}\" id=\"id_{}\"",
            self.input_type, self.name, self.name
        );
        if !self.value.is_empty() && self.input_type != "checkbox" {
            html.push_str(&format!(" value=\"{}\"", html_escape(&self.value)));
        }
        for (name, value) in &self.attrs {
            if value.is_empty() {
                html.push_str(&format!(" {name}"));
            } else {
                html.push_str(&format!(" {name}=\"{}\"", html_escape(value)));
            }
        }
        if self.input_type == "checkbox" {
            // A box left unticked is a valid answer.
            if !self.value.is_empty() {
                html.push_str(" checked");
            }
        } else {
            html.push_str(" required");
        }
        if !self.errors.is_empty() {
            html.push_str(&format!(
                " aria-invalid=\"true\" aria-describedby=\"id_{}_error\"",
                self.name
            ));
        } else if !self.help_texts.is_empty() {
            html.push_str(&format!(" aria-describedby=\"id_{}_helptext\"", self.name));
        }
        html.push('>');
        html
    }

    fn to_value(&self) -> Value {
        let mut map: BTreeMap<&str, Value> = BTreeMap::new();
        map.insert("name", Value::from(self.name));
        map.insert("label", Value::from(self.label));
        map.insert("value", Value::from(self.value.clone()));
        map.insert("errors", Value::from(self.errors.clone()));
        map.insert("help_texts", Value::from(self.help_texts.clone()));
        map.insert("widget", Value::from_safe_string(self.widget()));
        Value::from(map)
    }
}

/// A form as templates see it: `form.fields` (in order), `form.<name>`,
/// `form.non_field_errors`, `form.errors` (true when anything failed).
pub(crate) fn form_value(fields: &[FormField], non_field_errors: &[String]) -> Value {
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for field in fields {
        map.insert(field.name.to_owned(), field.to_value());
    }
    map.insert(
        "fields".into(),
        Value::from(fields.iter().map(FormField::to_value).collect::<Vec<_>>()),
    );
    map.insert(
        "non_field_errors".into(),
        Value::from(non_field_errors.to_vec()),
    );
    let has_errors = !non_field_errors.is_empty() || fields.iter().any(|f| !f.errors.is_empty());
    map.insert("errors".into(), Value::from(has_errors));
    Value::from(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_partial_renders_every_field() {
        let mut env = minijinja::Environment::new();
        env.add_template("form.html", include_str!("../../templates/auth/form.html"))
            .unwrap();
        let mut field = FormField::new("username", "Username", "text");
        field.errors.push("This field is required.".into());
        let out = env
            .get_template("form.html")
            .unwrap()
            .render(minijinja::context! { form => form_value(&[field], &["Bad <login>".into()]) })
            .unwrap();
        assert!(
            out.contains("<input type=\"text\" name=\"username\" id=\"id_username\""),
            "{out}"
        );
        assert!(out.contains("This field is required."), "{out}");
        assert!(out.contains("Bad &lt;login&gt;"), "{out}");
    }
}
