//! One learning rate throughout: the no-re-warm baseline.

use super::{lr_str, Schedule};

/// The no-re-warm baseline: one LR throughout.
pub struct Constant {
    pub lr: f64,
}

impl Schedule for Constant {
    fn lr(&self, _t: u64) -> f64 {
        self.lr
    }
    fn describe(&self) -> String {
        format!("constant {}", lr_str(self.lr))
    }
}
