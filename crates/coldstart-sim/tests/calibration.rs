//! A generated release, measured, gives back the paper's published numbers (spec section 4)
//! within the tolerances the generator states.

use coldstart_sim::{synth, SynthOptions};

#[test]
fn synthetic_release_matches_the_published_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        out: dir.path().join("release"),
        scale: 0.05,
        seed: 1,
        quantile_regions: Some(Vec::new()),
        progress: false,
        ..SynthOptions::default()
    };
    let s = synth(&opts).unwrap();
    for c in &s.checks {
        println!(
            "[{}] {:<62} {:>9.4}  target {}",
            if c.pass { "ok" } else { "!!" },
            c.name,
            c.measured,
            c.target
        );
    }
    let failed: Vec<_> = s.checks.iter().filter(|c| !c.pass).collect();
    assert!(failed.is_empty(), "out of tolerance: {failed:#?}");
    // Every check of the list is there: 2 fit, 2 per region, R1 2, R2 3 + 10 runtimes, R3 1.
    assert_eq!(s.checks.len(), 2 + 2 * 5 + 2 + 13 + 1);
    // R2-sized at scale 1 means about 2 million cold starts: 0.05 gives about a twentieth.
    let r2 = s.regions.iter().find(|r| r.region == "R2").unwrap();
    assert_eq!(r2.functions, 121);
    assert!(r2.cold_starts > 40_000, "{}", r2.cold_starts);
}
