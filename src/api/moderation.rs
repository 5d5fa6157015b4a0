//! Reports (`POST /api/reports`, by anyone signed in) and what moderators do with them: the
//! reports, resolving one, suspending a user, deleting a chirp (under `/api/admin/`, with the
//! `moderator_token` scheme). Every moderator action is logged (see `store::moderation`).

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object,
    param::{Path, Query},
    payload::Json,
    types::Example,
};
use uuid::Uuid;

use super::{AccessToken, ApiTags, ModeratorToken, NoteText, ReasonText, Text, Timestamp, profiles::USER_NOT_FOUND};
use crate::{
    domain::is_blank,
    error::{ApiError, api_errors},
    rate_limits::Kind,
    state::AppState,
    store::{self, Filed},
};

/// What someone reports.
#[derive(Object)]
#[oai(example)]
struct NewReport {
    /// Whom.
    user_id: Uuid,
    /// Which of their chirps, if it is about some (at most 20; null or absent: none).
    #[oai(nullable, validator(max_items = 20))]
    chirp_ids: Option<Vec<Uuid>>,
    /// What is wrong (1 to 1,000 characters, something visible in them).
    reason: Text<ReasonText>,
}

impl Example for NewReport {
    fn example() -> Self {
        Self {
            user_id: Uuid::from_u128(0x3311741c_680c_4546_99f3_fc9efac2036c),
            chirp_ids: None,
            reason: Text::example("Spam, every few seconds."),
        }
    }
}

/// A report.
#[derive(Object)]
struct Report {
    id: Uuid,
    reporter_id: Uuid,
    user_id: Uuid,
    chirp_ids: Vec<Uuid>,
    reason: String,
    /// `open` or `resolved`.
    status: String,
    #[oai(nullable)]
    resolved_by: Option<Uuid>,
    #[oai(nullable)]
    resolved_at: Option<Timestamp>,
    #[oai(nullable)]
    resolution: Option<String>,
    created_at: Timestamp,
}

impl From<store::Report> for Report {
    fn from(report: store::Report) -> Self {
        Self {
            id: report.id,
            reporter_id: report.reporter_id,
            user_id: report.user_id,
            chirp_ids: report.chirp_ids,
            reason: report.reason,
            status: report.status,
            resolved_by: report.resolved_by,
            resolved_at: report.resolved_at.map(Into::into),
            resolution: report.resolution,
            created_at: report.created_at.into(),
        }
    }
}

/// What a moderator says about a report, or a suspension (`{}` for nothing).
#[derive(Object)]
struct Note {
    /// At most 1,000 characters, no NUL.
    note: Option<Text<NoteText>>,
}

#[derive(ApiResponse)]
enum Filing {
    /// The report, open, for the moderators.
    #[oai(status = 201)]
    Created(Json<Report>),
}

#[derive(ApiResponse)]
enum Reports {
    /// Open reports first (oldest first), then resolved ones (newest first).
    #[oai(status = 200)]
    Ok(Json<Vec<Report>>),
}

#[derive(ApiResponse)]
enum Resolved {
    /// The report, resolved (by this call or before).
    #[oai(status = 200)]
    Ok(Json<Report>),
}

#[derive(ApiResponse)]
enum Done {
    /// Done (or it was already so).
    #[oai(status = 204)]
    NoContent,
}

