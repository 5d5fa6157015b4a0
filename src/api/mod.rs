//! The HTTP API: one `#[OpenApi]` struct per tag, combined in [`service`].

/// An `#[OpenApi]` impl with `tag`, declaring what every operation shares: the request id
/// and trace context headers (handled by `observe`, outside the operations).
macro_rules! operations {
    ($tag:tt, $($api:tt)*) => {
        #[poem_openapi::OpenApi(
            tag = $tag,
            request_header(
                name = "X-Request-Id",
                ty = "Option<String>",
                description = "Your id for this request (1 to 128 visible ASCII characters), logged and echoed \
                               back; anything else is replaced by a fresh one."
            ),
            request_header(
                name = "traceparent",
                ty = "Option<String>",
                description = "W3C Trace Context: the trace this request belongs to, continued in the logs; a \
                               malformed one is ignored."
            ),
            response_header(
                name = "RateLimit-Policy",
                ty = "Option<String>",
                description = "On rate-limited operations (every write, and reads under `/api/`): the limits that apply, \
                               as in draft-ietf-httpapi-ratelimit-headers, e.g. `\"post-account\";q=300;w=300` (q \
                               requests per w seconds)."
            ),
            response_header(
                name = "RateLimit",
                ty = "Option<String>",
                description = "On rate-limited operations: where the client stands in each limit, e.g. \
                               `\"post-account\";r=287;t=113` (r requests left, t seconds until the window starts \
                               again)."
            ),
            response_header(
                name = "X-Request-Id",
                ty = "String",
                description = "This request's id: yours if well formed, else a fresh one. Quote it when reporting \
                               a problem."
            )
        )]
        $($api)*
    };
}

mod account_sessions;
mod admin;
mod chirps;
mod conditional;
mod follows;
mod json;
mod likes;
mod moderation;
mod notifications;
mod paging;
mod profiles;
mod safety;
mod schemes;
mod search;
mod sessions;
mod stream;
mod text;
mod threads;
mod timelines;
mod timestamp;
mod users;
mod webhooks;

use poem_openapi::{OpenApiService, Tags};

pub use conditional::client_has;
pub use json::{JsonArray, JsonObject};
pub use schemes::{AccessToken, ModeratorToken, PolkaKey, REFUSED_ACCESS_TOKEN, RefreshBearer, Viewer};
pub use stream::render as render_event;
pub use text::{BioText, ChirpText, DisplayNameText, EmailText, HandleText, NoteText, PasswordText, ReasonText, Text};
pub use timestamp::Timestamp;

#[derive(Tags)]
#[oai(rename_all = "lowercase")]
enum ApiTags {
    /// Sign up and account settings.
    Users,
    /// What anyone may see of a user.
    Profiles,
    /// Who follows whom.
    Follows,
    /// The home timeline: your chirps and those of whom you follow.
    Timelines,
    /// Logging in, and the access and refresh tokens that follow.
    Auth,
    /// Where you are logged in: your sessions, and logging them out.
    Sessions,
    /// Posting, reading and deleting chirps.
    Chirps,
    /// Conversations: a chirp with the chain it answers and its replies.
    Threads,
    /// Liking chirps, and who liked them.
    Likes,
    /// Finding chirps by their words and people by their names.
    Search,
    /// Blocking and muting other users.
    Safety,
    /// Your notifications and where you have read up to.
    Notifications,
    /// Reporting users, and what moderators do with reports.
    Moderation,
    /// Calls from Polka, the payment provider.
    Webhooks,
    /// Health, metrics and the dev-only reset.
    Admin,
}

pub type Apis = (
    users::UsersApi,
    profiles::ProfilesApi,
    follows::FollowsApi,
    timelines::TimelinesApi,
    sessions::SessionsApi,
    account_sessions::AccountSessionsApi,
    chirps::ChirpsApi,
    stream::StreamApi,
    threads::ThreadsApi,
    likes::LikesApi,
    search::SearchApi,
    safety::SafetyApi,
    notifications::NotificationsApi,
    moderation::ReportsApi,
    webhooks::WebhooksApi,
    admin::AdminApi,
);

/// The whole API; also the source of `/openapi.json` and `openapi/openapi.yaml`.
pub fn service() -> OpenApiService<Apis, ()> {
    let apis = (
        users::UsersApi,
        profiles::ProfilesApi,
        follows::FollowsApi,
        timelines::TimelinesApi,
        sessions::SessionsApi,
        account_sessions::AccountSessionsApi,
        chirps::ChirpsApi,
        stream::StreamApi,
        threads::ThreadsApi,
        likes::LikesApi,
        search::SearchApi,
        safety::SafetyApi,
        notifications::NotificationsApi,
        moderation::ReportsApi,
        webhooks::WebhooksApi,
        admin::AdminApi,
    );
    OpenApiService::new(apis, "Chirpy", env!("CARGO_PKG_VERSION")).description(
        "A microblogging API: sign up, log in with short-lived access tokens and long-lived \
         refresh tokens, post 140-character chirps, read and filter them, delete your own, and \
         get upgraded to Chirpy Red by the Polka payment webhook.\n\n\
         Every error has the body `{\"error\": \"<message>\"}`.",
    )
}
