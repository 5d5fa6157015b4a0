use std::process::ExitCode;

use chirpy::{
    cli::{self, Command},
    config::{self, Config},
    telemetry,
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
    telemetry::init();
    let config = dotenv.and_then(|()| Config::from_env_for(&launch));
    let outcome = match config {
        Ok(config) => chirpy::run(config, launch).await,
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
