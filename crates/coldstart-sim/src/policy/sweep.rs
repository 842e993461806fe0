//! `--sweep NAME:key=A..B`: one policy at several values of one parameter, spaced by the
//! parameter's own kind (as the policy reads it: a duration, a number or a whole number).

use anyhow::{bail, Context, Result};

use super::{clip, clip_to, fmt_duration, known, parse_duration, Params, CATALOG};

/// The most points of a sweep.
pub const MAX_SWEEP_POINTS: usize = 100;

/// `NAME:key=A..B[,other=...]`: `points` policies with `key` spaced from A to B, the other
/// parameters as given. How is the parameter's own kind ([`Kind`], as the policy reads it): a
/// duration is log-spaced in seconds (rounded to whole seconds from 1 s); a number is
/// log-spaced when A > 0 and B is at least 10 times A, else evenly (4 significant digits
/// between the ends); a whole number is spaced the same way, rounded, and repeats dropped.
pub fn sweep(spec: &str, points: usize) -> Result<Vec<String>> {
    if !(2..=MAX_SWEEP_POINTS).contains(&points) {
        bail!("--sweep-points {points}: a sweep has 2 to {MAX_SWEEP_POINTS} points (each is a whole replay)");
    }
    let (name, rest) = spec.split_once(':').with_context(|| {
        format!("--sweep '{spec}': expected NAME:key=A..B (e.g. fixed-keepalive:ttl=10s..2h)")
    })?;
    let mut swept = None;
    let mut others = Vec::new();
    for kv in rest.split(',') {
        match kv.split_once('=') {
            Some((k, v)) if v.contains("..") => {
                let (a, b) = v.split_once("..").expect("checked");
                swept = Some((
                    k.trim().to_string(),
                    a.trim().to_string(),
                    b.trim().to_string(),
                ));
            }
            _ => others.push(kv.to_string()),
        }
    }
    let (key, a, b) = swept.with_context(|| {
        format!("--sweep '{spec}': no key=A..B range (e.g. fixed-keepalive:ttl=10s..2h)")
    })?;
    let kind = kind_of(name, &others.join(","), &key)
        .with_context(|| format!("--sweep '{}'", clip_to(spec, 160)))?;
    let value = |v: &str| -> Result<f64> {
        match kind {
            Kind::Duration => parse_duration(v),
            _ => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .with_context(|| {
                    format!(
                        "'{}' is not a number (parameter {key} is a number, given without a unit)",
                        clip(v)
                    )
                }),
        }
    };
    let ctx = || format!("--sweep '{}': parameter {key}", clip_to(spec, 160));
    let (a, b) = (value(&a).with_context(ctx)?, value(&b).with_context(ctx)?);
    let log = match kind {
        Kind::Duration => true,
        _ => a > 0.0 && b >= 10.0 * a,
    };
    if !(a >= 0.0 && b > a) || (log && a <= 0.0) {
        bail!("--sweep '{spec}': the range of {key} must go up from a positive start (e.g. {key}=A..B with 0 < A < B)");
    }
    let n = points;
    let mut out: Vec<String> = (0..n)
        .map(|i| {
            let x = i as f64 / (n - 1) as f64;
            let v = match (i, log) {
                (0, _) => a,
                (i, _) if i == n - 1 => b,
                (_, true) => (a.ln() + (b.ln() - a.ln()) * x).exp(),
                (_, false) => a + (b - a) * x,
            };
            let v = match kind {
                Kind::Duration => fmt_duration(if v >= 1.0 { v.round() } else { v }),
                Kind::Integer => format!("{}", v.round()),
                _ if i == 0 || i == n - 1 => format!("{v}"),
                _ => fmt_significant(v, 4),
            };
            let mut p = vec![format!("{key}={v}")];
            p.extend(others.iter().cloned());
            format!("{name}:{}", p.join(","))
        })
        .collect();
    out.dedup();
    Ok(out)
}

/// `v` (> 0) to `digits` significant digits, without trailing zeros.
fn fmt_significant(v: f64, digits: i32) -> String {
    let exp = v.abs().log10().floor() as i32 - (digits - 1);
    if exp >= 0 {
        let scale = 10f64.powi(exp);
        format!("{}", (v / scale).round() * scale)
    } else {
        let decimals = (-exp) as usize;
        let r: f64 = format!("{v:.decimals$}")
            .parse()
            .expect("a formatted number");
        format!("{r}")
    }
}

/// What kind of value a policy's parameter takes: what `--sweep` spaces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Seconds, written with a unit (`60s`, `10m`).
    Duration,
    /// A plain number.
    Number,
    /// A whole number.
    Integer,
    /// Anything else (yes/no, names, `auto`).
    Other,
}

