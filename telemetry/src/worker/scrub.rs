//! Scrubbing of opt-in error messages before they leave the process.
//!
//! Only used when the host opted in with
//! [`Config::error_messages(true)`](crate::Config::error_messages) and a tracked call
//! failed; otherwise no message is ever read. The scrubber is deliberately aggressive:
//! a message that loses a harmless word is better than one that leaks a secret.
//!
//! In order, it replaces:
//!
//! 1. PEM private-key blocks → `<private-key>`;
//! 2. URLs → `scheme://host` plus `/…` when there was a path, query or fragment; user
//!    names and passwords in them → `<redacted>@`;
//! 3. known token shapes → a typed placeholder: JSON Web Tokens (`<jwt>`), `Bearer`,
//!    `Basic`, `Digest` and `token` credentials, AWS access key ids (`AKIA…`, `ASIA…`), GitHub
//!    (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), GitLab (`glpat-`), Slack
//!    (`xoxb-`, `xoxp-`, …), Stripe, Google API, npm, PyPI and `sk-` API keys;
//! 4. the value after any `password=`, `token:`, `api_key=`, `secret=`, `auth=`, … (also
//!    prefixed names such as `AWS_SECRET_ACCESS_KEY=`, upper-case glued names such as
//!    `PGPASSWORD=`, and quoted JSON fields), after a secret-named option (`--password v`),
//!    and glued to `-p` (`-pSECRET`) → `<redacted>`;
//! 5. e-mail addresses (`@` or `%40`) → `<email>`; IPv4 addresses other than loopback → `<ip>`;
//! 6. the home directory → `~`;
//! 7. absolute paths (Unix, `~/`, Windows drive and UNC paths) → their file name; a user's
//!    home under `/home` or `/Users` → `~`;
//! 8. the user name (`USER`, `USERNAME`, `LOGNAME`) and host name → `<user>`, `<host>`;
//! 9. any remaining long secret-looking run: 24 or more hex digits mixing digits and
//!    letters, 32 or more hex digits, or 32 or more
//!    base64/URL-safe characters mixing upper case, lower case and digits → `<secret>`.
//!
//! Known limits: an unquoted path containing spaces is reduced up to its first space
//! (what follows is a relative fragment, without the home directory or user name);
//! IPv6 addresses are not recognised.
//!
//! Built on the `regex-lite` crate: the `regex` project's small, linear-time engine (no
//! catastrophic backtracking on hostile input), ASCII-only and without Unicode tables,
//! which this scrubber does not need; it runs only with `error_messages(true)`, on the
//! worker thread. Hand-written scanners for a dozen token grammars would be harder to
//! review.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex_lite::{Captures, Regex};

/// Characters that end an unquoted path or value.
const STOP: &str = r#" \t\r\n"'`<>|()\[\]{},;"#;

fn regex(pattern: &str) -> Regex {
    // The patterns are constants exercised by the tests: a failure here is a bug caught
    // before release, never a user's input.
    Regex::new(pattern).unwrap_or_else(|error| panic!("scrub pattern {pattern:?}: {error}"))
}

static PRIVATE_KEY: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)")
});

static URL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?-u:\b)([A-Za-z][A-Za-z0-9+.-]*)://([^ \t\r\n"'<>/?#@]*@)?([^ \t\r\n"'<>/?#]*)([^ \t\r\n"'<>]*)"#,
    )
});

/// Token shapes and their placeholders. Prefix families first, generic shapes last.
static TOKENS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"(?-u:\b)eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
            "<jwt>",
        ),
        (
            r"(?-u:\b)(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?-u:\b)",
            "<aws-access-key>",
        ),
        (
            r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
            "<github-token>",
        ),
        (r"(?-u:\b)glpat-[A-Za-z0-9_-]{20,}", "<gitlab-token>"),
        (r"(?-u:\b)xox[abposr]-[A-Za-z0-9-]{10,}", "<slack-token>"),
        (
            r"(?-u:\b)(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}",
            "<stripe-key>",
        ),
        (r"(?-u:\b)AIza[0-9A-Za-z_-]{35}", "<google-api-key>"),
        (r"(?-u:\b)npm_[A-Za-z0-9]{36}", "<npm-token>"),
        (r"(?-u:\b)pypi-[A-Za-z0-9_-]{50,}", "<pypi-token>"),
        (r"(?-u:\b)sk-[A-Za-z0-9_-]{20,}", "<api-key>"),
    ]
    .into_iter()
    .map(|(pattern, placeholder)| (regex(pattern), placeholder))
    .collect()
});

