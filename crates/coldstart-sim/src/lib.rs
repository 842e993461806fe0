//! Workload and pod models of serverless cold starts: synthetic releases now, policy
//! simulation on the same models later. No query engine here.

pub mod calendar;
pub mod calibration;
pub mod catalog;
pub mod pods;
pub mod profile;
pub mod rng;
pub mod synth;

pub use synth::{synth, Summary, SynthOptions};
