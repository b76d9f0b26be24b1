//! The public numbers of a batch's new tickets: provisional (negative) while the batch files its mail, drawn for
//! real when the tickets are written (`db::tickets::draw_numbers`), so filing holds nothing other batches wait on.

use crate::db::{self, DbError};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// Provisional numbers handed out by one batch, and the real numbers drawn for them so far.
#[derive(Debug, Default, Clone)]
pub struct BatchNumbers {
    handed: i64,
    drawn: HashMap<i64, i64>,
}

impl BatchNumbers {
    /// A provisional number for a new ticket: negative, so no subject tag or stored ticket can name it.
    pub(crate) fn provisional(&mut self) -> i64 {
        self.handed += 1;
        -self.handed
    }

    /// Draws real numbers for these provisional ones, in order (so tickets keep the order they were filed in).
    pub(crate) async fn draw(&mut self, conn: &mut AnyConnection, provisional: &[i64]) -> Result<(), DbError> {
        let real = db::tickets::draw_numbers(conn, provisional.len()).await?;
        self.drawn.extend(provisional.iter().copied().zip(real));
        Ok(())
    }

    /// The real number of `number` (a number that was never provisional is its own).
    pub fn real(&self, number: i64) -> i64 {
        match number < 0 {
            true => self.drawn.get(&number).copied().unwrap_or(number),
            false => number,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provisional_numbers_are_negative_distinct_and_map_to_what_was_drawn() {
        let mut n = BatchNumbers::default();
        let (a, b) = (n.provisional(), n.provisional());
        assert!(a < 0 && b < 0 && a != b);
        n.drawn.extend([(a, 1000), (b, 1001)]);
        assert_eq!((n.real(a), n.real(b)), (1000, 1001));
        assert_eq!(n.real(1234), 1234, "a stored ticket's number stays");
        let c = n.provisional();
        assert_eq!(n.real(c), -3, "not drawn yet: still provisional");
    }
}
