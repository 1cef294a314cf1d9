//! `csrf_token` and `csrf_input` for templates, made only when a template
//! prints one: a page without a form sets no CSRF cookie (as Django, where
//! `get_token` is what asks for the cookie).

use std::sync::Arc;

use minijinja::{
    Value,
    value::{Object, ObjectRepr},
};

use crate::csrf::token::CSRF_FIELD_NAME;

/// Where the token comes from: the render's context, which masks the
/// request's token once, when a template first prints it.
pub(crate) trait MaskedToken: Send + Sync {
    /// The masked token (asking for the CSRF cookie the first time).
    fn masked_token(&self) -> &str;
}

/// `csrf_token`: the masked token.
#[derive(Clone)]
pub(crate) struct CsrfToken(pub(crate) Arc<dyn MaskedToken>);

/// `csrf_input`: the hidden input carrying it (printed as HTML).
#[derive(Clone)]
pub(crate) struct CsrfInput(pub(crate) Arc<dyn MaskedToken>);

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfToken")
    }
}

impl std::fmt::Debug for CsrfInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfInput")
    }
}

impl Object for CsrfToken {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.masked_token())
    }
}

impl Object for CsrfInput {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write(f)
    }
}

impl CsrfInput {
    /// The markup, in a few plain writes: no formatting machinery on a path
    /// that most logged-in pages print.
    fn write(&self, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        out.write_str("<input type=\"hidden\" name=\"")?;
        out.write_str(CSRF_FIELD_NAME)?;
        out.write_str("\" value=\"")?;
        out.write_str(self.0.masked_token())?;
        out.write_str("\">")
    }
}

/// Writes `value` to `out` as is if it is the `csrf_input` markup (made
/// here, printed without escaping); `None` when it is not.
pub(crate) fn write_input(
    value: &Value,
    out: &mut impl std::fmt::Write,
) -> Option<std::fmt::Result> {
    Some(value.downcast_object_ref::<CsrfInput>()?.write(out))
}
