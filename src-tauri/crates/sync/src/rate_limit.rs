//! The client-side token bucket of one source, and the full-jitter backoff of retries.
//!
//! One bucket is shared by all streams of a source, because platforms count requests per key
//! or per account, not per endpoint. Waiting happens before a request is sent, so a sync stays
//! under the documented limit instead of discovering it through 429s.

use std::time::{Duration, Instant};

use crate::connector::RateLimit;

/// A token bucket: `burst` tokens, refilled continuously at `requests_per_second`.
#[derive(Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub fn new(limit: RateLimit) -> TokenBucket {
        TokenBucket {
            limit,
            tokens: f64::from(limit.burst.max(1)),
            refilled_at: Instant::now(),
        }
    }

    /// Takes one token, or says how long to wait until one is available (then call again).
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        if self.limit.requests_per_second.is_infinite() {
            return Ok(());
        }
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        let capacity = f64::from(self.limit.burst.max(1));
        self.tokens = (self.tokens + elapsed * self.limit.requests_per_second).min(capacity);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - self.tokens;
            Err(Duration::from_secs_f64(
                missing / self.limit.requests_per_second.max(1e-9),
            ))
        }
    }
}

/// The delay before retry number `attempt` (1-based) with "full jitter": uniformly random in
/// `[0, min(cap, base × 2^(attempt-1))]`. Full jitter spreads the retries of many clients so
/// they do not hit a recovering server in lockstep.
pub fn full_jitter_backoff(
    attempt: u32,
    base: Duration,
    cap: Duration,
    random_unit: f64,
) -> Duration {
    let exponential = base.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
    let ceiling = exponential.min(cap.as_secs_f64());
    Duration::from_secs_f64(ceiling * random_unit.clamp(0.0, 1.0))
}

/// A small xorshift generator for jitter: retries need spread, not cryptographic quality, and
/// this keeps a dependency out.
#[derive(Debug)]
pub struct JitterSource(u64);

impl JitterSource {
    pub fn seeded() -> JitterSource {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        JitterSource(nanos | 1)
    }

    /// A number in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_paces_at_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(RateLimit {
            requests_per_second: 10.0,
            burst: 2,
        });
        bucket.refilled_at = start;
        assert!(bucket.try_take(start).is_ok());
        assert!(bucket.try_take(start).is_ok());
        let wait = bucket.try_take(start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        assert!(bucket.try_take(start + Duration::from_millis(100)).is_ok());
    }

    #[test]
    fn backoff_grows_exponentially_up_to_the_cap() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        assert_eq!(
            full_jitter_backoff(1, base, cap, 1.0),
            Duration::from_millis(100)
        );
        assert_eq!(
            full_jitter_backoff(3, base, cap, 1.0),
            Duration::from_millis(400)
        );
        assert_eq!(full_jitter_backoff(9, base, cap, 1.0), cap);
        assert_eq!(full_jitter_backoff(9, base, cap, 0.0), Duration::ZERO);
    }
}