/// `Bearer <credential>` and friends (GitHub's `token <credential>` included); the
/// credential must look like one (a digit or a symbol), so "Basic authentication failed"
/// keeps its words.
static AUTH_SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)(?-u:\b)(bearer|basic|digest|token)[ \t]+([A-Za-z0-9._~+/=:-]{8,})")
});

/// `name=value`, `name: value`, `"name": "value"` where the name says secret. A secret
/// word glued to a prefix counts only in upper case, the way environment variables are
/// spelled (`PGPASSWORD`, `DBPASS`): in lower case it is too often an ordinary word
/// (`bypass`, `compass`).
static KEY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r#"(?-u:\b)((?:[A-Za-z0-9]+[_.-])*(?:(?i:password|passwd|passphrase|pwd|pass|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth|authorization|credentials?|session[_-]?id|cookie|signature|sig)|[A-Z0-9]*(?:PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|APIKEY))(?:[_.-][A-Za-z0-9_.-]*)?)("?[ \t]*[=:][ \t]*)("[^"]*"|'[^']*'|[^{STOP}&]+)"#
    ))
});

/// A command-line option that says secret, and its value: `--password v`,
/// `--db-token=v`.
static SECRET_OPTION: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r#"(?i)(^|[ \t])(--?(?:[a-z0-9]+-)*(?:password|passwd|passphrase|pass|pwd|secret|token|api-?key)(?:-[a-z0-9]+)*)([ \t]+|=)([^{STOP}]+)"#
    ))
});

/// A password glued to its short option, the way `mysql -pSECRET` takes it.
static GLUED_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r#"(^|[ \t])-p([^{STOP}-][^{STOP}]*)"#)));

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    // `%40` is `@` percent-encoded, as in a query string or a log of one.
    regex(
        r"(?-u:\b)[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?-u:\b)",
    )
});

static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?-u:\b)(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}(?-u:\b)",
    )
});

/// Quoted absolute paths may contain spaces.
static QUOTED_PATH: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"(["'])((?:~|[A-Za-z]:)?[/\\][^"'\r\n]*)(["'])"#));

/// An unquoted absolute path, after a boundary character (kept as group 1).
static PATH: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r#"(^|[ \t\r\n=(\[{{<,;"'])((?:~|[A-Za-z]:|\\\\[^{STOP}/\\]+)?(?:[/\\][^{STOP}/\\]*)+)"#
    ))
});

static LONG_RUN: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"[A-Za-z0-9+/_=-]{{{LONG_HEX},}}")));
/// Hex runs this long, mixing digits and letters, are keys (API keys of 24 hex digits
/// are common); other runs need [`LONG_MIXED`] characters.
const LONG_HEX: usize = 24;
const LONG_MIXED: usize = 32;

/// What identifies this user and machine, to be removed from messages: compiled once.
#[derive(Debug, Default)]
pub(crate) struct Identity {
    homes: Vec<Regex>,
    users: Vec<Regex>,
    hosts: Vec<Regex>,
}

/// This process's identity, looked up on the first scrubbed message.
static CURRENT: LazyLock<Identity> = LazyLock::new(Identity::current);

