//! Who a client is, as far as the per-address login limit can tell: the TCP peer, or, when
//! that peer is one of `TRUSTED_PROXIES` (the load balancer), the address the proxies
//! forwarded in `X-Forwarded-For`. The header is believed only from a trusted peer, and only
//! as far back as the hops are trusted: anyone can write it, so its leftmost entries are
//! whatever the client said.

use std::net::IpAddr;

/// An address or a network of them: `10.0.0.0/8`, `127.0.0.1`, `fd00::/8`, `::1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let base = canonical(address.parse().ok()?);
        let bits = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse().ok().filter(|prefix| *prefix <= bits)?
            }
            Some(_) => return None,
        };
        Some(Self { base, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => same_prefix(&base.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(base), IpAddr::V6(ip)) => same_prefix(&base.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

/// Whether `a` and `b` agree in their first `bits` bits.
fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports)
/// is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `TRUSTED_PROXIES`: the proxies whose `X-Forwarded-For` is believed (none by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// A comma-separated list of addresses and networks; the first that is neither is the error.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !str::is_empty(item))
            .map(|item| Network::parse(item).ok_or_else(|| format!("{item:?} is not an IP address or network")))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The client of a request from `peer` (if it came over TCP) with `headers`.
    pub fn client_of(&self, peer: &poem::web::RemoteAddr, headers: &poem::http::HeaderMap) -> Option<IpAddr> {
        let peer = peer.as_socket_addr()?.ip();
        let forwarded_for = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        Some(self.client(peer, forwarded_for))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client of a request that came from `peer` with these `X-Forwarded-For` header
    /// values (in the order received; each a list, the oldest hop first): the nearest hop
    /// that is not a trusted proxy. A malformed hop ends the walk at the proxy that passed it on.
    pub fn client<'a>(&self, peer: IpAddr, forwarded_for: impl Iterator<Item = &'a str>) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops: Vec<&str> = forwarded_for.flat_map(|value| value.split(',')).collect();
        for hop in hops.into_iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else { break };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// A client as the limits count it. An IPv6 client is counted by its /64, the block one
/// subscriber is usually given: else a single client could guess from 2^64 addresses, each
/// with its own limit.
pub fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            format!("address:{}/64", std::net::Ipv6Addr::from(network))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_are_addresses_with_an_optional_prefix() {
        let net = Network::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.255.7")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(
            net.contains(ip("::ffff:10.1.2.3")),
            "IPv4 seen through a dual-stack socket"
        );
        assert!(!net.contains(ip("::1")));
        let odd = Network::parse("192.168.0.0/23").unwrap();
        assert!(odd.contains(ip("192.168.1.9")) && !odd.contains(ip("192.168.2.1")));
        let one = Network::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        let v6 = Network::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12:3456::1")) && !v6.contains(ip("fe80::1")));
        assert!(Network::parse("::1/128").unwrap().contains(ip("::1")));
        for bad in [
            "",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/+8",
            "10.0.0/8",
            "host",
            "10.0.0.0/8/8",
        ] {
            assert_eq!(Network::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_list_parses_whole_or_names_what_is_wrong() {
        let list = TrustedProxies::parse(" 127.0.0.1, 10.0.0.0/8 ,fd00::/8,").unwrap();
        assert_eq!(list.0.len(), 3);
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::default());
        let err = TrustedProxies::parse("127.0.0.1, proxy.internal").unwrap_err();
        assert!(err.contains("proxy.internal"), "{err}");
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_hops() {
        let trusted = TrustedProxies::parse("127.0.0.1,10.0.0.0/8").unwrap();
        let client = |peer, headers: &[&str]| trusted.client(ip(peer), headers.iter().copied());
        // Straight from the client: the header is whatever it wrote.
        assert_eq!(client("198.51.100.7", &["203.0.113.1"]), ip("198.51.100.7"));
        // Through the proxy: the address it saw.
        assert_eq!(client("127.0.0.1", &["203.0.113.1"]), ip("203.0.113.1"));
        // A client's own entry comes first; the proxy appends the real one last.
        assert_eq!(client("127.0.0.1", &["1.1.1.1, 203.0.113.1"]), ip("203.0.113.1"));
        // Through two proxies (each header line as received).
        assert_eq!(
            client("127.0.0.1", &["1.1.1.1", "203.0.113.1, 10.0.0.5"]),
            ip("203.0.113.1")
        );
        // Only trusted hops: the oldest.
        assert_eq!(client("127.0.0.1", &["10.0.0.9, 10.0.0.5"]), ip("10.0.0.9"));
        // No header, or garbage at the end: the proxy itself.
        assert_eq!(client("127.0.0.1", &[]), ip("127.0.0.1"));
        assert_eq!(client("127.0.0.1", &["203.0.113.1, unknown"]), ip("127.0.0.1"));
        assert_eq!(
            client("127.0.0.1", &["203.0.113.1, 10.0.0.5, nonsense"]),
            ip("127.0.0.1")
        );
        assert_eq!(client("::ffff:127.0.0.1", &["::ffff:203.0.113.1"]), ip("203.0.113.1"));
        // Nothing trusted by default.
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("127.0.0.1"), ["203.0.113.1"].into_iter()),
            ip("127.0.0.1")
        );
    }
}
