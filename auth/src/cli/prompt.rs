//! Reading answers: from the terminal, or from a script in tests.

use std::io::{self, BufRead, IsTerminal, Write};

/// Reads answers to prompts.
pub trait Prompt {
    /// Shows `prompt` and reads one line (without its line ending).
    fn line(&mut self, prompt: &str) -> io::Result<String>;
    /// Shows `prompt` and reads a password without echoing it.
    fn password(&mut self, prompt: &str) -> io::Result<String>;
    /// Whether a person can answer (Django skips interactive prompts without
    /// a terminal).
    fn is_interactive(&self) -> bool;
}

/// Prompts on the terminal; reads plain lines from stdin when it is a pipe,
/// so `printf 'pw\npw\n' | app changepassword alice` works.
#[derive(Debug, Default)]
pub struct TerminalPrompt;

impl Prompt for TerminalPrompt {
    fn line(&mut self, prompt: &str) -> io::Result<String> {
        let mut stderr = io::stderr();
        write!(stderr, "{prompt}")?;
        stderr.flush()?;
        read_stdin_line()
    }

    fn password(&mut self, prompt: &str) -> io::Result<String> {
        if io::stdin().is_terminal() {
            rpassword::prompt_password(prompt)
        } else {
            self.line(prompt)
        }
    }

    fn is_interactive(&self) -> bool {
        io::stdin().is_terminal()
    }
}

fn read_stdin_line() -> io::Result<String> {
    let mut line = String::new();
    if io::stdin().lock().read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "no more input",
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