api_errors! {
    throttled enum ReportError {
        /// A malformed body, a blank reason, or reporting oneself.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// No user has this id, or one of `chirp_ids` is no chirp of theirs.
        NotFound = 404,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

api_errors! {
    throttled enum ModerationError {
        /// A malformed id or body, or a note with a NUL character.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The caller is not a moderator.
        Forbidden = 403,
        /// No such report, user or chirp.
        NotFound = 404,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

fn note(note: Json<Note>) -> Result<String, ApiError> {
    let note = note.0.note.map(|text| text.0.trim().to_owned()).unwrap_or_default();
    if note.contains('\0') {
        return Err(ApiError::BadRequest("The note contains a NUL character".into()));
    }
    Ok(note)
}

pub struct ReportsApi;

operations! {
    "ApiTags::Moderation",
    impl ReportsApi {
        /// Report a user
        ///
        /// Tells the moderators about a user (and, if given, some of their chirps), with a reason.
        /// Anyone signed in may report anyone but themselves; reports are rate-limited.
        #[oai(path = "/api/reports", method = "post", operation_id = "createReport")]
        async fn report(&self, state: Data<&AppState>, auth: AccessToken, body: Json<NewReport>) -> Result<Filing, ReportError> {
            state.limiter.check(Kind::Report, Some(auth.0)).await?;
            let NewReport { user_id, chirp_ids, reason } = body.0;
            let reason = reason.0.trim();
            if is_blank(reason) || reason.contains('\0') || reason.chars().count() > 1000 {
                return Err(ApiError::BadRequest("Say what is wrong in 1 to 1,000 characters".into()).into());
            }
            if user_id == auth.0 {
                return Err(ApiError::BadRequest("You cannot report yourself".into()).into());
            }
            let chirps = chirp_ids.unwrap_or_default();
            match state.store.file_report(auth.0, user_id, &chirps, reason).await? {
                Filed::Filed(report) => {
                    tracing::info!(report_id = %report.id, user_id = %user_id, "report filed");
                    Ok(Filing::Created(Json(report.into())))
                }
                Filed::NoSuchUser => Err(USER_NOT_FOUND.into()),
                Filed::NotTheirChirps => Err(ApiError::NotFound("No such chirp of the reported user's").into()),
            }
        }

        /// List reports
        ///
        /// For moderators: open reports first, oldest first, then resolved ones, newest first; at
        /// most `limit` (100 by default).
        #[oai(path = "/api/admin/reports", method = "get", operation_id = "listReports")]
        async fn reports(
            &self,
            state: Data<&AppState>,
            _moderator: ModeratorToken,
            /// At most this many (1 to 500; 100 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
            limit: Query<Option<u32>>,
        ) -> Result<Reports, ModerationError> {
            let reports = state.store.reports(limit.0.unwrap_or(100)).await?;
            Ok(Reports::Ok(Json(reports.into_iter().map(Report::from).collect())))
        }

        /// Resolve a report
        ///
        /// For moderators: closes the report, with an optional note; resolving it again changes
        /// nothing. Logged.
        #[oai(path = "/api/admin/reports/:report_id/resolve", method = "post", operation_id = "resolveReport")]
        async fn resolve(
            &self,
            state: Data<&AppState>,
            moderator: ModeratorToken,
            report_id: Path<Uuid>,
            body: Json<Note>,
        ) -> Result<Resolved, ModerationError> {
            let report = state
                .store
                .resolve_report(moderator.0, report_id.0, &note(body)?)
                .await?
                .ok_or(ApiError::NotFound("Report not found"))?;
            Ok(Resolved::Ok(Json(report.into())))
        }

        /// Suspend a user
        ///
        /// For moderators: the user can no longer log in or refresh (their refresh tokens are
        /// revoked), their access tokens stop working at once on every instance, and their chirps
        /// disappear from every read (kept, hidden). Logged, with the note.
        #[oai(path = "/api/admin/users/:user_id/suspend", method = "post", operation_id = "suspendUser")]
        async fn suspend(
            &self,
            state: Data<&AppState>,
            moderator: ModeratorToken,
            user_id: Path<Uuid>,
            body: Json<Note>,
        ) -> Result<Done, ModerationError> {
            if user_id.0 == moderator.0 {
                return Err(ApiError::BadRequest("You cannot suspend yourself".into()).into());
            }
            let note = note(body)?;
            if !state.store.suspend(moderator.0, user_id.0, &note).await? {
                return Err(USER_NOT_FOUND.into());
            }
            tracing::warn!(user_id = %user_id.0, moderator_id = %moderator.0, "user suspended");
            // Every instance: tokens refused, and cached chirps of theirs forgotten.
            state.cache.empty();
            state.announcer.suspended(user_id.0).await;
            Ok(Done::NoContent)
        }

        /// Delete any chirp
        ///
        /// For moderators: deletes the chirp, whoever wrote it. Logged.
        #[oai(path = "/api/admin/chirps/:chirpID", method = "delete", operation_id = "moderateChirp")]
        async fn delete_chirp(
            &self,
            state: Data<&AppState>,
            moderator: ModeratorToken,
            #[oai(name = "chirpID")] id: Path<Uuid>,
        ) -> Result<Done, ModerationError> {
            let reply_to = state
                .store
                .moderate_chirp(moderator.0, id.0)
                .await?
                .ok_or(ApiError::NotFound("Chirp not found"))?;
            state.cache.deleted(id.0);
            if let Some(parent) = reply_to {
                state.cache.counts_changed(parent);
            }
            state.announcer.deleted(id.0, reply_to).await;
            Ok(Done::NoContent)
        }
    }
}
