//! What a start-up failure means in the operator's terms. A library's error names what went
//! wrong inside it (`prepared statement "sqlx_s_1" already exists`); the operator needs to
//! know which setting to change. Each known cause gets a sentence saying so, after the
//! original error.

use std::error::Error;

/// The advice for `err` (or any error it was caused by), if its cause is one of the known
/// misconfigurations.
pub fn advice(err: &(dyn Error + 'static)) -> Option<&'static str> {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if let Some(advice) = sqlx_advice(err) {
            return Some(advice);
        }
        cause = err.source();
    }
    None
}

fn sqlx_advice(err: &(dyn Error + 'static)) -> Option<&'static str> {
    let err = match err.downcast_ref::<sqlx::Error>() {
        Some(err) => err,
        None => match err.downcast_ref::<sqlx::migrate::MigrateError>() {
            Some(sqlx::migrate::MigrateError::Execute(err)) => err,
            _ => return None,
        },
    };
    match err {
        sqlx::Error::Database(db) => advice_for_code(db.code().as_deref(), db.message()),
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => Some(
            "Nothing accepts connections at the host and port DATABASE_URL names: is PostgreSQL running there, and \
             listening on that address?",
        ),
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => Some(
            "DATABASE_URL names a Unix socket directory with no PostgreSQL socket in it: is the server running, and \
             is `host=` the directory it listens in?",
        ),
        _ => None,
    }
}

/// The advice for a database error with SQLSTATE `code` and `message`.
fn advice_for_code(code: Option<&str>, message: &str) -> Option<&'static str> {
    match code? {
        // duplicate_prepared_statement, invalid_sql_statement_name: another session's named
        // statements, which only a transaction-mode pooler mixes up.
        "42P05" | "26000" if message.contains("prepared statement") => Some(
            "DATABASE_URL seems to go through a pooler in transaction mode (PgBouncer's pool_mode = transaction), \
             which cannot keep named statements: set DATABASE_POOL_MODE=transaction, and DATABASE_DIRECT_URL to a \
             direct connection for migrations and LISTEN (docs/scaling.md, PgBouncer).",
        ),
        "28P01" => Some(
            "PostgreSQL refused the password: check the user and password in DATABASE_URL (and DATABASE_DIRECT_URL \
             and DATABASE_REPLICA_URL, if set).",
        ),
        "28000" => Some(
            "PostgreSQL does not let this user in from here (pg_hba.conf, or no such role): check the user in \
             DATABASE_URL and the server's pg_hba.conf.",
        ),
        "3D000" => Some(
            "The database DATABASE_URL names does not exist: create it (`createdb <name>`) or correct the name at \
             the end of the URL.",
        ),
        "53300" => Some(
            "PostgreSQL has no connections left (max_connections): lower DB_MAX_CONNECTIONS, or raise the \
             server's max_connections (each instance also keeps a few connections of its own for batches).",
        ),
        _ => None,
    }
}

/// The warning for a replica that is not one: `pg_is_in_recovery()` is false there, so it
/// replays nothing from the primary and reads from it would see another database.
pub const NOT_A_STANDBY: &str = "DATABASE_REPLICA_URL names a server that is not a standby (pg_is_in_recovery() is \
     false there): it replays nothing from the primary, so what is read from it may never match. Point it at a \
     streaming replica of DATABASE_URL's server (docs/scaling.md), or unset it.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooler_confusion_says_what_to_set() {
        let advice = advice_for_code(Some("42P05"), "prepared statement \"sqlx_s_1\" already exists").unwrap();
        assert!(advice.contains("DATABASE_POOL_MODE=transaction") && advice.contains("DATABASE_DIRECT_URL"));
        assert!(advice_for_code(Some("26000"), "prepared statement \"sqlx_s_3\" does not exist").is_some());
        assert_eq!(advice_for_code(Some("42P05"), "something else"), None);
    }

    #[test]
    fn credentials_and_names_are_named() {
        assert!(advice_for_code(Some("28P01"), "").unwrap().contains("password"));
        assert!(advice_for_code(Some("3D000"), "").unwrap().contains("createdb"));
        assert_eq!(advice_for_code(Some("23505"), ""), None);
        assert_eq!(advice_for_code(None, ""), None);
    }

    #[test]
    fn a_refused_connection_is_explained_through_its_causes() {
        let refused = sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"));
        let wrapped = sqlx::migrate::MigrateError::Execute(refused);
        assert!(advice(&wrapped).unwrap().contains("Nothing accepts connections"));
        assert_eq!(advice(&std::io::Error::other("unrelated")), None);
    }
}
