//! The partnership program: its two achievements, the rules for awarding them, and the
//! records (mentors, people, closings) behind them.

pub mod achievements;

pub use achievements::{Achievement, ACHIEVEMENTS, CERTIFIED, CLOSED};
