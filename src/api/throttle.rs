//! Brute-force protection for API tokens: a client address that presents too many wrong
//! tokens in a short time is refused every authentication (429 with `Retry-After`) for a
//! while, the right token included, so guessing gains nothing from the answers. Requests
//! without a token are not counted (they guess nothing). Kept in memory: a restart clears it.
//!
//! Pure: the caller passes `now`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Wrong tokens an address may present within [`WINDOW`] before it is blocked.
pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(60);
/// How long a blocked address is refused.
pub const BLOCK: Duration = Duration::from_secs(300);
/// Addresses tracked at most; beyond it, expired entries are dropped, then the oldest.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    window_start: Instant,
    failures: u32,
    blocked_until: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Throttle {
    addresses: HashMap<IpAddr, Entry>,
}

/// What a failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Counted(u32),
    /// This failure blocked the address.
    Blocked,
}

impl Throttle {
    /// `Err(retry_after)` while `ip` is blocked.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        match self.addresses.get(&ip).and_then(|e| e.blocked_until) {
            Some(until) if until > now => Err(until - now),
            Some(_) => {
                self.addresses.remove(&ip);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Counts a wrong token from `ip`.
    pub fn failed(&mut self, ip: IpAddr, now: Instant) -> Failure {
        if self.addresses.len() >= MAX_ADDRESSES && !self.addresses.contains_key(&ip) {
            self.evict(now);
        }
        let e = self.addresses.entry(ip).or_insert(Entry {
            window_start: now,
            failures: 0,
            blocked_until: None,
        });
        if now.duration_since(e.window_start) > WINDOW {
            *e = Entry {
                window_start: now,
                failures: 0,
                blocked_until: None,
            };
        }
        e.failures += 1;
        if e.failures >= MAX_FAILURES {
            e.blocked_until = Some(now + BLOCK);
            Failure::Blocked
        } else {
            Failure::Counted(e.failures)
        }
    }

    fn evict(&mut self, now: Instant) {
        self.addresses.retain(|_, e| match e.blocked_until {
            Some(until) => until > now,
            None => now.duration_since(e.window_start) <= WINDOW,
        });
        if self.addresses.len() >= MAX_ADDRESSES
            && let Some(oldest) = self
                .addresses
                .iter()
                .min_by_key(|(_, e)| e.window_start)
                .map(|(ip, _)| *ip)
        {
            self.addresses.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn the_tenth_wrong_token_blocks_the_address_and_only_it() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for i in 1..MAX_FAILURES {
            assert_eq!(t.failed(A, now), Failure::Counted(i));
            assert_eq!(t.check(A, now), Ok(()));
        }
        assert_eq!(t.failed(A, now), Failure::Blocked);
        assert_eq!(t.check(A, now), Err(BLOCK));
        assert_eq!(t.check(A, now + BLOCK / 2), Err(BLOCK / 2));
        assert_eq!(t.check(B, now), Ok(()));
        assert_eq!(t.check(A, now + BLOCK), Ok(()), "the block ends");
        assert_eq!(t.failed(A, now + BLOCK), Failure::Counted(1));
    }

    #[test]
    fn failures_spread_over_more_than_the_window_never_block() {
        let mut t = Throttle::default();
        let mut now = Instant::now();
        for _ in 0..3 * MAX_FAILURES {
            assert_ne!(t.failed(A, now), Failure::Blocked);
            now += WINDOW / (MAX_FAILURES - 2);
        }
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 10) {
            t.failed(IpAddr::V4(std::net::Ipv4Addr::from(i)), now);
        }
        assert!(t.addresses.len() <= MAX_ADDRESSES);
    }
}
