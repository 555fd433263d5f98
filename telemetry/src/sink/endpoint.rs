//! Endpoint validation: `https://`, or plain `http://` to a loopback address only.

use std::net::IpAddr;

/// Checks that `url` is an endpoint events may be sent to. The error says why not.
pub(crate) fn validate(url: &str) -> Result<(), String> {
    let url = url.trim();
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|error| format!("invalid endpoint URL: {error}"))?;
    let Some(host) = uri.host() else {
        return Err("the endpoint URL has no host".to_owned());
    };
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if is_loopback(host) => Ok(()),
        Some("http") => Err(format!(
            "the endpoint must use https:// (plain http:// is allowed for loopback addresses only, not {host})"
        )),
        Some(other) => Err(format!("unsupported endpoint scheme {other}://; use https://")),
        None => Err("the endpoint URL has no scheme; use https://".to_owned()),
    }
}

/// Whether `url` names a loopback host (and is a URL at all).
pub(crate) fn is_loopback_url(url: &str) -> bool {
    url.trim()
        .parse::<ureq::http::Uri>()
        .ok()
        .and_then(|uri| uri.host().map(is_loopback))
        .unwrap_or(false)
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn https_and_loopback_only() {
        assert!(validate("https://collector.example.com/v1/batch").is_ok());
        assert!(validate("http://127.0.0.1:8080/v1/batch").is_ok());
        assert!(validate("http://[::1]:8080/v1/batch").is_ok());
        assert!(validate("http://localhost/v1/batch").is_ok());
        assert!(validate("http://collector.example.com/v1/batch").is_err());
        assert!(validate("http://10.0.0.1/v1/batch").is_err());
        assert!(validate("ftp://collector.example.com").is_err());
        assert!(validate("not a url").is_err());
        assert!(validate("collector.example.com/v1").is_err());
        assert!(super::is_loopback_url("http://127.0.0.1:8080/v1/batch"));
        assert!(super::is_loopback_url("http://[::1]:8080/v1/batch"));
        assert!(!super::is_loopback_url(
            "https://collector.example.com/v1/batch"
        ));
    }
}
