//! `csrf_token` and `csrf_input` for templates, made only when a template
//! prints one: a page without a form sets no CSRF cookie (as Django, where
//! `get_token` is what asks for the cookie).

use std::sync::{Arc, OnceLock};

use minijinja::{
    Value,
    value::{Object, ObjectRepr},
};

use crate::csrf::token::CSRF_FIELD_NAME;

/// Makes the request's masked token (and asks for the CSRF cookie).
type MakeToken = Box<dyn Fn() -> String + Send + Sync>;

/// One masked token per render, made on first use.
struct Cell {
    make: MakeToken,
    token: OnceLock<String>,
}

impl Cell {
    fn token(&self) -> &str {
        self.token.get_or_init(|| (self.make)())
    }
}

/// `csrf_token`: the masked token.
#[derive(Clone)]
pub(crate) struct CsrfToken(Arc<Cell>);

/// `csrf_input`: the hidden input carrying it (printed as HTML).
#[derive(Clone)]
pub(crate) struct CsrfInput(Arc<Cell>);

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

/// The two values for one render; `make` runs at most once, when the
/// template first prints either.
pub(crate) fn values(make: impl Fn() -> String + Send + Sync + 'static) -> (Value, Value) {
    let cell = Arc::new(Cell {
        make: Box::new(make),
        token: OnceLock::new(),
    });
    (
        Value::from_object(CsrfToken(cell.clone())),
        Value::from_object(CsrfInput(cell)),
    )
}

impl Object for CsrfToken {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.token())
    }
}

impl Object for CsrfInput {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<input type=\"hidden\" name=\"{CSRF_FIELD_NAME}\" value=\"{}\">",
            self.0.token()
        )
    }
}

/// Whether `value` is the `csrf_input` markup (printed without escaping).
pub(crate) fn is_input(value: &Value) -> bool {
    value.downcast_object_ref::<CsrfInput>().is_some()
}
