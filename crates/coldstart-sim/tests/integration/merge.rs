//! One day's invocations merged from each function's: the order of sorting them all.

use coldstart_sim::workload::{merge_day, Invocation};
use proptest::prelude::*;

/// Up to 12 functions' runs on day 3, on a coarse grid of times (so that functions share
/// arrival times) that reaches a little past both ends of the day.
fn runs() -> impl Strategy<Value = Vec<Vec<Invocation>>> {
    let from = 3.0 * 86_400.0;
    prop::collection::vec(
        prop::collection::vec((-2_000i64..88_400_000, 0.0f64..10.0), 0..300),
        0..12,
    )
    .prop_map(move |fs| {
        fs.into_iter()
            .enumerate()
            .map(|(f, mut v)| {
                v.sort_by_key(|(ms, _)| *ms);
                v.into_iter()
                    .map(|(ms, exec)| Invocation {
                        // Milliseconds on a grid of 50 ms: many ties within and across runs.
                        t: from + (ms / 50 * 50) as f64 / 1000.0,
                        func: f as u32,
                        exec,
                    })
                    .collect()
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn merging_a_day_gives_the_order_of_sorting_it_by_time_then_function(r in runs()) {
        let mut want: Vec<Invocation> = r.concat();
        want.sort_by(|a, b| a.t.total_cmp(&b.t).then(a.func.cmp(&b.func)));
        prop_assert_eq!(merge_day(&r, 3.0 * 86_400.0), want);
    }
}

#[test]
fn a_busy_second_and_an_empty_day_merge() {
    // 5,000 requests of each of two functions within one eighth of a second, the second
    // function's in pairs at the first's times.
    let at = |k: usize| 86_400.0 + 7.0 + k as f64 * 1e-5;
    let a: Vec<Invocation> = (0..5_000)
        .map(|k| Invocation {
            t: at(k),
            func: 0,
            exec: 1.0,
        })
        .collect();
    let b: Vec<Invocation> = (0..5_000)
        .map(|k| Invocation {
            t: at(k / 2 * 2),
            func: 1,
            exec: 2.0,
        })
        .collect();
    let got = merge_day(&[a, b], 86_400.0);
    assert_eq!(got.len(), 10_000);
    assert!(got
        .windows(2)
        .all(|w| (w[0].t, w[0].func) <= (w[1].t, w[1].func)));
    assert_eq!(got[0].func, 0);
    assert_eq!(got[1].func, 1);
    assert!(merge_day(&[vec![], vec![]], 0.0).is_empty());
    assert!(merge_day(&[], 0.0).is_empty());
}
