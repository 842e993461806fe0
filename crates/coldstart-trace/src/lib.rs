//! The Huawei Cloud 2025 FaaS cold-start trace release: its layout and schemas, streaming
//! readers with validation, and the Parquet store the rest of `coldstart` queries.

pub mod error;
pub mod ingest;
pub mod layout;
pub mod paper;
pub mod parse;
pub mod pool;
pub mod schema;
pub mod source;
pub mod target;
pub mod zip_lzma;
pub mod zipdir;

pub use error::Error;
pub use ingest::{ingest, IngestOptions, Manifest};
pub use layout::StoreLayout;
pub use schema::Family;
