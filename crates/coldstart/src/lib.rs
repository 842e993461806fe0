//! `coldstart`: serverless cold-start analytics on the Huawei Cloud 2025 trace. The binary's
//! commands are thin wrappers over these modules: `store` (DataFusion over the Parquet store),
//! `analysis` (one module per paper figure), `stats` and `fit` (the statistics), `chart` (SVG),
//! `table` (numbers behind a figure) and `report` (the HTML page).

pub mod analysis;
/// Charts live in the `charts` crate, shared with rewarm.
pub use charts as chart;
pub mod fit;
pub mod report;
pub mod stats;
pub mod store;
pub mod table;