impl Identity {
    /// This process's home directory, user name and host name.
    fn current() -> Identity {
        let var = |name: &str| {
            std::env::var_os(name)
                .map(|value| value.to_string_lossy().trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let mut homes: Vec<String> = ["HOME", "USERPROFILE"]
            .into_iter()
            .filter_map(var)
            .collect();
        if let Some(home) = dirs::home_dir() {
            homes.push(home.to_string_lossy().into_owned());
        }
        let users = ["USER", "USERNAME", "LOGNAME"]
            .into_iter()
            .filter_map(var)
            .collect();
        let mut hosts: Vec<String> = ["HOSTNAME", "COMPUTERNAME"]
            .into_iter()
            .filter_map(var)
            .collect();
        #[cfg(target_os = "linux")]
        if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            hosts.push(name.trim().to_owned());
        }
        Identity::new(homes, users, hosts)
    }

    /// An identity from explicit home directories, user names and host names.
    pub(crate) fn new(homes: Vec<String>, users: Vec<String>, hosts: Vec<String>) -> Identity {
        let tidy = |mut list: Vec<String>| {
            list.retain(|item| item.chars().count() >= 2);
            // Longest first, so `/home/al` never cuts `/home/alice` short.
            list.sort_by_key(|item| std::cmp::Reverse(item.len()));
            list.dedup();
            list
        };
        let homes = homes
            .into_iter()
            .map(|home| home.trim_end_matches(['/', '\\']).to_owned())
            .collect();
        let users = users
            .into_iter()
            .filter(|user| !user.eq_ignore_ascii_case("root"))
            .collect();
        let hosts = hosts
            .into_iter()
            .filter(|host| !host.eq_ignore_ascii_case("localhost"))
            .collect();
        Identity {
            homes: tidy(homes)
                .iter()
                .filter_map(|home| home_pattern(home))
                .collect(),
            users: tidy(users)
                .iter()
                .filter_map(|user| word_pattern(user))
                .collect(),
            hosts: tidy(hosts)
                .iter()
                .filter_map(|host| word_pattern(host))
                .collect(),
        }
    }
}

/// Removes what could identify the user from an error message (see the module docs).
pub(crate) fn scrub(text: &str) -> String {
    scrub_with(text, &CURRENT)
}

/// [`scrub`] with an explicit identity, for tests.
pub(crate) fn scrub_with(text: &str, identity: &Identity) -> String {
    let text = PRIVATE_KEY.replace_all(text, "<private-key>");
    let text = URL.replace_all(&text, |caps: &Captures<'_>| {
        let credentials = if caps.get(2).is_some() {
            "<redacted>@"
        } else {
            ""
        };
        let rest = if caps[4].is_empty() || &caps[4] == "/" {
            ""
        } else {
            "/…"
        };
        format!("{}://{credentials}{}{rest}", &caps[1], &caps[3])
    });
    let mut text = text.into_owned();
    for (pattern, placeholder) in TOKENS.iter() {
        text = replace(pattern, &text, placeholder);
    }
    let text = AUTH_SCHEME.replace_all(&text, |caps: &Captures<'_>| {
        let credential = &caps[2];
        if credential.bytes().any(|byte| !byte.is_ascii_alphabetic()) {
            format!("{} <redacted>", &caps[1])
        } else {
            caps[0].to_owned()
        }
    });
    let text = SECRET_OPTION.replace_all(&text, |caps: &Captures<'_>| {
        if caps[4].starts_with('<') && caps[4].ends_with('>') {
            return caps[0].to_owned();
        }
        format!("{}{}{}<redacted>", &caps[1], &caps[2], &caps[3])
    });
    let text = GLUED_PASSWORD.replace_all(&text, "${1}-p<redacted>");
    let text = KEY_VALUE.replace_all(&text, |caps: &Captures<'_>| {
        if caps[3].starts_with('<') && caps[3].ends_with('>') {
            // Already a placeholder.
            return caps[0].to_owned();
        }
        let quote = match caps[3].chars().next() {
            Some(quote @ ('"' | '\'')) => quote.to_string(),
            _ => String::new(),
        };
        format!("{}{}{quote}<redacted>{quote}", &caps[1], &caps[2])
    });
    let text = EMAIL.replace_all(&text, "<email>");
    let text = IPV4.replace_all(&text, |caps: &Captures<'_>| {
        if caps[0].starts_with("127.") || &caps[0] == "0.0.0.0" {
            caps[0].to_owned()
        } else {
            "<ip>".to_owned()
        }
    });
    let mut text = text.into_owned();
    for home in &identity.homes {
        text = home
            .replace_all(&text, |caps: &Captures<'_>| format!("~{}", &caps[1]))
            .into_owned();
    }
    let text = QUOTED_PATH.replace_all(&text, |caps: &Captures<'_>| {
        format!("{}{}{}", &caps[1], file_name(&caps[2]), &caps[3])
    });
    let text = PATH.replace_all(&text, |caps: &Captures<'_>| {
        // A path ending a clause ("open /x/y.csv: not found") keeps its punctuation.
        let path = caps[2].trim_end_matches([':', '.', '!', '?']);
        let tail = &caps[2][path.len()..];
        format!("{}{}{tail}", &caps[1], file_name(path))
    });
    let mut text = text.into_owned();
    // Host names first: they often contain the user name (`alice-laptop`).
    for host in &identity.hosts {
        text = replace_word(&text, host, "<host>");
    }
    for user in &identity.users {
        text = replace_word(&text, user, "<user>");
    }
    LONG_RUN
        .replace_all(&text, |caps: &Captures<'_>| {
            let run = &caps[0];
            let digits = run.bytes().any(|byte| byte.is_ascii_digit());
            let hex = run.bytes().all(|byte| byte.is_ascii_hexdigit())
                && (run.len() >= LONG_MIXED
                    || digits && run.bytes().any(|byte| byte.is_ascii_alphabetic()));
            let mixed = run.len() >= LONG_MIXED
                && run.bytes().any(|byte| byte.is_ascii_uppercase())
                && run.bytes().any(|byte| byte.is_ascii_lowercase())
                && run.bytes().any(|byte| byte.is_ascii_digit());
            if hex || mixed {
                "<secret>".to_owned()
            } else {
                run.to_owned()
            }
        })
        .into_owned()
}

