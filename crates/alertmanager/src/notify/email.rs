//! Email over SMTP (lettre): STARTTLS when `require_tls` (implicit TLS on
//! port 465), PLAIN or LOGIN authentication, headers and bodies from
//! templates, as Alertmanager 0.25 sends them.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use lettre::message::header::{HeaderName, HeaderValue, To};
use lettre::message::{Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{render, secret_or_file, Notifier, NotifyContext, NotifyError};
use crate::alert::Alert;
use crate::config::receiver::{
    canonical_header, split_host_port, EmailConfig, GlobalConfig, Secret,
};
use crate::template::Templates;

/// One `email_configs` entry with the `global:` SMTP settings filled in.
#[derive(Debug)]
pub struct Email {
    index: usize,
    config: EmailConfig,
    host: String,
    port: u16,
    hello: String,
    username: Option<String>,
    password: Option<Secret>,
    password_file: Option<String>,
    require_tls: bool,
    /// Canonical header name to template; To, From and Subject always present.
    headers: BTreeMap<String, String>,
    templates: Arc<Templates>,
}

impl Email {
    pub fn new(
        index: usize,
        config: &EmailConfig,
        global: &GlobalConfig,
        templates: Arc<Templates>,
    ) -> Result<Email, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let smarthost = config
            .smarthost
            .clone()
            .or_else(|| global.smtp_smarthost.clone())
            .ok_or("no global SMTP smarthost set")?;
        let (host, port) = split_host_port(&smarthost)?;
        let from = config
            .from
            .clone()
            .or_else(|| global.smtp_from.clone())
            .ok_or("no global SMTP from set")?;
        // Alertmanager takes the credentials from `global:` only when the
        // receiver sets none of its own.
        let (username, password, password_file) = if config.auth_username.is_some()
            || config.auth_password.is_some()
            || config.auth_password_file.is_some()
        {
            (
                config.auth_username.clone(),
                config.auth_password.clone(),
                config.auth_password_file.clone(),
            )
        } else {
            (
                global.smtp_auth_username.clone(),
                global.smtp_auth_password.clone(),
                global.smtp_auth_password_file.clone(),
            )
        };
        let mut headers: BTreeMap<String, String> = config
            .headers
            .iter()
            .map(|(k, v)| (canonical_header(k), v.clone()))
            .collect();
        headers
            .entry("To".into())
            .or_insert_with(|| config.to.clone());
        headers.entry("From".into()).or_insert_with(|| from.clone());
        headers
            .entry("Subject".into())
            .or_insert_with(|| r#"{{ template "email.default.subject" . }}"#.into());
        Ok(Email {
            index,
            config: config.clone(),
            host,
            port,
            hello: config
                .hello
                .clone()
                .unwrap_or_else(|| global.smtp_hello.clone()),
            username: username.filter(|u| !u.is_empty()),
            password,
            password_file,
            require_tls: config.require_tls.unwrap_or(global.smtp_require_tls),
            headers,
            templates,
        })
    }

    fn tls_parameters(&self) -> Result<TlsParameters, NotifyError> {
        let tls = &self.config.tls_config;
        let domain = tls.server_name.clone().unwrap_or_else(|| self.host.clone());
        let mut b =
            TlsParameters::builder(domain).dangerous_accept_invalid_certs(tls.insecure_skip_verify);
        if let Some(ca) = &tls.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| NotifyError::permanent(format!("reading ca_file {ca}: {e}")))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| NotifyError::permanent(format!("ca_file {ca}: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| NotifyError::permanent(format!("tls parameters: {e}")))
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, NotifyError> {
        let tls = if self.port == 465 {
            // SMTPS: TLS from the first byte.
            Tls::Wrapper(self.tls_parameters()?)
        } else if self.require_tls {
            Tls::Required(self.tls_parameters()?)
        } else {
            Tls::None
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.as_str())
            .port(self.port)
            .tls(tls)
            .hello_name(ClientId::Domain(self.hello.clone()))
            .timeout(Some(std::time::Duration::from_secs(60)));
        if let Some(user) = &self.username {
            let pw = secret_or_file(&self.password, &self.password_file)?.unwrap_or_default();
            b = b
                .credentials(Credentials::new(user.clone(), pw))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(b.build())
    }

    /// The message for `data`: headers rendered from templates, then the
    /// text and HTML bodies (both as multipart/alternative, text first).
    pub fn message(&self, data: &crate::template::Data) -> Result<Message, NotifyError> {
        let value = data.to_value();
        let t = |field: &str, text: &str| render(&self.templates, field, text, &value);
        let bad =
            |what: &str, e: &dyn std::fmt::Display| NotifyError::permanent(format!("{what}: {e}"));
        let mut builder = Message::builder();
        let mut raw = Vec::new();
        for (name, text) in &self.headers {
            let v = t(&format!("headers.{name}"), text)?;
            match name.as_str() {
                "To" => {
                    let to = Mailboxes::from_str(&v).map_err(|e| bad("parsing To", &e))?;
                    builder = builder.mailbox(To::from(to));
                }
                "From" => {
                    let from = Mailbox::from_str(&v).map_err(|e| bad("parsing From", &e))?;
                    builder = builder.from(from);
                }
                "Subject" => builder = builder.subject(v),
                _ => {
                    let hn = HeaderName::new_from_ascii(name.clone()).map_err(|e| bad(name, &e))?;
                    raw.push(HeaderValue::new(hn, v));
                }
            }
        }
        for h in raw {
            builder = builder.raw_header(h);
        }
        builder = builder.message_id(None);
        let text = if self.config.text.is_empty() {
            String::new()
        } else {
            t("text", &self.config.text)?
        };
        let html = if self.config.html.is_empty() {
            String::new()
        } else {
            self.templates
                .execute_html(&self.config.html, data)
                .map_err(|e| NotifyError::permanent(format!("rendering html: {e}")))?
        };
        // Alertmanager always sends multipart/alternative, with a part for
        // each body that is configured.
        let mut parts = MultiPart::alternative().build();
        if !self.config.text.is_empty() {
            parts = parts.singlepart(SinglePart::plain(text));
        }
        if !self.config.html.is_empty() {
            parts = parts.singlepart(SinglePart::html(html));
        }
        builder
            .multipart(parts)
            .map_err(|e| bad("building message", &e))
    }
}

#[async_trait]
impl Notifier for Email {
    fn kind(&self) -> &'static str {
        "email"
    }
    fn index(&self) -> usize {
        self.index
    }
    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    async fn notify(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let msg = self.message(&ctx.data(alerts))?;
        let transport = self.transport()?;
        transport.send(msg).await.map(|_| ()).map_err(|e| {
            // A permanent SMTP reply (5xx: unknown user, auth refused) will
            // not change; connection trouble and 4xx replies may.
            let msg = format!("sending mail via {}:{}: {e}", self.host, self.port);
            if e.is_permanent() {
                NotifyError::permanent(msg)
            } else {
                NotifyError::retryable(msg)
            }
        })
    }
}

#[cfg(test)]
#[path = "email_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "email_tls_tests.rs"]
mod tls_tests;
