//! IP addresses and CIDR blocks for the `cidr` operator and for exact values that are IP literals.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An inclusive range of IPv4 or IPv6 addresses (a CIDR block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IpRange {
    /// IPv4 addresses `lo..=hi`.
    V4 { lo: u32, hi: u32 },
    /// IPv6 addresses `lo..=hi`.
    V6 { lo: u128, hi: u128 },
}

impl IpRange {
    /// Parses `"10.0.0.0/24"` or `"2001:db8::/64"`. As in EventBridge, the mask must be below the
    /// address width (a single address is matched with an exact value instead); host bits are
    /// ignored (`10.0.0.7/24` is `10.0.0.0/24`).
    pub(crate) fn parse(text: &str) -> Result<IpRange, String> {
        let Some((address, mask)) = text.split_once('/') else {
            return Err(format!(
                "{text:?} is not a CIDR block: write an address, '/', and a mask length, like \"10.0.0.0/24\" or \"2001:db8::/64\""
            ));
        };
        if mask.contains('/') {
            return Err(format!(
                "{text:?} is not a CIDR block: exactly one '/' is allowed"
            ));
        }
        let bits: u32 = mask.parse().map_err(|_| {
            format!("{text:?} is not a CIDR block: the mask length {mask:?} must be a non-negative integer")
        })?;
        match parse_ip(address) {
            Some(IpAddr::V4(ip)) => {
                if bits >= 32 {
                    return Err(format!(
                        "{text:?}: an IPv4 mask length must be below 32; to match one address, use it as an exact value: [\"{address}\"]"
                    ));
                }
                let host = u32::MAX >> bits;
                let lo = u32::from(ip) & !host;
                Ok(IpRange::V4 { lo, hi: lo | host })
            }
            Some(IpAddr::V6(ip)) => {
                if bits >= 128 {
                    return Err(format!(
                        "{text:?}: an IPv6 mask length must be below 128; to match one address, use it as an exact value: [\"{address}\"]"
                    ));
                }
                let host = u128::MAX >> bits;
                let lo = u128::from(ip) & !host;
                Ok(IpRange::V6 { lo, hi: lo | host })
            }
            None => Err(format!(
                "{text:?} is not a CIDR block: {address:?} is not an IPv4 or IPv6 address"
            )),
        }
    }

    /// True when `text` is an IP address literal inside the range (IPv4 and IPv6 never mix).
    pub(crate) fn contains(&self, text: &str) -> bool {
        match (self, parse_ip(text)) {
            (IpRange::V4 { lo, hi }, Some(IpAddr::V4(ip))) => (*lo..=*hi).contains(&u32::from(ip)),
            (IpRange::V6 { lo, hi }, Some(IpAddr::V6(ip))) => (*lo..=*hi).contains(&u128::from(ip)),
            _ => false,
        }
    }
}

/// Parses an IPv4 (dotted quad) or IPv6 address literal; anything else is `None`. Cheap to call
/// on arbitrary strings: it rejects non-address text at the first character that cannot belong to
/// an address.
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 45 {
        return None;
    }
    if bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return text.parse::<Ipv4Addr>().ok().map(IpAddr::V4);
    }
    if bytes.contains(&b':')
        && bytes
            .iter()
            .all(|b| b.is_ascii_hexdigit() || *b == b':' || *b == b'.')
    {
        return text.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_blocks() {
        let r = IpRange::parse("10.0.0.0/24").unwrap();
        assert!(r.contains("10.0.0.0"));
        assert!(r.contains("10.0.0.255"));
        assert!(!r.contains("10.0.1.0"));
        assert!(!r.contains("::1"));
        assert!(!r.contains("not an ip"));
        let host_bits = IpRange::parse("10.0.0.7/24").unwrap();
        assert_eq!(host_bits, r);
        assert!(
            IpRange::parse("0.0.0.0/0")
                .unwrap()
                .contains("255.255.255.255")
        );
    }

    #[test]
    fn ipv6_blocks() {
        let r = IpRange::parse("2001:db8::/64").unwrap();
        assert!(r.contains("2001:db8::1"));
        assert!(r.contains("2001:0DB8:0000:0000:ffff:ffff:ffff:ffff"));
        assert!(!r.contains("2001:db8:0:1::"));
        assert!(!r.contains("10.0.0.1"));
    }

    #[test]
    fn invalid_blocks() {
        for bad in [
            "10.0.0.0",
            "10.0.0.0/",
            "10.0.0.0/x",
            "10.0.0.0/-1",
            "10.0.0.0/32",
            "10.0.0.0/33",
            "10.0.0/8",
            "300.0.0.0/8",
            "2001:db8::/128",
            "host.example/8",
            "10.0.0.0/8/8",
        ] {
            assert!(IpRange::parse(bad).is_err(), "{bad}");
        }
    }
}
