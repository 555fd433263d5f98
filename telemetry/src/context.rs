//! The `context` every event carries: OS, architecture, CPUs, CI and execution
//! environment. Detected once, on the worker thread, never on the caller's.

use std::path::Path;

use crate::event::{Context, NameVersion};

/// Whether the process runs in continuous integration (the usual CI variables).
pub(crate) fn is_ci() -> bool {
    ci_info::is_ci()
}

/// Detects the context of this process.
pub(crate) fn detect(app_name: &str, app_version: &str, session_id: String) -> Context {
    let ci = ci_info::get();
    Context {
        library: NameVersion {
            name: app_name.to_owned(),
            version: app_version.to_owned(),
        },
        telemetry: NameVersion {
            name: "telemetry".to_owned(), // the wire name, not the package name
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        os: NameVersion {
            name: os_name().to_owned(),
            version: os_version(),
        },
        arch: std::env::consts::ARCH.to_owned(),
        cpu: std::thread::available_parallelism()
            .map_or(1, |count| u32::try_from(count.get()).unwrap_or(u32::MAX)),
        ci_run: ci.ci,
        exec_info: exec_info(ci.name.as_deref()),
        session_id,
    }
}

fn os_name() -> &'static str {
    match std::env::consts::OS {
        "macos" => "macos",
        other => other,
    }
}

#[cfg(target_os = "linux")]
fn os_version() -> String {
    // The kernel release, read from /proc: no child process (os_info would run
    // `lsb_release`), and it is what every Linux distribution has.
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|text| text.trim().to_owned())
        .unwrap_or_default()
}

#[cfg(not(target_os = "linux"))]
fn os_version() -> String {
    os_info::get().version().to_string()
}

/// Names of the detected execution environments, in a stable order.
fn exec_info(ci_provider: Option<&str>) -> Vec<String> {
    let mut found = Vec::new();
    if in_docker() {
        found.push("docker".to_owned());
    }
    if Path::new("/run/.containerenv").exists() {
        found.push("podman".to_owned());
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        found.push("kubernetes".to_owned());
    }
    if in_wsl() {
        found.push("wsl".to_owned());
    }
    if let Some(provider) = ci_provider {
        found.push(provider_name(provider));
    }
    found
}

fn in_docker() -> bool {
    Path::new("/.dockerenv").exists()
        || std::fs::read_to_string("/proc/1/cgroup").is_ok_and(|text| text.contains("docker"))
}

fn in_wsl() -> bool {
    cfg!(target_os = "linux")
        && std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .is_ok_and(|text| text.to_ascii_lowercase().contains("microsoft"))
}

/// `GitHub Actions` becomes `github_actions`.
fn provider_name(display_name: &str) -> String {
    display_name
        .trim()
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                character.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_are_snake_case() {
        assert_eq!(provider_name("GitHub Actions"), "github_actions");
        assert_eq!(provider_name("CircleCI"), "circleci");
    }

    #[test]
    fn context_has_the_basics() {
        let context = detect("app", "1.2.3", "s".into());
        assert_eq!(context.library.name, "app");
        assert_eq!(context.telemetry.name, "telemetry");
        assert_eq!(context.arch, std::env::consts::ARCH);
        assert!(context.cpu >= 1);
    }
}
