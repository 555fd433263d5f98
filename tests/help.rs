//! The host's `--help` is the host's: the clap types of the `clap` feature must not put
//! the library's rustdoc (its prose, its code fences) into a host's help, even when the
//! host's own types have no doc comment to override it. Runs a real host binary
//! (`bins/docless_host.rs`).

use std::process::Command;

fn help(args: &[&str], bare: bool) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docless-host"));
    command.args(args).env_clear();
    if bare {
        command.env("DOCLESS_BARE", "1");
    }
    let output = command.output().expect("run docless-host");
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Text that only the library's rustdoc has.
const LEAKS: [&str; 8] = [
    "```",
    "flatten",
    "A global",
    "The `telemetry` subcommand",
    "The arguments of",
    "Parser",
    "let cli",
    "assert",
];

fn assert_clean(text: &str, what: &str) {
    for leak in LEAKS {
        assert!(!text.contains(leak), "{what} shows {leak:?}:\n{text}");
    }
}

#[test]
fn the_top_level_help_is_the_hosts() {
    for flag in ["--help", "-h"] {
        for bare in [false, true] {
            let text = help(&[flag], bare);
            assert_clean(&text, flag);
            assert!(text.starts_with("Usage: docless-host"), "{text}");
        }
    }
    let text = help(&["--help"], false);
    assert!(text.contains("--disable-telemetry"), "{text}");
    assert!(
        text.contains("Send no anonymous usage data for this run"),
        "{text}"
    );
}

#[test]
fn the_telemetry_subcommand_has_one_line_helps() {
    for bare in [false, true] {
        let text = help(&["telemetry", "--help"], bare);
        assert_clean(&text, "telemetry --help");
        assert!(
            text.starts_with("Show or change anonymous usage telemetry"),
            "{text}"
        );
        for command in ["status", "enable", "disable", "events"] {
            assert_clean(&help(&["telemetry", command, "--help"], bare), command);
        }
    }
}
