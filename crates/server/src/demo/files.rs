//! The provisioned files: real files under `crates/server/demo/`, embedded
//! in the binary, with the demo's ports and log folder written in when
//! they are not the defaults the files carry.

use anyhow::{bail, Context};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every file, by its path under the config folder. One list, so
/// `--print-config`, the demo and the tests write the same set.
pub const FILES: [(&str, &str); 6] = [
    ("sightline.yml", include_str!("../../demo/sightline.yml")),
    ("prometheus.yml", include_str!("../../demo/prometheus.yml")),
    (
        "alertmanager.yml",
        include_str!("../../demo/alertmanager.yml"),
    ),
    ("rules/shop.yml", include_str!("../../demo/rules/shop.yml")),
    ("slos/shop.yml", include_str!("../../demo/slos/shop.yml")),
    (
        "dashboards/shop.json",
        include_str!("../../demo/dashboards/shop.json"),
    ),
];

/// The log folder the files name (`__path__` of the tail targets).
pub const DEFAULT_LOG_DIR: &str = "/tmp/sightline-demo/logs";

/// Where everything listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub sightline: SocketAddr,
    pub control: SocketAddr,
    /// frontend, checkout, payments, db.
    pub services: [SocketAddr; 4],
}

impl Default for Ports {
    fn default() -> Self {
        let at = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        let [a, b, c, d] = sightline_demo::DEFAULT_SERVICE_PORTS;
        Ports {
            sightline: at(9090),
            control: super::DEFAULT_CONTROL,
            services: [at(a), at(b), at(c), at(d)],
        }
    }
}

impl Ports {
    /// Default address (as the files write it) → the one in force.
    fn mapping(&self) -> Vec<(String, String)> {
        let d = Ports::default();
        let mut m = vec![
            (d.sightline.to_string(), self.sightline.to_string()),
            (d.control.to_string(), self.control.to_string()),
        ];
        for (from, to) in d.services.iter().zip(&self.services) {
            m.push((from.to_string(), to.to_string()));
        }
        m
    }

    /// Replaces the default addresses in `text` in one pass, so an address
    /// written in cannot be replaced a second time (the control port might
    /// be given a service's default). Borrowed when nothing changes: the
    /// history's OpenMetrics text is some 20 MB.
    pub fn substitute<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let map = self.mapping();
        if map.iter().all(|(from, to)| from == to) {
            return Cow::Borrowed(text);
        }
        // Every default address is on 127.0.0.1 (see `Default`).
        const HOST: &str = "127.0.0.1:";
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find(HOST) {
            out.push_str(&rest[..i]);
            let at = &rest[i..];
            // A longer port (`127.0.0.1:91810`) is not ours.
            let hit = map.iter().find(|(from, _)| {
                at.strip_prefix(from.as_str())
                    .is_some_and(|after| !after.starts_with(|c: char| c.is_ascii_digit()))
            });
            match hit {
                Some((from, to)) => {
                    out.push_str(to);
                    rest = &at[from.len()..];
                }
                None => {
                    out.push_str(HOST);
                    rest = &at[HOST.len()..];
                }
            }
        }
        out.push_str(rest);
        Cow::Owned(out)
    }
}

/// The files with `ports` and `log_dir` written in.
pub fn render(ports: &Ports, log_dir: &Path) -> Vec<(&'static str, String)> {
    let log_dir = log_dir.display().to_string();
    FILES
        .iter()
        .map(|(name, text)| {
            let text = ports.substitute(text);
            (
                *name,
                text.replace(DEFAULT_LOG_DIR, log_dir.trim_end_matches('/')),
            )
        })
        .collect()
}

/// Writes `files` under `dir`. Refuses a folder holding anything unless
/// `force`: the files would be mixed with, or overwrite, someone's own.
pub fn write(dir: &Path, files: &[(&str, String)], force: bool) -> anyhow::Result<Vec<PathBuf>> {
    if !force {
        if let Ok(mut entries) = std::fs::read_dir(dir) {
            if entries.next().is_some() {
                bail!(
                    "{} is not empty; choose an empty or new folder, or pass --force to overwrite the demo's files in it",
                    dir.display()
                );
            }
        }
    }
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_leave_the_files_as_they_are() {
        for (name, text) in render(&Ports::default(), Path::new(DEFAULT_LOG_DIR)) {
            let original = FILES.iter().find(|(n, _)| *n == name).unwrap().1;
            assert_eq!(text, original, "{name}");
        }
    }

    #[test]
    fn other_ports_replace_each_default_once() {
        let at = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        // The control server on checkout's default: must not become
        // payments' port by a second replacement.
        let ports = Ports {
            sightline: at(40000),
            control: at(9182),
            services: [at(40001), at(40002), at(40003), at(40004)],
        };
        let out = ports
            .substitute("a 127.0.0.1:9180 b 127.0.0.1:9182 c 127.0.0.1:9090 d 127.0.0.1:91845");
        assert_eq!(
            out,
            "a 127.0.0.1:9182 b 127.0.0.1:40002 c 127.0.0.1:40000 d 127.0.0.1:91845"
        );
        let files = render(&ports, Path::new("/x/logs/"));
        let yml = &files.iter().find(|(n, _)| *n == "sightline.yml").unwrap().1;
        assert!(yml.contains("__path__: /x/logs/db.log"), "{yml}");
        assert!(yml.contains("http://127.0.0.1:40004/healthz"), "{yml}");
        assert!(!yml.contains("9184"), "{yml}");
    }

    #[test]
    fn write_refuses_a_folder_in_use() {
        let dir = std::env::temp_dir().join(format!("sl-demo-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("mine.txt"), "x").unwrap();
        let files = render(&Ports::default(), Path::new(DEFAULT_LOG_DIR));
        let e = write(&dir, &files, false).unwrap_err().to_string();
        assert!(e.contains("not empty") && e.contains("--force"), "{e}");
        assert!(!dir.join("sightline.yml").exists());
        let written = write(&dir, &files, true).unwrap();
        assert_eq!(written.len(), FILES.len());
        assert!(dir.join("rules/shop.yml").exists() && dir.join("mine.txt").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
