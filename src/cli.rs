//! The command line: `chirpy [serve] [--throwaway-db] [--ready-file PATH]` and `chirpy openapi`.
//! Harnesses in any language start Chirpy the same way: `chirpy serve --throwaway-db
//! --ready-file F` and wait for `F`, one JSON line with the server's address.

use std::path::PathBuf;

pub const USAGE: &str = "\
usage: chirpy [serve] [--throwaway-db] [--ready-file PATH]
       chirpy openapi

serve (the default) runs the server with the configuration in the environment and .env.
  --throwaway-db      ignore DATABASE_URL and serve from a fresh private PostgreSQL cluster,
                      deleted when the server exits (PLATFORM defaults to dev)
  --ready-file PATH   once serving, write one JSON line to PATH:
                      {\"url\": \"http://HOST:PORT\", \"database\": URL or null, \"pid\": PID}
openapi prints the OpenAPI spec (YAML) and exits.";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launch {
    /// Serve from a throwaway cluster rather than `DATABASE_URL` or the dev cluster.
    pub throwaway_db: bool,
    /// Where to say, once serving, where the server is.
    pub ready_file: Option<PathBuf>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve(Launch),
    Openapi,
    Help,
}

pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter().peekable();
    match args.peek().map(String::as_str) {
        Some("openapi") => {
            args.next();
            return match args.next() {
                None => Ok(Command::Openapi),
                Some(extra) => Err(format!("unexpected argument {extra:?}")),
            };
        }
        Some("serve") => {
            args.next();
        }
        _ => {}
    }
    let mut launch = Launch::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--throwaway-db" => launch.throwaway_db = true,
            "--ready-file" => {
                let path = args.next().ok_or("--ready-file needs a path")?;
                launch.ready_file = Some(path.into());
            }
            "-h" | "--help" | "help" => return Ok(Command::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Command::Serve(launch))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command, String> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn serve_is_the_default() {
        assert_eq!(parse_str(""), Ok(Command::Serve(Launch::default())));
        assert_eq!(parse_str("serve"), Ok(Command::Serve(Launch::default())));
        let launch = Launch {
            throwaway_db: true,
            ready_file: Some("/tmp/r.json".into()),
        };
        assert_eq!(
            parse_str("serve --throwaway-db --ready-file /tmp/r.json"),
            Ok(Command::Serve(launch.clone()))
        );
        assert_eq!(
            parse_str("--ready-file /tmp/r.json --throwaway-db"),
            Ok(Command::Serve(launch))
        );
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        assert_eq!(parse_str("openapi"), Ok(Command::Openapi));
        assert!(parse_str("openapi extra").is_err());
        assert!(parse_str("--ready-file").is_err());
        assert!(parse_str("--port 80").is_err());
        assert_eq!(parse_str("--help"), Ok(Command::Help));
    }
}
