//! Who owns a region's functions (Fig 4): how many functions each user has, and which ones.
//!
//! The paper's own numbers say ownership is not blind to traffic. About 20 % of R1's functions
//! take a request a minute or more (Fig 3a), yet only about 30 % of its users have more than
//! 1,000 requests in the month (Fig 4b), while 60 to 90 % of users own a single function. Dealt
//! at random, the busy functions would land on about as many users as there are such
//! functions, plus every user whose handful of functions adds up past 1,000: half of R1's
//! users. So the busy functions belong to the users who own many: the customers that run
//! their production on the platform, beside a crowd of users each trying one function.
//!
//! The model: users draw how many functions they own (three in four own one; the others
//! `2 + LogNormal(2, 1)`, at most 42). Each function's traffic, its expected requests on a
//! working day, ranks it, blurred by [`OWNER_SPREAD`] in log space; the functions are dealt
//! in that order to the owners' slots, largest owners first. The blur keeps the link loose:
//! a large owner also has quiet functions, and now and then a single-function user has a busy
//! one.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::catalog::{lognormal, FunctionSpec};
use crate::profile::RegionProfile;
use crate::rng::stream;
use crate::workload::synthetic::expected_per_day;

/// The blur of a function's rank by traffic before it is dealt to an owner: a standard
/// deviation in the natural log of its requests a day (5: a function's traffic decides its
/// owner's size only across orders of magnitude of requests, not within one). Fitted to R1's
/// share of users above 1,000 requests a month (Fig 4b): 0.30 to 0.33 at `--scale 1`, where
/// random dealing gave 0.51 to 0.53.
pub const OWNER_SPREAD: f64 = 5.0;

/// Salt of the stream that blurs the ranks, apart from the catalog's own draws.
const OWNER_SALT: u64 = 0x6f77_6e65_7273;

/// The owner of each of `n` slots, in a random order: users numbered from 1 (user `u` of
/// region `region_index` is `7u + 100 + region_index`), three in four owning one slot.
pub fn slots(rng: &mut ChaCha8Rng, n: usize, region_index: u64) -> Vec<i64> {
    let mut owners = Vec::with_capacity(n);
    let mut user = 0i64;
    while owners.len() < n {
        user += 1;
        let k = if rng.gen::<f64>() < 0.75 {
            1
        } else {
            2 + (lognormal(rng, 2.0, 1.0) as usize).min(40)
        };
        for _ in 0..k.min(n - owners.len()) {
            owners.push(user * 7 + 100 + region_index as i64);
        }
    }
    owners.shuffle(rng);
    owners
}

/// How many functions each owner has, from one owner per function.
fn sizes(owners: impl IntoIterator<Item = i64>) -> HashMap<i64, u32> {
    let mut size = HashMap::new();
    for o in owners {
        *size.entry(o).or_default() += 1;
    }
    size
}

/// A working day of the trace (day 0).
const WORKING_DAY: u32 = 0;

/// Deals `owners` (one per function, as [`slots`] made them) to `funcs`: functions ranked by
/// `ln(1 + requests on a working day) + OWNER_SPREAD * N(0, 1)`, highest first, go to the
/// slots of the users owning the most functions first (users of one size in the slots'
/// order). `spread` is the blur ([`OWNER_SPREAD`] in the catalog).
pub fn deal(
    funcs: &mut [FunctionSpec],
    owners: &[i64],
    profile: &RegionProfile,
    (seed, region_index): (u64, u64),
    spread: f64,
) {
    assert_eq!(funcs.len(), owners.len(), "one owner per function");
    let mut rng = stream(seed ^ OWNER_SALT, region_index, 0);
    let size = sizes(owners.iter().copied());
    let mut slots = owners.to_vec();
    slots.sort_by_key(|o| std::cmp::Reverse(size[o]));
    let keys: Vec<f64> = funcs
        .iter()
        .map(|f| {
            let z: f64 = rng.sample(StandardNormal);
            (1.0 + expected_per_day(f, profile, WORKING_DAY)).ln() + spread * z
        })
        .collect();
    let mut order: Vec<usize> = (0..funcs.len()).collect();
    order.sort_by(|a, b| keys[*b].total_cmp(&keys[*a]).then(a.cmp(b)));
    for (&i, owner) in order.iter().zip(slots) {
        funcs[i].user_id = owner;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_give_three_in_four_users_one_function() {
        let mut rng = stream(7, 1, 0);
        let owners = slots(&mut rng, 20_000, 1);
        assert_eq!(owners.len(), 20_000);
        let size = sizes(owners);
        let single = size.values().filter(|k| **k == 1).count() as f64 / size.len() as f64;
        assert!((single - 0.75).abs() < 0.03, "{single}");
        assert!(size.values().all(|k| *k <= 42));
        assert!(size.keys().all(|u| (u - 101) % 7 == 0));
    }

    fn owned(funcs: &[FunctionSpec]) -> HashMap<i64, u32> {
        sizes(funcs.iter().map(|f| f.user_id))
    }

    #[test]
    fn without_blur_the_busiest_functions_go_to_the_largest_owners() {
        let profile = crate::profile::profile("R1").expect("R1");
        let mut funcs = crate::catalog::build(&profile, 400, 3, 0);
        let before = owned(&funcs);
        let owners: Vec<i64> = funcs.iter().map(|f| f.user_id).collect();
        deal(&mut funcs, &owners, &profile, (3, 0), 0.0);
        // Every user keeps as many functions as it had.
        assert_eq!(owned(&funcs), before);
        // Ranked by requests on a working day, the functions' owners never grow.
        let mut ranked: Vec<(f64, u32)> = funcs
            .iter()
            .map(|f| {
                (
                    expected_per_day(f, &profile, WORKING_DAY),
                    before[&f.user_id],
                )
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        for w in ranked.windows(2) {
            assert!(
                w[0].1 >= w[1].1 || w[0].0 == w[1].0,
                "{:?} before {:?}",
                w[0],
                w[1]
            );
        }
        // The catalog's blur keeps the owners' sizes and ties them to traffic loosely: the
        // busiest fifth of the functions has larger owners on average than the rest.
        let mut funcs = crate::catalog::build(&profile, 2_000, 3, 0);
        let size = owned(&funcs);
        let owners: Vec<i64> = funcs.iter().map(|f| f.user_id).collect();
        deal(&mut funcs, &owners, &profile, (3, 0), OWNER_SPREAD);
        assert_eq!(owned(&funcs), size);
        let mut ranked: Vec<(f64, f64)> = funcs
            .iter()
            .map(|f| {
                let w = expected_per_day(f, &profile, WORKING_DAY);
                (w, f64::from(size[&f.user_id]))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mean = |s: &[(f64, f64)]| s.iter().map(|x| x.1).sum::<f64>() / s.len() as f64;
        let (top, rest) = ranked.split_at(400);
        assert!(mean(top) > 1.5 * mean(rest), "{} {}", mean(top), mean(rest));
    }
}
