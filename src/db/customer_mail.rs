//! A ticket's latest customer mail: what acknowledgements and notices quote and thread onto.

use super::Result;
use sqlx::AnyConnection;

/// The latest customer mail of a ticket, for excerpts and threading headers.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct LastCustomerMail {
    pub message_id: Option<String>,
    pub refs: String,
    pub visible_text: String,
    pub from_addr: String,
    pub from_name: String,
    pub reply_to: String,
    pub created_at: i64,
}

/// The columns of [`LastCustomerMail`].
const COLUMNS: &str = "message_id, refs, visible_text, from_addr, from_name, reply_to, created_at";

/// The newest customer mail of a ticket.
pub async fn last_customer_mail(conn: &mut AnyConnection, ticket_id: i64) -> Result<Option<LastCustomerMail>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from messages where ticket_id = $1 and kind = 'customer' order by id desc limit 1"
    ));
    Ok(sqlx::query_as(sql).bind(ticket_id).fetch_optional(&mut *conn).await?)
}

/// The latest customer mail of each of these tickets that has one, by ticket id.
pub async fn last_customer_mails(
    conn: &mut AnyConnection,
    ticket_ids: &[i64],
) -> Result<std::collections::HashMap<i64, LastCustomerMail>> {
    #[derive(sqlx::FromRow)]
    struct Keyed {
        ticket_id: i64,
        #[sqlx(flatten)]
        mail: LastCustomerMail,
    }
    let mut out = std::collections::HashMap::new();
    for chunk in super::lookup_chunks(ticket_ids, 32) {
        let sql = sqlx::AssertSqlSafe(format!(
            "select ticket_id, {COLUMNS} from messages where id in \
             (select max(id) from messages where kind = 'customer' and ticket_id in ({}) group by ticket_id)",
            super::marks(1, chunk.len())
        ));
        let mut q = sqlx::query_as::<_, Keyed>(sql);
        for id in chunk {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&mut *conn).await?.into_iter().map(|k| (k.ticket_id, k.mail)));
    }
    Ok(out)
}
