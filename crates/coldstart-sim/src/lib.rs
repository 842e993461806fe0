//! Serverless cold starts simulated: workloads as data (the synthetic model, the Azure traces,
//! a store's rows read by `coldstart`), the platform engine that replays them under a policy,
//! the policies, and synthetic releases (the synthetic workload replayed under the platform's
//! default policy and written in the published layout). No query engine here.

pub mod calendar;
pub mod calibration;
pub mod catalog;
pub mod correlation;
pub mod costs;
pub mod engine;
pub mod fluid;
pub mod owners;
pub mod policy;
pub mod pressure;
pub mod profile;
pub mod regions;
pub mod release;
mod ring;
pub mod rng;
pub mod synth;
pub mod what_if;
pub mod workload;

pub use synth::{synth, Summary, SynthOptions};