fn replace(pattern: &Regex, text: &str, placeholder: &str) -> String {
    match pattern.replace_all(text, regex_lite::NoExpand(placeholder)) {
        Cow::Borrowed(_) => text.to_owned(),
        Cow::Owned(changed) => changed,
    }
}

/// The home directory, with either separator, ASCII case-insensitively, as a whole path
/// component: `/home/al` must not match inside `/home/alice`.
fn home_pattern(home: &str) -> Option<Regex> {
    let parts: Vec<String> = home.split(['/', '\\']).map(regex_lite::escape).collect();
    let case = if home.is_ascii() { "(?i)" } else { "" };
    Regex::new(&format!(
        r"{case}{}([/\\]|$|[^A-Za-z0-9._-])",
        parts.join(r"[/\\]")
    ))
    .ok()
}

/// `name` as a whole word (ASCII case-insensitive when it is ASCII).
fn word_pattern(name: &str) -> Option<Regex> {
    let case = if name.is_ascii() { "(?i)" } else { "" };
    Regex::new(&format!(
        "{case}(^|[^A-Za-z0-9_]){}($|[^A-Za-z0-9_])",
        regex_lite::escape(name)
    ))
    .ok()
}

/// Replaces every match of a [`word_pattern`] with `placeholder`.
fn replace_word(text: &str, word: &Regex, placeholder: &str) -> String {
    // Matches consume their boundary characters; run twice so adjacent names ("bob bob")
    // are both caught.
    let mut out = text.to_owned();
    for _ in 0..2 {
        out = word
            .replace_all(&out, |caps: &Captures<'_>| {
                format!("{}{placeholder}{}", &caps[1], &caps[2])
            })
            .into_owned();
    }
    out
}

