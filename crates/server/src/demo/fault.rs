//! `sightline demo fault SERVICE FAULT...`: sets a fault on the running
//! demo through its control server (`PUT /faults/{service}`), checked here
//! first so a typo is named even when no demo runs.

use anyhow::{bail, Context};
use std::net::SocketAddr;
use std::str::FromStr;

/// Sets `fault` (words, joined: `errors 30%`) on `service`; prints the
/// control server's answer, the faults now in force.
pub fn run(control: SocketAddr, service: &str, fault: &[String]) -> anyhow::Result<()> {
    let text = fault.join(" ");
    if !sightline_demo::SERVICES.contains(&service) {
        bail!(
            "unknown service {service:?}: the demo's services are {}",
            sightline_demo::SERVICES.join(", ")
        );
    }
    sightline_demo::Fault::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{e} (faults: `errors 30%`, `slow 800ms`, `down`, `none`)"))?;
    sightline_config::tls::install_default_provider();
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .context("building the HTTP client")?;
    let url = format!("http://{control}/faults/{service}");
    let resp = match client.put(&url).body(text.clone()).send() {
        Ok(r) => r,
        Err(e) if e.is_connect() || e.is_timeout() => bail!(
            "no demo answers at {control}: start one with `sightline demo` (or pass --control ADDR, the control address it printed)"
        ),
        Err(e) => return Err(e).with_context(|| format!("PUT {url}")),
    };
    let status = resp.status();
    let body = resp.text().unwrap_or_default();
    if !status.is_success() {
        bail!(
            "the demo refused `{service} {text}` ({status}): {}",
            body.trim()
        );
    }
    println!("{service}: {text}");
    println!("{}", body.trim());
    Ok(())
}
