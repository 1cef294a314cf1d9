//! One mechanism for "this key at most once" across every macro (serde's
//! `Attr<T>`): a slot that keeps the first value and reports a repeated key
//! at the repeated tokens.

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::ctxt::Ctxt;

/// Keys of `#[auth(...)]` on a user struct.
pub(crate) mod keys {
    pub(crate) const TABLE: &str = "table";
    pub(crate) const ENTITY: &str = "entity";
    pub(crate) const APP_LABEL: &str = "app_label";
    pub(crate) const BASE: &str = "base";
    pub(crate) const COLUMN: &str = "column";
    pub(crate) const UNIQUE: &str = "unique";
    pub(crate) const INDEXED: &str = "indexed";
    pub(crate) const MAX_LENGTH: &str = "max_length";
    pub(crate) const REQUIRED: &str = "required";
    pub(crate) const DEFAULT: &str = "default";
    pub(crate) const LOGIN_URL: &str = "login_url";
    pub(crate) const REDIRECT_FIELD_NAME: &str = "redirect_field_name";
    pub(crate) const RAISE_EXCEPTION: &str = "raise_exception";
    pub(crate) const MAX_AGE: &str = "max_age";
}

/// A keyed value given at most once.
pub(crate) struct Attr<'c, T> {
    cx: &'c Ctxt,
    /// What the key belongs to, for messages: "`auth` attribute",
    /// "`login_required` argument", "option of `LoginView`".
    what: &'c str,
    name: &'c str,
    value: Option<T>,
}

impl<'c, T> Attr<'c, T> {
    pub(crate) fn none(cx: &'c Ctxt, what: &'c str, name: &'c str) -> Self {
        Attr {
            cx,
            what,
            name,
            value: None,
        }
    }

    /// Sets the value; a second `set` is reported at `key` and ignored.
    pub(crate) fn set(&mut self, key: impl ToTokens, value: T) {
        let tokens: TokenStream = key.into_token_stream();
        if self.value.is_some() {
            self.cx
                .error_spanned_by(tokens, format!("duplicate {} `{}`", self.what, self.name));
        } else {
            self.value = Some(value);
        }
    }

    /// Whether it was given.
    pub(crate) fn is_set(&self) -> bool {
        self.value.is_some()
    }

    /// The value, if given.
    pub(crate) fn get(self) -> Option<T> {
        self.value
    }
}

/// A key without a value (`unique`), given at most once.
pub(crate) struct Flag<'c>(Attr<'c, ()>);

impl<'c> Flag<'c> {
    pub(crate) fn none(cx: &'c Ctxt, what: &'c str, name: &'c str) -> Self {
        Flag(Attr::none(cx, what, name))
    }

    pub(crate) fn set(&mut self, key: impl ToTokens) {
        self.0.set(key, ());
    }

    pub(crate) fn get(&self) -> bool {
        self.0.is_set()
    }
}

/// The text of a path, for messages (`a::b`).
pub(crate) fn path_to_string(path: &syn::Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// Django's app labels: identifiers; lowercase by convention and here.
pub(crate) fn is_app_label(label: &str) -> bool {
    let mut chars = label.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
