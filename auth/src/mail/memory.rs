//! The `memory` backend: messages kept in the process, for tests (Django's
//! `locmem` backend and `mail.outbox`).

use std::sync::{Arc, Mutex};

use super::{EmailBackend, EmailMessage};
use crate::kernel::error::Result;

/// The most messages kept; older ones are dropped first.
const KEPT: usize = 1000;

/// The messages sent so far.
#[derive(Clone, Default)]
pub(crate) struct Outbox {
    messages: Arc<Mutex<Vec<EmailMessage>>>,
}

impl Outbox {
    pub(crate) fn messages(&self) -> Vec<EmailMessage> {
        self.messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl EmailBackend for Outbox {
    async fn send(&self, message: &EmailMessage) -> Result<()> {
        // Built as the other backends would, so a message they would refuse
        // is refused here too.
        message.build()?;
        let mut messages = self
            .messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if messages.len() == KEPT {
            messages.remove(0);
        }
        messages.push(message.clone());
        Ok(())
    }
}
