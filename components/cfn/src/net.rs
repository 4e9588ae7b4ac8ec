//! IPv4 CIDR blocks: parsing, overlap and carving into subnets.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network in CIDR notation, with its host bits zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    base: u32,
    prefix: u8,
}

impl Cidr {
    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        }
    }

    /// The last address of the block.
    fn last(&self) -> u32 {
        self.base | !Self::mask(self.prefix)
    }

    /// Whether the two blocks share any address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.base <= other.last() && other.base <= self.last()
    }

    /// Whether `other` lies entirely inside this block.
    pub fn contains(&self, other: &Cidr) -> bool {
        other.base >= self.base && other.last() <= self.last()
    }

    /// Whether the block lies in the private ranges of RFC 1918.
    pub fn is_private(&self) -> bool {
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
            .iter()
            .any(|r| r.parse::<Cidr>().expect("valid").contains(self))
    }

    /// The `index`-th block of length `prefix` inside this one, if it fits.
    pub fn subnet(&self, prefix: u8, index: u32) -> Option<Cidr> {
        if prefix < self.prefix || prefix > 32 {
            return None;
        }
        let count = 1u64 << (prefix - self.prefix);
        if u64::from(index) >= count {
            return None;
        }
        let size = 1u64 << (32 - prefix);
        let base = u64::from(self.base) + u64::from(index) * size;
        Some(Cidr {
            base: u32::try_from(base).ok()?,
            prefix,
        })
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = s
            .split_once('/')
            .ok_or_else(|| "expected an IPv4 CIDR block such as 10.10.0.0/16".to_string())?;
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("prefix /{prefix} is not a number from 0 to 32"))?;
        let base = u32::from(addr);
        if base & !Cidr::mask(prefix) != 0 {
            let network = Ipv4Addr::from(base & Cidr::mask(prefix));
            return Err(format!(
                "host bits are set; the network address is {network}/{prefix}"
            ));
        }
        Ok(Cidr { base, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(c("10.10.0.0/16").to_string(), "10.10.0.0/16");
        assert!(
            "10.10.0.1/16"
                .parse::<Cidr>()
                .unwrap_err()
                .contains("10.10.0.0/16")
        );
        assert!("10.10.0.0".parse::<Cidr>().is_err());
        assert!("10.10.0.0/33".parse::<Cidr>().is_err());
        assert!("300.1.0.0/16".parse::<Cidr>().is_err());
    }

    #[test]
    fn overlap_containment_and_carving() {
        assert!(c("10.10.0.0/16").overlaps(&c("10.10.128.0/20")));
        assert!(!c("10.10.0.0/16").overlaps(&c("10.20.0.0/16")));
        assert!(c("10.0.0.0/8").overlaps(&c("10.20.0.0/16")));
        assert!(c("10.20.0.0/16").is_private());
        assert!(!c("11.0.0.0/16").is_private());
        let vpc = c("10.10.0.0/16");
        assert_eq!(vpc.subnet(20, 0), Some(c("10.10.0.0/20")));
        assert_eq!(vpc.subnet(20, 8), Some(c("10.10.128.0/20")));
        assert_eq!(vpc.subnet(20, 16), None);
        assert_eq!(vpc.subnet(8, 0), None);
    }
}
