//! The context of a render through [`Templates`](super::Templates)
//! (Django's context processors `auth` and `csrf`): the handler's own
//! values, then `user`, `perms`, `csrf_token` and `csrf_input`. One object
//! per render, read by name: nothing is copied into a map, and the CSRF
//! token is masked only when a template prints it.

use std::sync::{Arc, OnceLock};

use minijinja::{
    Value,
    value::{Enumerator, Object, ValueKind},
};

use super::csrf::{CsrfInput, CsrfToken, MaskedToken};
use crate::login::request::RequestAuth;

/// The names every render adds to the handler's context.
const NAMES: [&str; 4] = ["user", "perms", "csrf_token", "csrf_input"];

/// One render's context.
pub(super) struct RenderContext {
    /// The handler's context: its names win over the ones added here.
    handler: Value,
    user: Value,
    /// Undefined when the template never reads `perms`.
    perms: Value,
    request: Arc<RequestAuth>,
    csrf_token: OnceLock<String>,
}

impl RenderContext {
    pub(super) fn value(
        handler: Value,
        user: Value,
        perms: Value,
        request: Arc<RequestAuth>,
    ) -> Value {
        Value::from_object(RenderContext {
            handler,
            user,
            perms,
            request,
            csrf_token: OnceLock::new(),
        })
    }
}

impl std::fmt::Debug for RenderContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderContext")
            .field("handler", &self.handler)
            .finish_non_exhaustive()
    }
}

impl MaskedToken for RenderContext {
    fn masked_token(&self) -> &str {
        self.csrf_token.get_or_init(|| self.request.csrf.token())
    }
}

impl Object for RenderContext {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Ok(value) = self.handler.get_item(key)
            && !value.is_undefined()
        {
            return Some(value);
        }
        match key.as_str()? {
            "user" => Some(self.user.clone()),
            "perms" if !self.perms.is_undefined() => Some(self.perms.clone()),
            "csrf_token" => Some(Value::from_object(CsrfToken(self.clone()))),
            "csrf_input" => Some(Value::from_object(CsrfInput(self.clone()))),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = match self.handler.kind() {
            ValueKind::Map => self
                .handler
                .try_iter()
                .map(|keys| keys.collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        for name in NAMES {
            if (name != "perms" || !self.perms.is_undefined())
                && !keys.iter().any(|key| key.as_str() == Some(name))
            {
                keys.push(Value::from(name));
            }
        }
        Enumerator::Values(keys)
    }
}
