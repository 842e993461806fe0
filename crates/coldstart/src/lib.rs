//! `coldstart`: serverless cold-start analytics on the Huawei Cloud 2025 trace.
//!
//! Modules depend one way: `store` (DataFusion over the Parquet store) → `query` (the runtime
//! the analyses run on) → `analysis` (one module per paper figure) → `report` (the HTML page)
//! → `cmd` (one module per subcommand). `simulate` replays workloads under the policies of
//! `coldstart-sim` (and reads a store's requests as a workload). `stats` and `fit` are pure
//! statistics, `table` holds the numbers behind a figure and `chart` draws them.

pub mod analysis;
/// Charts live in the `charts` crate, shared with rewarm.
pub use charts as chart;
pub mod cmd;
pub mod fit;
pub mod query;
pub mod report;
pub mod simulate;
pub mod stats;
pub mod store;
pub mod table;
