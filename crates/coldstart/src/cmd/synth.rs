//! `coldstart synth`: write a synthetic release in the published layout.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use coldstart_sim::synth::{ArrivalWorld, RequestDays, Volume};
use coldstart_sim::{synth, SynthOptions};
use coldstart_trace::schema::TRACE_DAYS;
use outdir::outln;

#[derive(clap::Args)]
pub struct Args {
    /// Folder for the release (made by `coldstart synth`, replaced only when it made it).
    #[arg(long)]
    out: PathBuf,
    /// Regions to generate (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "R1,R2,R3,R4,R5")]
    regions: Vec<String>,
    /// Days to generate (1 to 31, the trace's length).
    #[arg(long, default_value_t = TRACE_DAYS as u32)]
    days: u32,
    #[command(flatten)]
    model: Model,
    /// Pack each region into zip archives as the publishers ship them.
    #[arg(long)]
    zip: bool,
    /// Regions that get per-minute tables (default: all generated regions; `none` for none).
    #[arg(long, value_delimiter = ',')]
    quantiles: Option<Vec<String>>,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Replace OUT even if it is not a folder that `coldstart synth` made.
    #[arg(long)]
    force: bool,
    /// Whose arrivals the functions follow: paper (the model calibrated to the paper) or
    /// structured (the validation world: timers at a fixed second, millisecond bursts,
    /// sub-minute polling; its checks are shown, not claimed).
    #[arg(long, value_enum, default_value_t = Arrivals::Paper)]
    arrivals: Arrivals,
    /// Days with per-request rows: last (day 30, as the release has), all (every day, the
    /// truth that `coldstart simulate --against-requests` checks a per-minute replay against)
    /// or none (the cold starts and per-minute tables alone).
    #[arg(long, value_enum, default_value_t = RequestDaysArg::Last)]
    request_days: RequestDaysArg,
    /// Exit 0 even when a claimed calibration check is outside its tolerance (by default
    /// `synth` writes the release, lists the checks, and exits 1).
    #[arg(long)]
    no_check: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Arrivals {
    Paper,
    Structured,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RequestDaysArg {
    Last,
    All,
    None,
}

/// The size and seed of the synthetic model (`synth`, and `simulate --synth`).
#[derive(clap::Args)]
pub struct Model {
    /// Functions per region (overrides --scale).
    #[arg(long)]
    pub functions: Option<u32>,
    /// Size relative to the published release (1.0: R2 has 2418 functions and about
    /// 2 million cold starts).
    #[arg(long, default_value_t = 0.05)]
    pub scale: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Which requests the model carries: light (without the functions that are never idle:
    /// every cold start and pod of the calibrated world, about 2 % of the paper's requests)
    /// or published (with them: the paper's 85 billion requests at --scale 1, drawn minute
    /// by minute; the per-request day grows toward R1's 364 million rows at --scale 1).
    #[arg(long, value_enum, default_value = "light")]
    pub volume: VolumeArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum VolumeArg {
    Light,
    Published,
}

impl Model {
    pub fn volume(&self) -> Volume {
        match self.volume {
            VolumeArg::Light => Volume::Light,
            VolumeArg::Published => Volume::Published,
        }
    }
}

pub fn run(a: Args) -> Result<()> {
    let opts = SynthOptions {
        out: a.out.clone(),
        regions: a.regions,
        days: a.days,
        functions: a.model.functions,
        scale: a.model.scale,
        seed: a.model.seed,
        volume: a.model.volume(),
        zip: a.zip,
        quantile_regions: a.quantiles,
        threads: a.threads,
        force: a.force,
        arrivals: match a.arrivals {
            Arrivals::Paper => ArrivalWorld::Paper,
            Arrivals::Structured => ArrivalWorld::Structured,
        },
        request_days: match a.request_days {
            RequestDaysArg::Last => RequestDays::Last,
            RequestDaysArg::All => RequestDays::All,
            RequestDaysArg::None => RequestDays::None,
        },
        ..SynthOptions::default()
    };
    let s = synth(&opts)?;
    outln!("wrote {} in {:.1} s", a.out.display(), s.seconds);
    write!(std::io::stdout(), "{s}")?;
    let failed = s.failed_claims();
    if !failed.is_empty() && !a.no_check {
        let names: Vec<&str> = failed.iter().map(|c| c.name.as_str()).collect();
        bail!(
            "{} claimed calibration check(s) outside tolerance (marked !! above): {}; the \
             release in {} is complete (--no-check exits 0 anyway)",
            failed.len(),
            names.join("; "),
            a.out.display()
        );
    }
    Ok(())
}
