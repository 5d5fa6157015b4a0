//! The HTTP API: one `#[OpenApi]` struct per tag, combined in [`service`].

mod admin;
mod chirps;
mod conditional;
mod json;
mod schemes;
mod sessions;
mod stream;
mod text;
mod timestamp;
mod users;
mod webhooks;

use poem_openapi::{OpenApiService, Tags};

pub use conditional::client_has;
pub use json::{JsonArray, JsonObject};
pub use schemes::{AccessToken, PolkaKey, REFUSED_ACCESS_TOKEN, RefreshBearer};
pub use stream::render as render_event;
pub use text::{ChirpText, EmailText, PasswordText, Text};
pub use timestamp::Timestamp;

#[derive(Tags)]
#[oai(rename_all = "lowercase")]
enum ApiTags {
    /// Sign up and account settings.
    Users,
    /// Logging in, and the access and refresh tokens that follow.
    Auth,
    /// Posting, reading and deleting chirps.
    Chirps,
    /// Calls from Polka, the payment provider.
    Webhooks,
    /// Health, metrics and the dev-only reset.
    Admin,
}

pub type Apis = (
    users::UsersApi,
    sessions::SessionsApi,
    chirps::ChirpsApi,
    stream::StreamApi,
    webhooks::WebhooksApi,
    admin::AdminApi,
);

/// The whole API; also the source of `/openapi.json` and `openapi/openapi.yaml`.
pub fn service() -> OpenApiService<Apis, ()> {
    let apis = (
        users::UsersApi,
        sessions::SessionsApi,
        chirps::ChirpsApi,
        stream::StreamApi,
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
