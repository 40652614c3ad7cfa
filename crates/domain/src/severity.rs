//! Severity scoring (问题严重度评分): five factors, each rated 0 (none) to
//! 4 (extreme), weighted into a 0–100 score that suggests the handling
//! priority.
//!
//! | factor | weight |
//! |---|---|
//! | impact scope (how many households, safety) | 30 |
//! | satisfaction risk | 20 |
//! | legal risk | 20 |
//! | economic loss | 15 |
//! | brand damage | 15 |
//!
//! A score of 60 or more suggests emergency, 30 or more urgent, below that
//! normal. Any factor at 4 (extreme) suggests at least urgent on its own,
//! and extreme impact scope (a safety risk) suggests emergency, so that a
//! single severe factor is never averaged away.
//!
//! ```
//! use domain::severity::Severity;
//! use domain::ticket::Priority;
//! let s = Severity { impact_scope: 4, satisfaction_risk: 2, legal_risk: 1, economic_loss: 1, brand_damage: 1 };
//! assert_eq!(s.score().unwrap(), 53);
//! assert_eq!(s.suggested_priority().unwrap(), Priority::Emergency);
//! ```

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ticket::Priority;

/// The five factors, each 0 to 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Severity {
    /// How many households are affected; safety risk.
    pub impact_scope: u8,
    /// Risk to owner satisfaction.
    pub satisfaction_risk: u8,
    /// Legal risk (disputes, regulators).
    pub legal_risk: u8,
    /// Economic loss.
    pub economic_loss: u8,
    /// Damage to the brand (media, forums).
    pub brand_damage: u8,
}

const WEIGHTS: [u32; 5] = [30, 20, 20, 15, 15];

impl Severity {
    fn factors(&self) -> [u8; 5] {
        [
            self.impact_scope,
            self.satisfaction_risk,
            self.legal_risk,
            self.economic_loss,
            self.brand_damage,
        ]
    }

    /// The weighted score, 0 to 100 (rounded to the nearest whole number).
    pub fn score(&self) -> Result<u8, DomainError> {
        let factors = self.factors();
        if factors.iter().any(|f| *f > 4) {
            return Err(DomainError::input("severity factor", "each factor is rated 0 to 4"));
        }
        let weighted: u32 = factors.iter().zip(WEIGHTS).map(|(f, w)| u32::from(*f) * w).sum();
        // weighted is at most 400; the score is weighted / 4, rounded.
        Ok(((weighted + 2) / 4) as u8)
    }

    /// The priority the score suggests.
    pub fn suggested_priority(&self) -> Result<Priority, DomainError> {
        let score = self.score()?;
        Ok(if score >= 60 || self.impact_scope == 4 {
            Priority::Emergency
        } else if score >= 30 || self.factors().contains(&4) {
            Priority::Urgent
        } else {
            Priority::Normal
        })
    }
}
