use std::process::ExitCode;

use chirpy::{
    cli::{self, Command},
    config::{self, Config},
    telemetry::{self, LogFormat},
};

#[tokio::main]
async fn main() -> ExitCode {
    chirpy::os::return_large_blocks_to_the_os();
    let launch = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Serve(launch)) => launch,
        // Prints the spec (what `just openapi` commits) and touches nothing else.
        Ok(Command::Openapi) => {
            print!("{}", chirpy::api::service().spec_yaml());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    // `.env` first, so a RUST_LOG there shapes logging too.
    let dotenv = config::load_dotenv();
    let format = LogFormat::from_env();
    telemetry::init(*format.as_ref().unwrap_or(&LogFormat::Text));
    let config: Result<Config, Box<dyn std::error::Error>> = dotenv
        .map_err(Into::into)
        .and_then(|()| format.map_err(Into::into))
        .and_then(|_| Config::from_env_for(&launch).map_err(Into::into));
    let outcome = match config {
        Ok(config) => chirpy::run(config, launch).await,
        Err(err) => Err(err),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            match chirpy::diagnosis::advice(err.as_ref()) {
                Some(advice) => tracing::error!("{err}\n{advice}"),
                None => tracing::error!("{err}"),
            }
            ExitCode::FAILURE
        }
    }
}
