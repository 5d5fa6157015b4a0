//! Users: signing up, changing credentials (which ends every session), the login lookup,
//! and Chirpy Red.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, violates};
use crate::domain::{Email, Handle, email_key};

/// A user as stored, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub email: String,
    pub is_chirpy_red: bool,
    pub handle: Option<String>,
    pub display_name: String,
    pub bio: String,
}

/// A user with their password hash, for checking a login.
pub struct Credentials {
    pub user: User,
    pub hashed_password: String,
    /// A suspended user cannot log in.
    pub suspended: bool,
}

/// What signing up came to.
pub enum SignUp {
    Created(User),
    EmailTaken,
    HandleTaken,
}

/// What changing a user's email and password found.
pub enum CredentialsUpdate {
    Updated(User),
    EmailTaken,
    NoSuchUser,
}

/// Emails are unique by their key ([`email_key`]); rows not keyed yet, by `lower(email)`,
/// which still holds for all (see the `email_key` migration).
const EMAIL_UNIQUE: [&str; 2] = ["users_email_key_key", "users_email_lower_key"];

/// Handles are unique regardless of letter case.
pub(super) const HANDLE_UNIQUE: &str = "users_handle_key";

fn email_taken(err: &sqlx::Error) -> bool {
    EMAIL_UNIQUE.iter().any(|name| violates(err, name))
}

/// The key of an account whose email was stored before emails had keys and turned out to be
/// another spelling of an older account's: no spelling of a new email has a leading space,
/// so it collides with none, and login finds the account by the exact email it has.
fn displaced_key(email: &str) -> String {
    format!(" {email}")
}

impl Store {
    /// The new user, unless the email is taken (in any spelling with the same key) or the
    /// handle is (in any letter case).
    pub async fn create_user(
        &self,
        email: &Email,
        hashed_password: &str,
        handle: Option<&Handle>,
    ) -> sqlx::Result<SignUp> {
        let created = sqlx::query_as!(
            User,
            "insert into users (email, email_key, hashed_password, handle) values ($1, $2, $3, $4)
             returning id, created_at, updated_at, email, is_chirpy_red, handle, display_name, bio",
            email.as_str(),
            email.key(),
            hashed_password,
            handle.map(Handle::as_str),
        )
        .fetch_one(self.primary())
        .await;
        match created {
            Err(err) if email_taken(&err) => Ok(SignUp::EmailTaken),
            Err(err) if violates(&err, HANDLE_UNIQUE) => Ok(SignUp::HandleTaken),
            other => other.map(SignUp::Created),
        }
    }

    /// Replaces the user's email and password and revokes all their refresh tokens, in one
    /// transaction: a new password must never leave old sessions alive.
    pub async fn update_credentials(
        &self,
        id: Uuid,
        email: &Email,
        hashed_password: &str,
    ) -> sqlx::Result<CredentialsUpdate> {
        let mut tx = self.begin().await?;
        // Tells the trigger that drops the keys an older release leaves stale that this
        // transaction writes the key itself.
        sqlx::query_scalar!("select set_config('chirpy.email_key_written', 'on', true)")
            .fetch_one(self.on(&mut tx))
            .await?;
        // The very same email keeps the key it has: an account displaced by an older one
        // with the same key (see `key_emails`) can still change its password.
        let updated = sqlx::query_as!(
            User,
            "update users
                set email_key = case when email = $2 and email_key is not null then email_key else $3 end,
                    email = $2, hashed_password = $4, updated_at = now()
              where id = $1
             returning id, created_at, updated_at, email, is_chirpy_red, handle, display_name, bio",
            id,
            email.as_str(),
            email.key(),
            hashed_password,
        )
        .fetch_optional(self.on(&mut tx))
        .await;
        let user = match updated {
            Err(err) if email_taken(&err) => return Ok(CredentialsUpdate::EmailTaken),
            Err(err) => return Err(err),
            Ok(None) => return Ok(CredentialsUpdate::NoSuchUser),
            Ok(Some(user)) => user,
        };
        // Every session ends, a rotation that commits meanwhile included (see tokens.rs).
        self.end_sessions_of(&mut tx, id).await?;
        tx.commit().await?;
        Ok(CredentialsUpdate::Updated(user))
    }

    pub async fn user(&self, id: Uuid) -> sqlx::Result<Option<User>> {
        sqlx::query_as!(
            User,
            "select id, created_at, updated_at, email, is_chirpy_red, handle, display_name, bio from users where id = $1",
            id
        )
        .fetch_optional(self.primary())
        .await
    }

