//! The `context` every event carries: OS, architecture, CPUs, CI and execution
//! environment. Detected once, on the worker thread, never on the caller's.

use std::path::Path;

use crate::event::{Context, NameVersion};

/// Whether the process runs in continuous integration (the usual CI variables).
pub(crate) fn is_ci() -> bool {
    ci_provider().is_some()
}

/// How a CI provider shows itself in the environment (the rules of the `ci_info` crate,
/// which this table replaces: one list of variables did not need its two crates).
enum Probe {
    /// The variable is set (to anything valid in Unicode).
    Set(&'static str),
    /// Every one of the variables is set.
    AllSet(&'static [&'static str]),
    /// One of the variables is set.
    AnySet(&'static [&'static str]),
    /// The variable has exactly this value.
    Is(&'static str, &'static str),
    /// The variable contains this text, ignoring case.
    Contains(&'static str, &'static str),
}

/// Known providers, in the order they are tried; names as `exec_info` sends them
/// after [`provider_name`].
const CI_PROVIDERS: &[(&str, Probe)] = &[
    ("Agola", Probe::Set("AGOLA_REPOSITORY_URL")),
    ("AppCenter", Probe::Set("APPCENTER_BUILD_ID")),
    ("AppCircle", Probe::Set("AC_APPCIRCLE")),
    ("AppVeyor", Probe::Set("APPVEYOR")),
    ("AWS CodeBuild", Probe::Set("CODEBUILD_BUILD_ARN")),
    ("Azure Pipelines", Probe::Set("TF_BUILD")),
    ("Bamboo", Probe::Set("bamboo_planKey")),
    ("Bitbucket Pipelines", Probe::Set("BITBUCKET_COMMIT")),
    ("Bitrise", Probe::Set("BITRISE_IO")),
    ("Buddy", Probe::Set("BUDDY_WORKSPACE_ID")),
    ("Buildkite", Probe::Set("BUILDKITE")),
    ("CircleCI", Probe::Set("CIRCLECI")),
    ("Cirrus CI", Probe::Set("CIRRUS_CI")),
    ("Codefresh", Probe::Set("CF_BUILD_ID")),
    ("Codemagic", Probe::Set("CM_BUILD_ID")),
    ("Codeship", Probe::Is("CI_NAME", "codeship")),
    ("Drone", Probe::Set("DRONE")),
    ("dsari", Probe::Set("DSARI")),
    ("Earthly", Probe::Set("EARTHLY_CI")),
    ("Flow CI", Probe::Set("FLOWCI_JOB_BUILD_NUM")),
    ("Gitea Actions", Probe::Set("GITEA_ACTIONS")),
    ("GitHub Actions", Probe::Set("GITHUB_ACTIONS")),
    ("GitLab CI", Probe::Set("GITLAB_CI")),
    ("Gerrit", Probe::Set("GERRIT_PROJECT")),
    ("GoCD", Probe::Set("GO_PIPELINE_LABEL")),
    ("Google Cloud Build", Probe::Set("BUILDER_OUTPUT")),
    ("Harness CI", Probe::Set("HARNESS_BUILD_ID")),
    ("Heroku", Probe::Contains("NODE", "heroku")),
    ("Hudson", Probe::Set("HUDSON_URL")),
    ("Jenkins", Probe::AllSet(&["JENKINS_URL", "BUILD_ID"])),
    (
        "JenkinsX",
        Probe::AllSet(&["JX_CHART_REPOSITORY", "BUILD_ID"]),
    ),
    ("Layer CI", Probe::Set("LAYERCI")),
    ("Magnum CI", Probe::Set("MAGNUM")),
    ("Netlify CI", Probe::Is("NETLIFY", "true")),
    ("Nevercode", Probe::Set("NEVERCODE")),
    ("Prow", Probe::Set("PROW_JOB_ID")),
    ("Render", Probe::Set("RENDER")),
    ("Sail CI", Probe::Set("SAILCI")),
    ("Screwdriver", Probe::Set("SCREWDRIVER")),
    ("Semaphore", Probe::Set("SEMAPHORE")),
    ("SourceHut", Probe::Contains("JOB_URL", "builds.sr.ht")),
    ("Strider CD", Probe::Set("STRIDER")),
    ("TaskCluster", Probe::AllSet(&["TASK_ID", "RUN_ID"])),
    ("TeamCity", Probe::Set("TEAMCITY_VERSION")),
    ("Travis CI", Probe::Set("TRAVIS")),
    ("Vela", Probe::Set("VELA_BUILD_NUMBER")),
    ("Vercel", Probe::AnySet(&["NOW_BUILDER", "VERCEL"])),
    ("Woodpecker CI", Probe::Is("CI", "woodpecker")),
    ("Xcode Cloud", Probe::Set("CI_XCODE_PROJECT")),
    ("Xcode Server", Probe::Set("XCS")),
];

/// Variables that say "CI" without naming a provider.
const GENERIC_CI: &[&str] = &["CI", "CONTINUOUS_INTEGRATION", "BUILD_NUMBER", "RUN_ID"];

/// `None` outside CI; in CI, the provider's display name when it is a known one.
fn ci_provider() -> Option<Option<&'static str>> {
    let set = |name: &str| std::env::var(name).is_ok();
    let found = CI_PROVIDERS.iter().find(|(_, probe)| match *probe {
        Probe::Set(name) => set(name),
        Probe::AllSet(names) => names.iter().all(|name| set(name)),
        Probe::AnySet(names) => names.iter().any(|name| set(name)),
        Probe::Is(name, value) => std::env::var(name).is_ok_and(|found| found == value),
        Probe::Contains(name, text) => std::env::var(name)
            .is_ok_and(|found| found.to_lowercase().contains(&text.to_lowercase())),
    });
    match found {
        Some((name, _)) => Some(Some(name)),
        None => GENERIC_CI.iter().any(|name| set(name)).then_some(None),
    }
}

/// Detects the context of this process.
pub(crate) fn detect(app_name: &str, app_version: &str, session_id: String) -> Context {
    let ci = ci_provider();
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
        ci_run: ci.is_some(),
        exec_info: exec_info(ci.flatten()),
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
    crate::config::identifier(display_name.trim()).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_are_snake_case() {
        assert_eq!(provider_name("GitHub Actions"), "github_actions");
        assert_eq!(provider_name("CircleCI"), "circleci");
        assert_eq!(provider_name("AWS CodeBuild"), "aws_codebuild");
    }

    #[test]
    fn every_provider_has_a_distinct_wire_name() {
        let mut names: Vec<String> = CI_PROVIDERS
            .iter()
            .map(|(name, _)| provider_name(name))
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CI_PROVIDERS.len());
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
