//! rewarm: continual pre-training of GPT-NeoX / Pythia models with learning-rate re-warming
//! (Gupta et al. 2023). Data flows one way: text → token shards → training runs (config →
//! run → metrics log and checkpoints) → evaluation and charts.

pub mod checkpoint;
pub mod cmd;
pub mod config;
pub mod dataset;
pub mod demo;
pub mod dist;
pub mod eval;
pub mod generate;
pub mod launch;
pub mod lm_head;
pub mod model;
pub mod ops;
pub mod optim;
pub mod report;
pub mod retention;
pub mod run_config;
pub mod run_dir;
pub mod schedule;
pub mod study;
pub mod tasks;
pub mod tensorboard;
pub mod tokenize;
pub mod train;
pub mod working;
