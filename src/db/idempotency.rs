//! Idempotency keys of API and form writes: a retried request returns the first response instead of acting twice.

use super::Result;
use sqlx::AnyConnection;

/// Remembers the response to an idempotent request; false when the key was used before.
pub async fn claim_idempotency_key(conn: &mut AnyConnection, user_id: i64, key: &str, now: i64) -> Result<bool> {
    let done = sqlx::query("insert into idempotency_keys (user_id, key, response, created_at) values ($1, $2, '', $3) on conflict do nothing")
        .bind(user_id)
        .bind(key)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Stores the response of an idempotent request.
pub async fn store_idempotent_response(
    conn: &mut AnyConnection,
    user_id: i64,
    key: &str,
    response: &str,
) -> Result<()> {
    sqlx::query("update idempotency_keys set response = $3 where user_id = $1 and key = $2")
        .bind(user_id)
        .bind(key)
        .bind(response)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The stored response of an idempotent request (empty while the first request is still running).
pub async fn idempotent_response(conn: &mut AnyConnection, user_id: i64, key: &str) -> Result<String> {
    Ok(sqlx::query_scalar("select response from idempotency_keys where user_id = $1 and key = $2")
        .bind(user_id)
        .bind(key)
        .fetch_one(&mut *conn)
        .await?)
}
