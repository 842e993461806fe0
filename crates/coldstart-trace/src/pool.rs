//! Identifiers of the release: pool names inside pod IDs and the composite funcID.
//!
//! A pod ID such as `pool22-300-128-0000618412` carries its resource pool (`pool22-300-128`),
//! whose second and third parts are the CPU limit in millicores and the memory limit in MB.
//! The release joins functions across tables by `funcID = funcName---userID---poolName`.

use std::fmt;

/// A resource pool parsed from a pod ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool<'a> {
    /// `poolNN-CPU-MEM`, borrowed from the pod ID.
    pub name: &'a str,
    pub cpu_limit: u32,
    pub memory_limit: u32,
}

/// Why a pod ID did not parse; shown to users beside file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolError(pub &'static str);

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Parses the pool out of a pod ID (`poolNN-CPU-MEM-SERIAL`).
pub fn parse_pod_id(pod_id: &str) -> Result<Pool<'_>, PoolError> {
    let mut dashes = pod_id.match_indices('-').map(|(i, _)| i);
    let (Some(d1), Some(d2), Some(d3)) = (dashes.next(), dashes.next(), dashes.next()) else {
        return Err(PoolError("expected poolNN-CPU-MEM-SERIAL"));
    };
    let name = &pod_id[..d3];
    let pool = parse_pool_parts(name, d1, d2)?;
    if d3 + 1 >= pod_id.len() {
        return Err(PoolError("pod serial number is missing"));
    }
    Ok(pool)
}

/// Parses a bare pool name (`poolNN-CPU-MEM`), as found at the end of a funcID.
pub fn parse_pool_name(name: &str) -> Result<Pool<'_>, PoolError> {
    let mut dashes = name.match_indices('-').map(|(i, _)| i);
    let (Some(d1), Some(d2), None) = (dashes.next(), dashes.next(), dashes.next()) else {
        return Err(PoolError("expected poolNN-CPU-MEM"));
    };
    parse_pool_parts(name, d1, d2)
}

fn parse_pool_parts(name: &str, d1: usize, d2: usize) -> Result<Pool<'_>, PoolError> {
    if !name[..d1].starts_with("pool") {
        return Err(PoolError("pool name must start with 'pool'"));
    }
    let cpu_limit = name[d1 + 1..d2]
        .parse::<u32>()
        .map_err(|_| PoolError("CPU limit (millicores) is not an integer"))?;
    let memory_limit = name[d2 + 1..]
        .parse::<u32>()
        .map_err(|_| PoolError("memory limit (MB) is not an integer"))?;
    Ok(Pool {
        name,
        cpu_limit,
        memory_limit,
    })
}

/// CPU request for a CPU limit (millicores), from the publishers' table; `None` for limits
/// the table does not list (the publishers give common values, not a rule).
pub fn cpu_request_for_limit(cpu_limit: u32) -> Option<u32> {
    Some(match cpu_limit {
        300 => 100,
        400 => 125,
        600 => 300,
        800 => 375,
        1000 => 500,
        1200 => 625,
        1400 => 750,
        1600 => 875,
        1800 => 1000,
        2200 => 1250,
        2600 => 1500,
        3000 => 1750,
        3400 => 2000,
        6600 => 4000,
        8200 => 5000,
        13000 => 6500,
        25800 => 12900,
        _ => return None,
    })
}

/// Separator between the parts of a funcID.
pub const FUNC_ID_SEP: &str = "---";

/// Writes `funcName---userID---poolName` into `out` (cleared first) without allocating.
pub fn write_func_id(out: &mut String, func_name: i64, user_id: i64, pool_name: &str) {
    let mut b = itoa::Buffer::new();
    out.clear();
    out.push_str(b.format(func_name));
    out.push_str(FUNC_ID_SEP);
    out.push_str(b.format(user_id));
    out.push_str(FUNC_ID_SEP);
    out.push_str(pool_name);
}

/// The parts of a funcID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncId<'a> {
    pub func_name: i64,
    pub user_id: i64,
    pub pool: Pool<'a>,
}

/// Splits a funcID into function name, user and pool.
pub fn parse_func_id(func_id: &str) -> Result<FuncId<'_>, PoolError> {
    let mut parts = func_id.splitn(3, FUNC_ID_SEP);
    let (Some(name), Some(user), Some(pool)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(PoolError("expected funcName---userID---poolName"));
    };
    let func_name = name
        .parse::<i64>()
        .map_err(|_| PoolError("funcName part is not an integer"))?;
    let user_id = user
        .parse::<i64>()
        .map_err(|_| PoolError("userID part is not an integer"))?;
    Ok(FuncId {
        func_name,
        user_id,
        pool: parse_pool_name(pool)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_id_from_the_release_readme() {
        let p = parse_pod_id("pool22-300-128-0000618412").unwrap();
        assert_eq!(p.name, "pool22-300-128");
        assert_eq!((p.cpu_limit, p.memory_limit), (300, 128));
        let p = parse_pod_id("pool24-600-512-0000577863").unwrap();
        assert_eq!(
            (p.name, p.cpu_limit, p.memory_limit),
            ("pool24-600-512", 600, 512)
        );
    }

    #[test]
    fn bad_pod_ids_say_why() {
        for bad in [
            "",
            "pool22",
            "pool22-300-128",
            "pool22-300-128-",
            "pod22-300-128-1",
            "pool22-x-128-1",
            "pool22-300-1.5-1",
        ] {
            assert!(parse_pod_id(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn func_id_round_trip() {
        let mut s = String::new();
        write_func_id(&mut s, 400, 418, "pool22-300-128");
        assert_eq!(s, "400---418---pool22-300-128");
        let f = parse_func_id(&s).unwrap();
        assert_eq!(
            (f.func_name, f.user_id, f.pool.name),
            (400, 418, "pool22-300-128")
        );
        assert!(parse_func_id("400---418").is_err());
        assert!(parse_func_id("a---418---pool22-300-128").is_err());
        assert!(parse_func_id("1---2---pool22-300-128-9").is_err());
    }

    #[test]
    fn cpu_request_table_matches_the_spec() {
        let table = [
            (300, 100),
            (400, 125),
            (600, 300),
            (800, 375),
            (1000, 500),
            (1200, 625),
            (1400, 750),
            (1600, 875),
            (1800, 1000),
            (2200, 1250),
            (2600, 1500),
            (3000, 1750),
            (3400, 2000),
            (6600, 4000),
            (8200, 5000),
            (13000, 6500),
            (25800, 12900),
        ];
        for (limit, request) in table {
            assert_eq!(cpu_request_for_limit(limit), Some(request));
        }
        assert_eq!(cpu_request_for_limit(500), None);
    }
}
