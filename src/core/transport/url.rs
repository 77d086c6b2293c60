//! Where the app-server is: the URL given with `codex_options_set_url`, parsed once when it is
//! set, and the path of the user's local daemon socket that `unix://` alone stands for.

use crate::core::error::{Error, Result};
use std::fmt;
use std::path::{Path, PathBuf};

/// A parsed app-server URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Endpoint {
    /// `stdio://`: spawn `codex app-server` and speak JSON lines over its stdio.
    #[default]
    Stdio,
    /// `ws://HOST[:PORT][/path]` or `wss://...`: WebSocket over TCP, TLS for `wss`.
    Tcp { tls: bool, host: String, port: u16, resource: String },
    /// `unix:///absolute/path.sock`, or `unix://` (`None`): WebSocket over a Unix socket; with
    /// no path, the socket of the user's local app-server daemon.
    Unix { path: Option<PathBuf> },
}

impl Endpoint {
    pub fn is_remote(&self) -> bool {
        !matches!(self, Endpoint::Stdio)
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Endpoint::Tcp { tls: true, .. })
    }

    /// `host:port` as sent in the `Host` header (IPv6 in brackets).
    pub fn authority(&self) -> Option<String> {
        match self {
            Endpoint::Tcp { host, port, .. } if host.contains(':') => {
                Some(format!("[{host}]:{port}"))
            }
            Endpoint::Tcp { host, port, .. } => Some(format!("{host}:{port}")),
            _ => None,
        }
    }
}

/// How the endpoint appears in messages: without the query, which might carry a secret.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Stdio => f.write_str("stdio://"),
            Endpoint::Tcp { tls, resource, .. } => {
                let scheme = if *tls { "wss" } else { "ws" };
                let path = resource.split('?').next().unwrap_or("/");
                write!(f, "{scheme}://{}{path}", self.authority().unwrap_or_default())
            }
            Endpoint::Unix { path: Some(path) } => write!(f, "unix://{}", path.display()),
            Endpoint::Unix { path: None } => f.write_str("unix:// (the local app-server daemon)"),
        }
    }
}

fn invalid(message: impl fmt::Display) -> Error {
    Error::invalid_argument(format!("url: {message}"))
}

/// Parses `stdio://`, `ws://HOST[:PORT][/path][?query]`, `wss://...`, `unix:///path` and
/// `unix://`. Errors name the problem; a URL with credentials in it is not echoed.
pub fn parse(url: &str) -> Result<Endpoint> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid(format!(
            "\"{url}\" has no scheme: use stdio://, ws://HOST:PORT, wss://HOST[:PORT] or \
             unix:///path/to.sock"
        )));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "stdio" if rest.is_empty() => Ok(Endpoint::Stdio),
        "stdio" => Err(invalid(format!("\"{url}\": stdio:// takes nothing after the scheme"))),
        "ws" => parse_tcp(url, rest, false),
        "wss" => parse_tcp(url, rest, true),
        "unix" => parse_unix(url, rest),
        _ => Err(invalid(format!(
            "\"{url}\": unsupported scheme \"{scheme}\" (use stdio://, ws://, wss:// or unix://)"
        ))),
    }
}

fn parse_tcp(url: &str, rest: &str, tls: bool) -> Result<Endpoint> {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, resource) = rest.split_at(end);
    if authority.contains('@') {
        // Not echoed: the part before '@' may be a password.
        return Err(invalid(
            "credentials in the URL (user@ or user:password@) are not supported; send a token \
             with codex_options_set_auth_token",
        ));
    }
    if resource.contains('#') {
        return Err(invalid(format!("\"{url}\": a WebSocket URL has no #fragment")));
    }
    if let Some(c) = resource.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(invalid(format!(
            "\"{url}\": the path has a character that must be percent-encoded ({c:?})"
        )));
    }
    let (host, port) = split_host_port(url, authority)?;
    let port = match port {
        Some(p) => p,
        None if tls => 443,
        None => 80,
    };
    let resource = match resource.chars().next() {
        None => "/".to_owned(),
        Some('?') => format!("/{resource}"),
        Some(_) => resource.to_owned(),
    };
    Ok(Endpoint::Tcp { tls, host, port, resource })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(url: &str, authority: &str) -> Result<(String, Option<u16>)> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let Some((v6, after)) = inner.split_once(']') else {
            return Err(invalid(format!("\"{url}\": an IPv6 host needs its closing ']'")));
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid(format!("\"{url}\": \"{v6}\" is not an IPv6 address")));
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| {
                invalid(format!("\"{url}\": expected ':PORT' after the IPv6 address"))
            })?),
        };
        (v6.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() {
        return Err(invalid(format!("\"{url}\" has no host")));
    }
    let name_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if !authority.starts_with('[') && !host.chars().all(name_ok) {
        return Err(invalid(format!("\"{url}\": \"{host}\" is not a host name or address")));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.chars().all(|c| c.is_ascii_digit()) => Some(n),
            _ => return Err(invalid(format!("\"{url}\": \"{p}\" is not a port (1-65535)"))),
        },
    };
    Ok((host, port))
}

