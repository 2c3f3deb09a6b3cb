//! `ork gateway`: load and validate a Katalog, then serve its webhooks until SIGTERM/SIGINT,
//! and leave no trace.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::GatewayArgs;

fn duration(flag: &str, text: &str) -> anyhow::Result<Duration> {
    katalog::condition::parse_duration(text)
        .and_then(|d| Duration::try_from(d).ok())
        .with_context(|| format!("--{flag} {text:?} is not a duration (e.g. 90s, 10m, 720h)"))
}

/// The library configuration the flags ask for.
fn config(args: &GatewayArgs) -> anyhow::Result<gateway::Config> {
    let mode = match &args.service {
        Some(name) => gateway::ClientMode::Service {
            namespace: args.namespace.clone().unwrap_or_default(),
            name: name.clone(),
            port: args.service_port,
        },
        None => gateway::ClientMode::Url {
            host: args.url_host.clone(),
        },
    };
    let mut c = gateway::Config::new()
        .https_addr(SocketAddr::new(args.bind, args.port))
        .http_addr(SocketAddr::new(args.bind, args.http_port))
        .client_mode(mode)
        .keep_on_exit(args.keep_on_exit)
        .reassert_every(duration("reassert-every", &args.reassert_every)?)
        .notify(gateway::NotifyConfig {
            smtp: args.smtp.clone(),
            from: args.mail_from.clone(),
            slack_url: args.slack_url.clone(),
            throttle: duration("notify-throttle", &args.notify_throttle)?,
            token: args
                .notify_token
                .as_deref()
                .map(|t| {
                    gateway::notify_access::Token::new(t)
                        .context("--notify-token (ORK_NOTIFY_TOKEN) is empty")
                })
                .transpose()?,
        });
    if let Some(ns) = &args.namespace {
        c = c.namespace(ns);
    }
    if let Some(i) = &args.instance {
        c = c.instance(i);
    }
    c.cert_validity = args
        .cert_validity
        .as_deref()
        .map(|t| duration("cert-validity", t))
        .transpose()?;
    c.rotate_before = args
        .rotate_before
        .as_deref()
        .map(|t| duration("rotate-before", t))
        .transpose()?;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        c.user_tls = Some(gateway::UserTls {
            cert: cert.clone(),
            key: key.clone(),
            ca: args.tls_ca.clone(),
        });
    }
    Ok(c)
}

/// Runs `ork gateway`: exit 0 after a clean stop, 1 for an invalid Katalog.
pub fn run(mut args: GatewayArgs) -> anyhow::Result<ExitCode> {
    let path = super::run::katalog_path(args.target.katalog.take().or(args.target.file.take()))?;
    let Some(loaded) = super::run::load(&path) else {
        return Ok(ExitCode::from(1));
    };
    let config = config(&args)?;
    let connect = runtime::cluster::ConnectOptions {
        kubeconfig: args.target.kubeconfig.clone(),
        context: args.target.context.clone(),
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
        let client = runtime::cluster::config(&connect)
            .await
            .map_err(anyhow::Error::from)
            .and_then(|c| kube::Client::try_from(c).map_err(anyhow::Error::from))
            .context("connecting to the cluster (--kubeconfig, KUBECONFIG, ~/.kube/config or in-cluster)")?;
        let gw = gateway::Gateway::start(loaded.katalog, client, config)
            .await
            .context("starting the gateway")?;
        println!(
            "gateway ready https={} http={}",
            gw.https_addr(),
            gw.http_addr()
        );
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        eprintln!("ork gateway: stopping; removing what it registered");
        gw.stop().await.context("cleaning up")?;
        eprintln!("ork gateway: stopped");
        Ok(ExitCode::SUCCESS)
    })
}