/// The kind of parameter `key` of policy `name`, as the policy reads it when built with the
/// parameters `others`.
pub fn kind_of(name: &str, others: &str, key: &str) -> Result<Kind> {
    let Some(e) = CATALOG.iter().find(|e| e.name == name) else {
        bail!("unknown policy '{}' (known: {})", clip(name), known());
    };
    let mut params = Params::new(name, others)?;
    let built = (e.build)(&mut params, 0);
    match params.asked.iter().find(|(k, _)| k == key) {
        Some((_, kind)) if *kind != Kind::Other => Ok(*kind),
        Some(_) => bail!(
            "parameter {key} of {name} is not a duration or a number, so it cannot be swept (its parameters: {}{})",
            e.name,
            e.params
        ),
        None => match built {
            Err(err) => Err(err),
            Ok(_) => bail!(
                "{name} has no parameter '{}' (its parameters: {}{})",
                clip(key),
                e.name,
                e.params
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse;

    #[test]
    fn sweeps_are_log_spaced() {
        let v = sweep("fixed-keepalive:ttl=10s..1000s", 3).unwrap();
        assert_eq!(
            v,
            [
                "fixed-keepalive:ttl=10s",
                "fixed-keepalive:ttl=100s",
                "fixed-keepalive:ttl=1000s"
            ]
        );
        assert_eq!(sweep("fixed-keepalive:ttl=1m..2h", 12).unwrap().len(), 12);
        assert!(sweep("fixed-keepalive:ttl=60s", 3).is_err());
        assert!(sweep("fixed-keepalive:ttl=2h..1m", 3).is_err());
    }

    #[test]
    fn sweeps_space_each_parameter_by_its_own_kind() {
        // A number over a wide range: log-spaced, 4 significant digits between the ends.
        let v = sweep("faascache:capacity=1024..65536,evict=lru", 5).unwrap();
        assert_eq!(
            v,
            [
                "faascache:capacity=1024,evict=lru",
                "faascache:capacity=2896,evict=lru",
                "faascache:capacity=8192,evict=lru",
                "faascache:capacity=23170,evict=lru",
                "faascache:capacity=65536,evict=lru",
            ]
        );
        // A number over a narrow range, or from 0: evenly spaced.
        let v = sweep("pool-predict:quantile=0.5..0.99", 3).unwrap();
        assert_eq!(
            v,
            [
                "pool-predict:quantile=0.5",
                "pool-predict:quantile=0.745",
                "pool-predict:quantile=0.99"
            ]
        );
        let v = sweep("hybrid-histogram:cv=0..3", 4).unwrap();
        assert_eq!(v[1], "hybrid-histogram:cv=1");
        assert_eq!(v[3], "hybrid-histogram:cv=3");
        // A whole number: rounded, repeats dropped.
        let v = sweep("hybrid-histogram:min-samples=1..100", 5).unwrap();
        let got: Vec<&str> = v.iter().map(|s| s.rsplit('=').next().unwrap()).collect();
        assert_eq!(got, ["1", "3", "10", "32", "100"]);
        assert_eq!(
            sweep("hybrid-histogram:min-samples=1..3", 10)
                .unwrap()
                .len(),
            3
        );
        // Every point is a policy that parses.
        for s in [
            "faascache:capacity=1024..65536,evict=size",
            "fixed-keepalive:capacity=100..1e6",
            "hybrid-histogram:cv=0.5..8",
            "pool-predict:quantile=0.1..1",
            "timer-prewarm:lead=1s..10m",
        ] {
            for p in sweep(s, 7).unwrap() {
                parse(&p, 2).unwrap_or_else(|e| panic!("{p}: {e:#}"));
            }
        }
        // Errors name the parameter and what it takes.
        let e = |s: &str| format!("{:#}", sweep(s, 3).unwrap_err());
        let m = e("faascache:capacity=100000s..200000s");
        assert!(
            m.contains("parameter capacity") && m.contains("not a number"),
            "{m}"
        );
        let m = e("fixed-keepalive:restart=no..yes");
        assert!(
            m.contains("parameter restart") && m.contains("cannot be swept"),
            "{m}"
        );
        let m = e("fixed-keepalive:tll=1s..1h");
        assert!(
            m.contains("no parameter 'tll'") && m.contains("ttl=60s"),
            "{m}"
        );
        let m = e("fixed-keepalive:ttl=1x..1h");
        assert!(
            m.contains("parameter ttl") && m.contains("unknown unit"),
            "{m}"
        );
        let m = e("hybrid-histogram:cv=3..1");
        assert!(m.contains("must go up"), "{m}");
        assert!(e("nope:ttl=1s..2s").contains("unknown policy 'nope'"));
    }
}
