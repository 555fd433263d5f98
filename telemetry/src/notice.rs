//! The one-time first-run notice, on stderr only.

use std::io::Write as _;
use std::path::Path;

use crate::config::Config;
use crate::state::{self, State};

/// The notice shown when the host gives none.
pub(crate) fn default_text(config: &Config) -> String {
    let app = &config.app_name;
    let prefix = config.env_prefix();
    format!(
        "{app} collects anonymous usage data: which commands run, how long they take and whether \
         they succeed, with argument values hashed so they cannot be read. No paths, names or \
         contents leave your machine.\n\
         To opt out, set DO_NOT_TRACK=1 or {prefix}_TELEMETRY_DISABLED=1, or run `{app} telemetry disable`.\n\
         To see exactly what is sent, set {prefix}_TELEMETRY_DEBUG=1."
    )
}

/// Prints the notice once per installation (never in CI) and records that it was shown.
pub(crate) fn show_once(config: &Config, dir: &Path, current: &State) {
    if crate::context::is_ci() {
        return;
    }
    let text = config
        .notice
        .clone()
        .unwrap_or_else(|| default_text(config));
    let _ = writeln!(std::io::stderr().lock(), "{text}");
    let mut updated = current.clone();
    updated.notice_shown = true;
    if let Err(error) = state::store(dir, &updated) {
        crate::diag::debug(format_args!(
            "could not record that the notice was shown: {error}"
        ));
    }
}
