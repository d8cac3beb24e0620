//! Conventions the binaries share on their command lines.
//!
//! Addresses are written the way other network tools take them: `HOST:PORT`, a bare `PORT`
//! (on the default host), or a bare `HOST` (on the default port), where `HOST` is a name
//! (`localhost`), an IPv4 address or a bracketed IPv6 address (`[::1]:4774`). A `--port` flag
//! replaces the port of the address.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

/// The port of the protocol, when none is given.
pub const DEFAULT_PORT: u16 = 4774;

/// The host, when none is given: loopback, so nothing is exposed by default.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// [`DEFAULT_HOST`] on [`DEFAULT_PORT`]: where the server listens and the client connects when
/// not told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:4774";

/// A host and a port, as typed: the host is resolved only when connecting or listening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// A name or an address; an IPv6 address without its brackets.
    pub host: String,
    /// The port.
    pub port: u16,
}

/// Why an address does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an address: {why} (use HOST:PORT, PORT or HOST, e.g. localhost:4774)")]
pub struct AddressError {
    input: String,
    why: &'static str,
}

impl HostPort {
    /// This address with its port replaced by `port`, when given.
    pub fn with_port(mut self, port: Option<u16>) -> HostPort {
        if let Some(port) = port {
            self.port = port;
        }
        self
    }

    /// The first socket address the host resolves to.
    pub fn resolve(&self) -> io::Result<SocketAddr> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::other(format!("{} resolves to no address", self.host)))
    }
}

impl Default for HostPort {
    fn default() -> HostPort {
        HostPort {
            host: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
        }
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for HostPort {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<HostPort, AddressError> {
        let fail = |why| AddressError {
            input: s.to_owned(),
            why,
        };
        let port = |p: &str| {
            p.parse::<u16>()
                .map_err(|_| fail("the port is not 0 to 65535"))
        };
        if s.is_empty() {
            return Err(fail("it is empty"));
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(HostPort {
                host: DEFAULT_HOST.to_owned(),
                port: port(s)?,
            });
        }
        if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| fail("a '[' without ']'"))?;
            let port = match after {
                "" => DEFAULT_PORT,
                _ => port(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| fail("text after ']'"))?,
                )?,
            };
            return Ok(HostPort {
                host: host.to_owned(),
                port,
            });
        }
        let (host, port) = match s.rsplit_once(':') {
            // A bare IPv6 address has several colons and no port.
            Some((host, _)) if host.contains(':') => (s, DEFAULT_PORT),
            Some((host, p)) => (host, port(p)?),
            None => (s, DEFAULT_PORT),
        };
        let host = if host.is_empty() { DEFAULT_HOST } else { host };
        if host.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(fail("the host holds a space or a '/'"));
        }
        Ok(HostPort {
            host: host.to_owned(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_address_is_the_default_host_on_the_default_port() {
        assert_eq!(DEFAULT_ADDR, format!("{DEFAULT_HOST}:{DEFAULT_PORT}"));
    }

    fn hp(host: &str, port: u16) -> HostPort {
        HostPort {
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn addresses_as_other_tools_take_them() {
        let cases = [
            ("4774", hp("127.0.0.1", 4774)),
            ("0", hp("127.0.0.1", 0)),
            ("localhost:5000", hp("localhost", 5000)),
            ("localhost", hp("localhost", 4774)),
            ("0.0.0.0:1", hp("0.0.0.0", 1)),
            (":5000", hp("127.0.0.1", 5000)),
            ("[::1]:5000", hp("::1", 5000)),
            ("[::1]", hp("::1", 4774)),
            ("::1", hp("::1", 4774)),
        ];
        for (input, want) in cases {
            assert_eq!(input.parse::<HostPort>(), Ok(want), "{input}");
        }
        for bad in ["", "localhost:http", "70000", "[::1", "[::1]x", "a b:1"] {
            assert!(bad.parse::<HostPort>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_port_flag_replaces_the_port_and_display_round_trips() {
        let addr = "localhost".parse::<HostPort>().unwrap().with_port(Some(9));
        assert_eq!(addr.to_string(), "localhost:9");
        assert_eq!(hp("::1", 9).to_string(), "[::1]:9");
        assert_eq!(
            "[::1]:9".parse::<HostPort>().unwrap().to_string(),
            "[::1]:9"
        );
    }

    #[test]
    fn loopback_names_resolve() {
        let addr = "localhost:0"
            .parse::<HostPort>()
            .unwrap()
            .resolve()
            .unwrap();
        assert!(addr.ip().is_loopback());
    }
}
