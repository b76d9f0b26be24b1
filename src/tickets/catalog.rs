//! The shop catalog's input side: records validated into products and orders, and NDJSON imports that
//! write valid records in batches and report invalid lines with their numbers.

pub use crate::domain::catalog::{Record, parse_order, parse_product, parse_record};

use crate::db::catalog::{Upsert, upsert_order, upsert_product};
use crate::db::{Db, DbError};
use serde::Serialize;

/// Records written per transaction.
const BATCH: usize = 500;

/// What an import did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub products: usize,
    pub orders: usize,
    /// Invalid lines: `(line number, why)`; nothing of them was written.
    pub rejected: Vec<Rejected>,
}

/// One refused line.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rejected {
    pub line: usize,
    pub error: String,
}

/// Imports NDJSON text (one `{"type": "product"|"order", …}` per line; blank lines are skipped).
/// `progress` is called with the number of lines done after each batch.
pub async fn import_ndjson(db: &Db, text: &str, mut progress: impl FnMut(usize)) -> Result<ImportReport, DbError> {
    let mut report = ImportReport::default();
    let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
    let mut done = 0;
    for (i, line) in text.lines().enumerate() {
        done = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        match parse_record(line) {
            Ok(r) => batch.push(r),
            Err(error) => report.rejected.push(Rejected { line: i + 1, error }),
        }
        if batch.len() == BATCH {
            write_batch(db, &mut batch, &mut report).await?;
            progress(done);
        }
    }
    write_batch(db, &mut batch, &mut report).await?;
    progress(done);
    Ok(report)
}

/// Writes validated records in one transaction.
pub async fn write_batch(db: &Db, batch: &mut Vec<Record>, report: &mut ImportReport) -> Result<(), DbError> {
    if batch.is_empty() {
        return Ok(());
    }
    let now = crate::domain::now();
    let mut tx = db.begin().await?;
    for record in batch.drain(..) {
        let outcome = match &record {
            Record::Product(p) => {
                report.products += 1;
                upsert_product(&mut tx, p, now).await?
            }
            Record::Order(o) => {
                report.orders += 1;
                upsert_order(&mut tx, o, now).await?
            }
        };
        match outcome {
            Upsert::Created => report.created += 1,
            Upsert::Updated => report.updated += 1,
        }
    }
    tx.commit().await?;
    Ok(())
}
