//! Teams: members and mailboxes, and what they mean for who sees which ticket (design §6): a mailbox of one or
//! more teams is seen only by their members and admins; a mailbox of no team by every agent.

use super::{Db, Result, UserRow};
use sqlx::AnyConnection;

/// A team with its members' e-mails and its mailboxes' names.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TeamRow {
    pub id: i64,
    pub name: String,
    pub members: Vec<String>,
    pub mailboxes: Vec<String>,
}

/// The mailboxes a user may see: `None` for every one (admins; and agents while no mailbox is hidden from them).
pub async fn visible_mailboxes(conn: &mut AnyConnection, user: &UserRow) -> Result<Option<Vec<i64>>> {
    if user.is_admin() {
        return Ok(None);
    }
    let hidden: Vec<i64> = sqlx::query_scalar(
        "select distinct tm.mailbox_id from team_mailboxes tm where not exists \
         (select 1 from team_mailboxes own join team_members m on m.team_id = own.team_id \
          where own.mailbox_id = tm.mailbox_id and m.user_id = $1)",
    )
    .bind(user.id)
    .fetch_all(&mut *conn)
    .await?;
    if hidden.is_empty() {
        return Ok(None);
    }
    let all: Vec<i64> = sqlx::query_scalar("select id from mailboxes order by id").fetch_all(conn).await?;
    Ok(Some(all.into_iter().filter(|id| !hidden.contains(id)).collect()))
}

/// Whether `user` may see tickets of `mailbox`.
pub async fn can_see(conn: &mut AnyConnection, user: &UserRow, mailbox: i64) -> Result<bool> {
    Ok(visible_mailboxes(conn, user).await?.is_none_or(|ids| ids.contains(&mailbox)))
}

impl Db {
    /// The mailboxes `user` may see (see [`visible_mailboxes`]).
    pub async fn visible_mailboxes(&self, user: &UserRow) -> Result<Option<Vec<i64>>> {
        visible_mailboxes(&mut *self.pool().acquire().await?, user).await
    }

    /// Whether `user` may see tickets of `mailbox`.
    pub async fn can_see(&self, user: &UserRow, mailbox: i64) -> Result<bool> {
        can_see(&mut *self.pool().acquire().await?, user, mailbox).await
    }

    /// Every team, by name.
    pub async fn teams(&self) -> Result<Vec<TeamRow>> {
        let teams: Vec<(i64, String)> =
            sqlx::query_as("select id, name from teams order by name").fetch_all(self.pool()).await?;
        let members: Vec<(i64, String)> = sqlx::query_as(
            "select m.team_id, u.email from team_members m join users u on u.id = m.user_id order by u.email",
        )
        .fetch_all(self.pool())
        .await?;
        let boxes: Vec<(i64, String)> = sqlx::query_as(
            "select t.team_id, b.name from team_mailboxes t join mailboxes b on b.id = t.mailbox_id order by b.name",
        )
        .fetch_all(self.pool())
        .await?;
        let of =
            |list: &[(i64, String)], id: i64| list.iter().filter(|(t, _)| *t == id).map(|(_, n)| n.clone()).collect();
        Ok(teams
            .into_iter()
            .map(|(id, name)| TeamRow { id, members: of(&members, id), mailboxes: of(&boxes, id), name })
            .collect())
    }

    /// Creates or replaces a team's members and mailboxes (by user and mailbox id) in one transaction.
    pub async fn put_team(&self, name: &str, members: &[i64], mailboxes: &[i64], now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("insert into teams (name, created_at) values ($1, $2) on conflict (name) do nothing")
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let id: i64 = sqlx::query_scalar("select id from teams where name = $1").bind(name).fetch_one(&mut *tx).await?;
        sqlx::query("delete from team_members where team_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("delete from team_mailboxes where team_id = $1").bind(id).execute(&mut *tx).await?;
        for user in members {
            sqlx::query("insert into team_members (team_id, user_id) values ($1, $2)")
                .bind(id)
                .bind(user)
                .execute(&mut *tx)
                .await?;
        }
        for mailbox in mailboxes {
            sqlx::query("insert into team_mailboxes (team_id, mailbox_id) values ($1, $2)")
                .bind(id)
                .bind(mailbox)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a team; `false` when there was none by that name.
    pub async fn delete_team(&self, name: &str) -> Result<bool> {
        Ok(sqlx::query("delete from teams where name = $1")
            .bind(name)
            .execute(&mut *self.writer().await?)
            .await?
            .rows_affected()
            == 1)
    }

    /// The mailbox ids of a team (by name), `None` for an unknown team.
    pub async fn team_mailboxes(&self, name: &str) -> Result<Option<Vec<i64>>> {
        let id: Option<i64> =
            sqlx::query_scalar("select id from teams where name = $1").bind(name).fetch_optional(self.pool()).await?;
        let Some(id) = id else { return Ok(None) };
        Ok(Some(
            sqlx::query_scalar("select mailbox_id from team_mailboxes where team_id = $1")
                .bind(id)
                .fetch_all(self.pool())
                .await?,
        ))
    }

    /// The next active member of team `name` in round robin (after the one who got the last ticket), remembered.
    pub async fn round_robin(&self, name: &str) -> Result<Option<i64>> {
        let mut tx = self.begin().await?;
        let next = round_robin(&mut tx, name).await?;
        tx.commit().await?;
        Ok(next)
    }
}

/// The next active member of team `name` in round robin, remembered, inside the caller's transaction.
pub async fn round_robin(conn: &mut AnyConnection, name: &str) -> Result<Option<i64>> {
    let team: Option<(i64, Option<i64>)> = sqlx::query_as("select id, rr_last_user from teams where name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((id, last)) = team else { return Ok(None) };
    let members: Vec<i64> = sqlx::query_scalar(
        "select m.user_id from team_members m join users u on u.id = m.user_id where m.team_id = $1 and u.active = 1 \
         order by m.user_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let next = match last {
        Some(l) => members.iter().find(|m| **m > l).or(members.first()).copied(),
        None => members.first().copied(),
    };
    if let Some(n) = next {
        sqlx::query("update teams set rr_last_user = $2 where id = $1").bind(id).bind(n).execute(conn).await?;
    }
    Ok(next)
}
