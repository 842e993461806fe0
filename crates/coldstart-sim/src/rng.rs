//! Deterministic random streams: every function of every region has its own, so results do
//! not depend on thread scheduling, and the same seed gives the same bytes.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// SplitMix64's first output from state `x`: a good 64-bit mix for deriving seeds and
/// identifiers (rand_xoshiro's reference implementation).
pub fn mix(x: u64) -> u64 {
    rand_xoshiro::SplitMix64::seed_from_u64(x).next_u64()
}

/// A uniform number in [0, 1) from a 64-bit key: the top 53 bits of its [`mix`].
pub fn unit(key: u64) -> f64 {
    (mix(key) >> 11) as f64 / (1u64 << 53) as f64
}

/// The random stream of (seed, region, function).
pub fn stream(seed: u64, region: u64, function: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(mix(mix(seed) ^ region) ^ function))
}

#[cfg(test)]
mod tests {
    #[test]
    fn mix_is_splitmix64() {
        // splitmix64.c from state 0 and 1.
        assert_eq!(super::mix(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(super::mix(1), 0x910A_2DEC_8902_5CC1);
    }
}
