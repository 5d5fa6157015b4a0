use std::process::ExitCode;

use chirpy::{
    config::{self, Config},
    telemetry,
};

#[tokio::main]
async fn main() -> ExitCode {
    chirpy::os::return_large_blocks_to_the_os();
    // `chirpy openapi` prints the spec (what `just openapi` commits) and touches nothing else.
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        print!("{}", chirpy::api::service().spec_yaml());
        return ExitCode::SUCCESS;
    }
    // `.env` first, so a RUST_LOG there shapes logging too.
    let dotenv = config::load_dotenv();
    telemetry::init();
    let outcome = match dotenv.and_then(|()| Config::from_env()) {
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