fn parse_unix(url: &str, rest: &str) -> Result<Endpoint> {
    if rest.is_empty() {
        return Ok(Endpoint::Unix { path: None });
    }
    if !rest.starts_with('/') {
        return Err(invalid(format!(
            "\"{url}\": the socket path must be absolute (unix:///path/to.sock), or empty \
             (unix://) for the local daemon"
        )));
    }
    Ok(Endpoint::Unix { path: Some(PathBuf::from(rest)) })
}

/// The control socket of the user's local app-server daemon:
/// `$CODEX_HOME/app-server-control/app-server-control.sock`, CODEX_HOME defaulting to
/// `~/.codex` (what `codex app-server daemon version` prints as `socketPath`).
pub fn daemon_socket() -> Result<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    daemon_socket_in(var("CODEX_HOME"), var("HOME"))
}

fn daemon_socket_in(codex_home: Option<PathBuf>, home: Option<PathBuf>) -> Result<PathBuf> {
    let home = match (codex_home, home) {
        (Some(codex_home), _) => codex_home,
        (None, Some(home)) => home.join(".codex"),
        (None, None) => {
            return Err(invalid(
                "unix:// names the daemon socket under $CODEX_HOME (default ~/.codex), but \
                 neither CODEX_HOME nor HOME is set",
            ))
        }
    };
    Ok(Path::new(&home).join("app-server-control").join("app-server-control.sock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(tls: bool, host: &str, port: u16, resource: &str) -> Endpoint {
        Endpoint::Tcp { tls, host: host.into(), port, resource: resource.into() }
    }

    #[test]
    fn good_urls() {
        assert_eq!(parse("stdio://").unwrap(), Endpoint::Stdio);
        assert_eq!(parse("ws://127.0.0.1:4500").unwrap(), tcp(false, "127.0.0.1", 4500, "/"));
        assert_eq!(
            parse("WS://localhost:1/a/b?x=1").unwrap(),
            tcp(false, "localhost", 1, "/a/b?x=1")
        );
        assert_eq!(parse("ws://h?x").unwrap(), tcp(false, "h", 80, "/?x"));
        assert_eq!(parse("wss://example.com").unwrap(), tcp(true, "example.com", 443, "/"));
        assert_eq!(parse("wss://[::1]:9/p").unwrap(), tcp(true, "::1", 9, "/p"));
        assert_eq!(parse("ws://[::1]").unwrap(), tcp(false, "::1", 80, "/"));
        assert_eq!(
            parse("unix:///run/codex.sock").unwrap(),
            Endpoint::Unix { path: Some("/run/codex.sock".into()) }
        );
        assert_eq!(parse("unix://").unwrap(), Endpoint::Unix { path: None });
    }

    #[test]
    fn bad_urls_name_the_problem() {
        let message = |url: &str| parse(url).unwrap_err().message;
        assert!(message("").contains("no scheme"));
        assert!(message("127.0.0.1:80").contains("no scheme"));
        assert!(message("http://h:1").contains("unsupported scheme \"http\""));
        assert!(message("stdio://x").contains("nothing after"));
        assert!(message("ws://").contains("no host"));
        assert!(message("ws://:80").contains("no host"));
        assert!(message("ws://h:0").contains("not a port"));
        assert!(message("ws://h:99999").contains("not a port"));
        assert!(message("ws://h:+1").contains("not a port"));
        assert!(message("ws://h:x").contains("not a port"));
        assert!(message("ws://h h:1").contains("not a host"));
        assert!(message("ws://[::1:80").contains("closing ']'"));
        assert!(message("ws://[zz]:80").contains("not an IPv6"));
        assert!(message("ws://h/#frag").contains("fragment"));
        assert!(message("ws://h/a b").contains("percent-encoded"));
        assert!(message("unix://relative.sock").contains("must be absolute"));
        for m in [message(""), message("ws://h:0")] {
            assert!(m.starts_with("url: "), "{m}");
        }
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_echoing_them() {
        let m = parse("ws://user:hunter2@h:1/").unwrap_err().message;
        assert!(m.contains("codex_options_set_auth_token") && !m.contains("hunter2"), "{m}");
    }

    #[test]
    fn display_drops_the_query() {
        assert_eq!(parse("ws://h:1/p?token=abc").unwrap().to_string(), "ws://h:1/p");
        assert_eq!(parse("wss://[::1]:2").unwrap().to_string(), "wss://[::1]:2/");
        assert_eq!(parse("unix:///s.sock").unwrap().to_string(), "unix:///s.sock");
    }

    #[test]
    fn the_daemon_socket_follows_codex_home_then_home() {
        let p = daemon_socket_in(Some("/c".into()), Some("/h".into())).unwrap();
        assert_eq!(p, Path::new("/c/app-server-control/app-server-control.sock"));
        let p = daemon_socket_in(None, Some("/h".into())).unwrap();
        assert_eq!(p, Path::new("/h/.codex/app-server-control/app-server-control.sock"));
        assert!(daemon_socket_in(None, None).unwrap_err().message.contains("HOME"));
    }
}
