//! Polka, the payment provider, tells us who paid for Chirpy Red.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, payload::Json, types::Example};
use uuid::Uuid;

use super::{ApiTags, PolkaKey, Text};
use crate::{
    error::{ApiError, api_errors},
    state::AppState,
};

const USER_UPGRADED: &str = "user.upgraded";

#[derive(Object)]
#[oai(example)]
struct PolkaEvent {
    /// `user.upgraded` makes the user Chirpy Red; other events are acknowledged and ignored.
    event: Text,
    data: PolkaEventData,
}

#[derive(Object)]
struct PolkaEventData {
    user_id: Uuid,
}

impl Example for PolkaEvent {
    fn example() -> Self {
        let user_id = Uuid::from_u128(0x3311741c_680c_4546_99f3_fc9efac2036c);
        Self {
            event: Text::example(USER_UPGRADED),
            data: PolkaEventData { user_id },
        }
    }
}

#[derive(ApiResponse)]
enum Acknowledged {
    /// Handled (or ignored, for events other than `user.upgraded`).
    #[oai(status = 204)]
    NoContent,
}

api_errors! {
    enum WebhookError {
        /// A malformed body or `user_id`.
        BadRequest = 400,
        /// Missing or wrong API key.
        Unauthorized = 401,
        /// `user.upgraded` for a user that does not exist.
        NotFound = 404,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

pub struct WebhooksApi;

operations! {
    "ApiTags::Webhooks",
    impl WebhooksApi {
        /// Receive a Polka event
        ///
        /// Called by Polka with `Authorization: ApiKey <key>`. Repeating an event is harmless.
        #[oai(path = "/api/polka/webhooks", method = "post", operation_id = "polkaWebhook")]
        async fn receive(
            &self,
            state: Data<&AppState>,
            _key: PolkaKey,
            body: Json<PolkaEvent>,
        ) -> Result<Acknowledged, WebhookError> {
            if body.event.0 != USER_UPGRADED {
                return Ok(Acknowledged::NoContent);
            }
            if !state.store.upgrade_to_red(body.data.user_id).await? {
                return Err(ApiError::NotFound("User not found").into());
            }
            tracing::info!(user_id = %body.data.user_id, "user upgraded to Chirpy Red");
            Ok(Acknowledged::NoContent)
        }
    }
}
