//! Users: signing up, changing credentials (which ends every session), the login lookup,
//! and Chirpy Red.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, violates};

/// A user as stored, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub email: String,
    pub is_chirpy_red: bool,
}

/// A user with their password hash, for checking a login.
pub struct Credentials {
    pub user: User,
    pub hashed_password: String,
}

/// What changing a user's email and password found.
pub enum CredentialsUpdate {
    Updated(User),
    EmailTaken,
    NoSuchUser,
}

/// Emails are unique regardless of letter case.
const EMAIL_UNIQUE: &str = "users_email_lower_key";

impl Store {
    /// The new user, or `None` when the email is taken (in any letter case).
    pub async fn create_user(&self, email: &str, hashed_password: &str) -> sqlx::Result<Option<User>> {
        let created = sqlx::query_as!(
            User,
            "insert into users (email, hashed_password) values ($1, $2)
             returning id, created_at, updated_at, email, is_chirpy_red",
            email,
            hashed_password,
        )
        .fetch_one(self.primary())
        .await;
        match created {
            Err(err) if violates(&err, EMAIL_UNIQUE) => Ok(None),
            other => other.map(Some),
        }
    }

    /// Replaces the user's email and password and revokes all their refresh tokens, in one
    /// transaction: a new password must never leave old sessions alive.
    pub async fn update_credentials(
        &self,
        id: Uuid,
        email: &str,
        hashed_password: &str,
    ) -> sqlx::Result<CredentialsUpdate> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query_as!(
            User,
            "update users set email = $2, hashed_password = $3, updated_at = now() where id = $1
             returning id, created_at, updated_at, email, is_chirpy_red",
            id,
            email,
            hashed_password,
        )
        .fetch_optional(self.on(&mut tx))
        .await;
        let user = match updated {
            Err(err) if violates(&err, EMAIL_UNIQUE) => return Ok(CredentialsUpdate::EmailTaken),
            Err(err) => return Err(err),
            Ok(None) => return Ok(CredentialsUpdate::NoSuchUser),
            Ok(Some(user)) => user,
        };
        sqlx::query!(
            "update refresh_tokens set revoked_at = now(), updated_at = now()
             where user_id = $1 and revoked_at is null",
            id,
        )
        .execute(self.on(&mut tx))
        .await?;
        tx.commit().await?;
        Ok(CredentialsUpdate::Updated(user))
    }

    pub async fn user(&self, id: Uuid) -> sqlx::Result<Option<User>> {
        sqlx::query_as!(
            User,
            "select id, created_at, updated_at, email, is_chirpy_red from users where id = $1",
            id
        )
        .fetch_optional(self.primary())
        .await
    }

    /// The user whose email this is, in any letter case PostgreSQL's `lower()` folds.
    pub async fn credentials(&self, email: &str) -> sqlx::Result<Option<Credentials>> {
        let row = sqlx::query!(
            "select id, created_at, updated_at, email, is_chirpy_red, hashed_password
             from users where lower(email) = lower($1)",
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
            },
            hashed_password: row.hashed_password,
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
}
