use std::process::ExitCode;

use chirpy::{config::Config, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    // `chirpy openapi` prints the spec (what `just openapi` commits) and touches nothing else.
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        print!("{}", chirpy::api::service().spec_yaml());
        return ExitCode::SUCCESS;
    }
    telemetry::init();
    let outcome = match Config::from_env() {
        Ok(config) => chirpy::run(config).await,
        Err(err) => Err(err.into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}
