//! `ork control`: the Control Center ([`control`]) on `--bind:--port`, polling `--urls`.

use std::net::SocketAddr;
use std::process::ExitCode;

use crate::cli::ControlArgs;

/// The library configuration of `args`.
pub fn config(args: &ControlArgs) -> control::Config {
    control::Config {
        addr: SocketAddr::new(args.bind, args.port),
        urls: args.urls.iter().map(|u| u.trim().to_owned()).collect(),
        refresh: args.refresh,
        timeout: args.timeout,
    }
}

/// Runs `ork control` until Ctrl-C or SIGTERM.
pub fn run(args: ControlArgs) -> anyhow::Result<ExitCode> {
    let config = config(&args);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async move {
            let cc = control::ControlCenter::bind(config.clone()).await?;
            eprintln!(
                "ork control: Control Center at http://{} (polling {} every {:?})",
                cc.local_addr(),
                config.urls.join(", "),
                config.refresh
            );
            cc.serve(async {
                if let Err(error) = runtime::supervisor::shutdown_signal().await {
                    tracing::error!(%error, "cannot wait for signals; stopping");
                }
            })
            .await;
            Ok(ExitCode::SUCCESS)
        })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> control::Config {
        let argv = ["ork", "control"].iter().chain(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Control(args) => super::config(&args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn defaults_are_orkestras_and_urls_split_on_commas() {
        let config = parse(&[]);
        assert_eq!(config.addr.to_string(), "127.0.0.1:8081");
        assert_eq!(config.urls, ["http://localhost:8080"]);
        assert_eq!(config.refresh, std::time::Duration::from_secs(10));
        let config = parse(&[
            "-p",
            "9000",
            "-u",
            "http://a:8080, http://b:8080",
            "--refresh",
            "2s",
        ]);
        assert_eq!(config.addr.port(), 9000);
        assert_eq!(config.urls, ["http://a:8080", "http://b:8080"]);
        assert_eq!(config.refresh, std::time::Duration::from_secs(2));
    }
}
