//! Workload and pod models of serverless cold starts: synthetic releases now, policy
//! simulation on the same models later. No query engine here.

pub mod calendar;
pub mod calibration;
pub mod catalog;
pub mod costs;
pub mod engine;
pub mod pods;
pub mod policy;
pub mod profile;
pub mod rng;
pub mod synth;
pub mod workload;

pub use synth::{synth, Summary, SynthOptions};