/// The last component of a path; a home directory itself becomes `~`.
fn file_name(path: &str) -> String {
    let parts: Vec<&str> = path
        .split(['/', '\\'])
        .filter(|part| !part.is_empty())
        .collect();
    match parts.as_slice() {
        [] => path.to_owned(),
        [.., parent, _] if ["home", "users"].contains(&parent.to_ascii_lowercase().as_str()) => {
            "~".to_owned()
        }
        // A bare drive (`C:\`) names nobody.
        [drive] if drive.ends_with(':') => path.to_owned(),
        [.., last] => (*last).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity::new(
            vec!["/home/alice".into(), "C:\\Users\\alice".into()],
            vec!["alice".into()],
            vec!["alice-laptop".into()],
        )
    }

    /// Real-looking secrets (published examples or random, never live credentials), and
    /// what must be left of them.
    const TABLE: &[(&str, &str)] = &[
        // Home directory, user name, host name, paths.
        (
            "cannot open /home/alice/projects/acme/data.csv: No such file",
            "cannot open data.csv: No such file",
        ),
        (
            "config at ~/.config/tool/settings.toml is invalid",
            "config at settings.toml is invalid",
        ),
        (
            r"failed to read C:\Users\alice\Documents\report.xlsx",
            "failed to read report.xlsx",
        ),
        (
            r"share \\fileserver\finance\q3.parquet unreachable",
            "share q3.parquet unreachable",
        ),
        ("open \"/srv/My Data/export 2024.csv\" failed", "open \"export 2024.csv\" failed"),
        ("no access to /home/bob", "no access to ~"),
        ("user alice has no permission", "user <user> has no permission"),
        ("Alice's token expired", "<user>'s token expired"),
        ("connect to alice-laptop failed", "connect to <host> failed"),
        ("path=/var/lib/app/state.db", "path=state.db"),
        ("ratio 1/2 and/or 3/4 stay", "ratio 1/2 and/or 3/4 stay"),
        // URLs.
        (
            "fetch https://alice:hunter2@git.example.com/acme/repo.git failed",
            "fetch https://<redacted>@git.example.com/… failed",
        ),
        (
            "postgres://etl_user:S3cr3t!pw@db.internal:5432/warehouse refused",
            "postgres://<redacted>@db.internal:5432/… refused",
        ),
        (
            "GET https://api.example.com/v1/items?access_token=abc123&page=2 -> 401",
            "GET https://api.example.com/… -> 401",
        ),
        ("see https://example.com/", "see https://example.com"),
        ("file:///home/alice/x.txt", "file:///…"),
        // Token shapes.
        ("aws key AKIAIOSFODNN7EXAMPLE rejected", "aws key <aws-access-key> rejected"),
        (
            "token ghp_1A2b3C4d5E6f7G8h9I0jKlMnOpQrStUvWxYz12 is invalid",
            "token <github-token> is invalid",
        ),
        (
            "gho_16C7e42F292c6912E7710c838347Ae178B4a revoked",
            "<github-token> revoked",
        ),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV01234 bad",
            "<github-token> bad",
        ),
        ("glpat-Xy9z8W7v6U5t4S3r2Q1p x", "<gitlab-token> x"),
        (
            "slack: xoxb-2048-1024-aBcDeFgHiJkLmNoPqRsT failed",
            "slack: <slack-token> failed",
        ),
        (
            "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c expired",
            "jwt <jwt> expired",
        ),
        (
            "Authorization: Bearer 8f4b2c1d-77aa-4e0b-9c3d-5e6f7a8b9c0d",
            "Authorization: <redacted> <redacted>",
        ),
        ("header Bearer abc.def.ghi123 refused", "header Bearer <redacted> refused"),
        ("Basic authentication failed", "Basic authentication failed"),
        (
            "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc bad",
            "stripe <stripe-key> bad",
        ),
        (
            "key AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY bad",
            "key <google-api-key> bad",
        ),
        (
            "openai sk-proj-Abc123Def456Ghi789Jkl012 bad",
            "openai <api-key> bad",
        ),
        // key=value secrets.
        ("login failed: password=hunter2", "login failed: password=<redacted>"),
        (
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY set",
            "AWS_SECRET_ACCESS_KEY=<redacted> set",
        ),
        (
            r#"body {"api_key": "f3a9c2e1b7d4", "n": 1}"#,
            r#"body {"api_key": "<redacted>", "n": 1}"#,
        ),
        ("retry with token: 0123456789abcdef", "retry with token: <redacted>"),
        ("db_pass='p@ss w0rd' wrong", "db_pass='<redacted>' wrong"),
        ("bypass=on tokens: 5", "bypass=on tokens: 5"),
        (
            "Authorization: token a1b2c3d4e5f6 rejected",
            "Authorization: <redacted> <redacted> rejected",
        ),
        ("PGPASSWORD=Tr0ub4dor psql failed", "PGPASSWORD=<redacted> psql failed"),
        ("DBPASS=correct-horse exported", "DBPASS=<redacted> exported"),
        ("MYSQL_PWD=letmein2 set", "MYSQL_PWD=<redacted> set"),
        (
            "exec: pg_dump --password Hunt3r2 --host db failed",
            "exec: pg_dump --password <redacted> --host db failed",
        ),
        ("run tool --api-key=zz9plural", "run tool --api-key=<redacted>"),
        ("mysql -u etl -pS3cretPw warehouse", "mysql -u etl -p<redacted> warehouse"),
        ("compass=north", "compass=north"),
        (
            "mailgun key 5f2b9c8d1e4a7b3c6d9e0f12 rejected",
            "mailgun key <secret> rejected",
        ),
        (
            "invite alice.smith%40example.org bounced",
            "invite <email> bounced",
        ),
        // Personal data and network.
        (
            "mail to alice.smith@example.org bounced",
            "mail to <email> bounced",
        ),
        (
            "connect 10.20.30.40:5432 refused; 127.0.0.1 ok",
            "connect <ip>:5432 refused; 127.0.0.1 ok",
        ),
        // Generic long secrets.
        (
            "signature mismatch 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "signature mismatch <secret>",
        ),
        (
            "bad blob Zm9vYmFyQmF6UXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbA end",
            "bad blob <secret> end",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY----- leaked",
            "<private-key> leaked",
        ),
        // Ordinary messages stay readable.
        (
            "expected 3 columns, found 4 at line 12",
            "expected 3 columns, found 4 at line 12",
        ),
        (
            "table events_2024 does not exist (uuid 6f1c3d4e-8a2b-4c1d-9e8f-0a1b2c3d4e5f)",
            "table events_2024 does not exist (uuid 6f1c3d4e-8a2b-4c1d-9e8f-0a1b2c3d4e5f)",
        ),
    ];

    #[test]
    fn table_of_real_looking_secrets() {
        let identity = identity();
        let mut failures = Vec::new();
        for (input, expected) in TABLE {
            let got = scrub_with(input, &identity);
            if got != *expected {
                failures.push(format!(
                    "\n  input:    {input}\n  expected: {expected}\n  got:      {got}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.concat());
    }

    #[test]
    fn no_secret_survives() {
        let identity = identity();
        let secrets = [
            "hunter2",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI",
            "ghp_1A2b3C4d",
            "xoxb-2048",
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "alice",
            "S3cr3t!pw",
            "MIIEpAIBAAKCAQEA",
            "a1b2c3d4e5f6",
            "Tr0ub4dor",
            "correct-horse",
            "letmein2",
            "Hunt3r2",
            "zz9plural",
            "S3cretPw",
            "5f2b9c8d1e4a7b3c6d9e0f12",
            "alice.smith",
        ];
        for (input, _) in TABLE {
            let got = scrub_with(input, &identity).to_lowercase();
            for secret in secrets {
                assert!(
                    !got.contains(&secret.to_lowercase()),
                    "{secret} in {got:?} (from {input:?})"
                );
            }
        }
    }

    #[test]
    fn hostile_input_is_fast_and_never_panics() {
        let identity = identity();
        let long = "a/".repeat(50_000) + &"=".repeat(10_000) + "é🙂\u{0}";
        let started = std::time::Instant::now();
        let _ = scrub_with(&long, &identity);
        let _ = scrub_with("", &identity);
        let _ = scrub_with("/", &identity);
        let _ = scrub_with("\\\\", &identity);
        let _ = scrub_with("Ünïcödé /home/alice/é.txt", &identity);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn current_identity_is_found() {
        // Whatever this machine's HOME is, it never survives.
        if let Some(home) = dirs::home_dir().filter(|home| home.as_os_str().len() > 1) {
            let text = format!("failed: {}/x/y.txt", home.display());
            let got = scrub(&text);
            assert!(!got.contains(&*home.to_string_lossy()), "{got}");
        }
    }
}
