//! The one-time code form of the two-factor views: a `code` field (a TOTP
//! code, or at the login's second step a recovery code too).

use crate::forms::{Form, widgets::FormField};
use crate::http::body::FormData;

/// The message for a code that is wrong, used, or from too long ago.
pub const INVALID_CODE: &str = "Incorrect code. Check the code and try again.";

/// A submitted code form.
#[derive(Debug)]
pub(crate) struct CodeForm {
    pub(crate) form: Form,
    pub(crate) code: String,
}

impl CodeForm {
    /// The empty form; `numeric` for a TOTP code only (the phone shows a
    /// number pad), not where a recovery code may be typed.
    pub(crate) fn blank(numeric: bool) -> Form {
        Form::new(fields(numeric))
    }

    /// The form as submitted, its field required (at most 64 characters).
    pub(crate) fn bound(data: &FormData, numeric: bool) -> Self {
        let code: String = data
            .get("code")
            .unwrap_or("")
            .trim()
            .chars()
            .take(64)
            .collect();
        let mut form = Form::new(fields(numeric));
        form.require(&[("code", &code)]);
        CodeForm { form, code }
    }
}

fn fields(numeric: bool) -> Vec<FormField> {
    let field = FormField::new("code", "Code", "text")
        .attr("autofocus", "")
        .attr("autocomplete", "one-time-code")
        .attr("maxlength", "64")
        .attr("spellcheck", "false");
    vec![if numeric {
        field
            .attr("inputmode", "numeric")
            .attr("pattern", "[0-9 ]*")
    } else {
        field
    }]
}