    /// The user whose email this is, in any spelling with the same [`email_key`]. An
    /// account displaced by an older one with its key is found by its exact email; a row
    /// not keyed yet, by `lower(email)` as before keys.
    pub async fn credentials(&self, email: &str) -> sqlx::Result<Option<Credentials>> {
        let row = sqlx::query!(
            r#"select id, created_at, updated_at, email, is_chirpy_red, handle, display_name, bio, hashed_password,
                      suspended_at is not null as "suspended!"
                 from users
                where email_key = $1 or email_key = $2 or (email_key is null and lower(email) = lower($3))
                order by case when email_key = $2 then 0 when email_key = $1 then 1 else 2 end
                limit 1"#,
            email_key(email),
            displaced_key(email),
            email,
        )
        .fetch_optional(self.primary())
        .await?;
        Ok(row.map(|row| Credentials {
            user: User {
                id: row.id,
                created_at: row.created_at,
                updated_at: row.updated_at,
                email: row.email,
                is_chirpy_red: row.is_chirpy_red,
                handle: row.handle,
                display_name: row.display_name,
                bio: row.bio,
            },
            hashed_password: row.hashed_password,
            suspended: row.suspended,
        }))
    }

    /// Makes the user Chirpy Red; `false` when there is no such user. `updated_at` moves
    /// only on the real change, so a repeated upgrade leaves no trace.
    pub async fn upgrade_to_red(&self, id: Uuid) -> sqlx::Result<bool> {
        let upgraded = sqlx::query!(
            "update users set is_chirpy_red = true,
                              updated_at = case when is_chirpy_red then updated_at else now() end
             where id = $1",
            id,
        )
        .execute(self.primary())
        .await?;
        Ok(upgraded.rows_affected() == 1)
    }

    /// Computes the key of every user who has none (stored before keys, or by an instance
    /// of the previous release), and returns how many. The oldest account keeps a key that
    /// several stored emails share; each younger one gets a key of its own
    /// ([`displaced_key`]), so no account is lost and each still logs in with its exact
    /// email. Runs at every start and in housekeeping, on any instance: under a table lock
    /// that admits one at a time (and holds sign-ups and email changes for its moment, not
    /// reads or logins), so instances starting together key each row once.
    pub async fn key_emails(&self) -> sqlx::Result<u64> {
        let pending =
            sqlx::query_scalar!(r#"select exists(select 1 from users where email_key is null) as "pending!""#)
                .fetch_one(self.primary())
                .await?;
        if !pending {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        sqlx::query!("lock table users in share row exclusive mode")
            .execute(self.on(&mut tx))
            .await?;
        let rows = sqlx::query!("select id, email from users where email_key is null order by created_at, id")
            .fetch_all(self.on(&mut tx))
            .await?;
        let keys: Vec<String> = rows.iter().map(|row| email_key(&row.email)).collect();
        let displaced: Vec<String> = rows.iter().map(|row| displaced_key(&row.email)).collect();
        let mut taken: HashSet<String> = sqlx::query_scalar!(
            r#"select email_key as "email_key!" from users where email_key = any($1) or email_key = any($2)"#,
            &keys,
            &displaced,
        )
        .fetch_all(self.on(&mut tx))
        .await?
        .into_iter()
        .collect();
        let mut ids = Vec::with_capacity(rows.len());
        let mut assigned = Vec::with_capacity(rows.len());
        for ((row, key), displaced) in rows.into_iter().zip(keys).zip(displaced) {
            let key = if taken.insert(key.clone()) {
                key
            } else {
                tracing::warn!(user_id = %row.id, "this user's email is another spelling of an older account's: \
                    the account stays, reachable by its exact email only");
                // Two displaced rows never share an email (lower(email) is unique), but
                // should it happen, the id keeps them apart.
                let unique = if taken.contains(&displaced) {
                    format!("{displaced} {}", row.id)
                } else {
                    displaced
                };
                taken.insert(unique.clone());
                unique
            };
            ids.push(row.id);
            assigned.push(key);
        }
        sqlx::query!(
            "update users set email_key = keyed.key
               from unnest($1::uuid[], $2::text[]) as keyed (id, key)
              where users.id = keyed.id",
            &ids,
            &assigned,
        )
        .execute(self.on(&mut tx))
        .await?;
        tx.commit().await?;
        Ok(ids.len() as u64)
    }
}
