//! Notification templates: Go text/template (the `gotmpl` crate) with
//! Alertmanager's data (`.Receiver`, `.Status`, `.Alerts`, `.GroupLabels`,
//! `.CommonLabels`, `.CommonAnnotations`, `.ExternalURL`) and functions.
//!
//! - [`Templates`] holds our default templates (`default.tmpl`, defining the
//!   names Alertmanager's defaults define) plus the user's `templates:` files.
//! - [`Data`] is the data one notification renders; config fields such as
//!   `title: '{{ template "slack.default.title" . }}'` are themselves
//!   templates, run with [`Templates::execute_text`] or, for email bodies,
//!   [`Templates::execute_html`] (Go's html/template escaping).
//! - Go methods on the data (`.Alerts.Firing`, `.Labels.SortedPairs`,
//!   `.StartsAt.Format`) are rewritten into calls after parsing (`rewrite`),
//!   since gotmpl has no methods.

mod data;
mod funcs;
pub mod gotime;
mod rewrite;

use std::collections::BTreeMap;
use std::path::Path;

use gotmpl::parse::ListNode;
use gotmpl::{Template, Value};

pub use data::{quote_meta, AlertData, Data};

use crate::error::{Error, Result};

/// Our default templates, parsed before the user's files so that those can
/// redefine any name.
const DEFAULT_TEMPLATES: &str = include_str!("default.tmpl");

/// The name under which a config field's text is parsed and run.
const BODY: &str = "__sightline_body";
const HTML_ENTRY: &str = "__sightline_html_entry";

/// The default templates plus the user's `templates:` files.
#[derive(Clone)]
pub struct Templates {
    /// Every named template, already rewritten.
    defines: BTreeMap<String, ListNode>,
    /// The same set ready to run as text.
    text: Template,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("names", &self.defines.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for Templates {
    /// The default templates alone.
    fn default() -> Self {
        Templates::from_sources(&[]).unwrap_or_else(|_| Templates {
            defines: BTreeMap::new(),
            text: Template::new("").funcs(funcs::funcs()),
        })
    }
}

fn parse_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Template(format!("{what}: {e}"))
}

/// Parses `src` and returns its named trees, rewritten (the top level, if
/// any text is there, under `top`).
fn parse_trees(top: &str, src: &str) -> std::result::Result<Vec<(String, ListNode)>, String> {
    let t = Template::new(top)
        .funcs(funcs::funcs())
        .parse(src)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for name in t.templates() {
        if let Some(tree) = t.lookup(name) {
            let mut tree = tree.clone();
            rewrite::rewrite(&mut tree);
            out.push((name.to_owned(), tree));
        }
    }
    Ok(out)
}

impl Templates {
    /// Loads the default templates and every file matching `globs` (relative
    /// paths resolve against `base_dir`, the config file's directory). A glob
    /// that matches nothing is not an error, as in Alertmanager.
    pub fn load(globs: &[String], base_dir: &Path) -> crate::Result<Templates> {
        let mut sources = Vec::new();
        for g in globs {
            let pattern = if Path::new(g).is_absolute() {
                g.clone()
            } else {
                base_dir.join(g).to_string_lossy().into_owned()
            };
            let paths = glob::glob(&pattern)
                .map_err(|e| Error::Config(format!("templates: bad glob {g:?}: {e}")))?;
            for p in paths {
                let p = p.map_err(|e| Error::Config(format!("templates: {e}")))?;
                let text = std::fs::read_to_string(&p).map_err(|e| {
                    Error::Config(format!("templates: reading {}: {e}", p.display()))
                })?;
                sources.push((p.display().to_string(), text));
            }
        }
        let refs: Vec<(&str, &str)> = sources
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        Templates::from_sources(&refs)
    }

    /// The default templates followed by `(file name, text)` sources, later
    /// definitions replacing earlier ones.
    pub fn from_sources(sources: &[(&str, &str)]) -> crate::Result<Templates> {
        let mut defines = BTreeMap::new();
        let defaults =
            parse_trees("", DEFAULT_TEMPLATES).map_err(|e| parse_error("default templates", e))?;
        defines.extend(defaults);
        for (name, src) in sources {
            // Go names a file's top-level text after the file's base name.
            let base = Path::new(name)
                .file_name()
                .map(|b| b.to_string_lossy().into_owned())
                .unwrap_or_default();
            let trees = parse_trees(&base, src).map_err(|e| parse_error(name, e))?;
            for (n, t) in trees {
                // A file whose top level is only whitespace defines nothing by its name.
                if n == base && t.is_empty_tree() {
                    continue;
                }
                defines.insert(n, t);
            }
        }
        let mut text = Template::new("").funcs(funcs::funcs());
        for (n, t) in &defines {
            text = text.add_parse_tree(n, t.clone());
        }
        Ok(Templates { defines, text })
    }

    /// Names of all defined templates.
    pub fn names(&self) -> Vec<&str> {
        self.defines.keys().map(String::as_str).collect()
    }

    /// Runs `tmpl_text` (a config field) as a text template with `data`.
    pub fn execute_text(&self, tmpl_text: &str, data: &Data) -> Result<String> {
        self.execute_text_value(tmpl_text, &data.to_value())
    }

    /// [`Templates::execute_text`] with the data already converted by
    /// [`Data::to_value`], for notifiers that render many fields.
    pub fn execute_text_value(&self, tmpl_text: &str, data: &Value) -> Result<String> {
        if tmpl_text.is_empty() {
            return Ok(String::new());
        }
        if !tmpl_text.contains("{{") {
            return Ok(tmpl_text.to_owned());
        }
        let trees =
            parse_trees(BODY, tmpl_text).map_err(|e| Error::Template(e.replace(BODY, "")))?;
        let mut t = self.text.clone();
        let mut has_body = false;
        for (n, tree) in trees {
            has_body |= n == BODY;
            t = t.add_parse_tree(&n, tree);
        }
        if !has_body {
            return Ok(String::new());
        }
        t.execute_template_to_string(BODY, data)
            .map_err(|e| Error::Template(e.to_string()))
    }

    /// Runs `tmpl_text` as an HTML template (Go's html/template: values are
    /// escaped for where they appear, `safeHtml` output is not).
    pub fn execute_html(&self, tmpl_text: &str, data: &Data) -> Result<String> {
        if tmpl_text.is_empty() {
            return Ok(String::new());
        }
        let trees =
            parse_trees(BODY, tmpl_text).map_err(|e| Error::Template(e.replace(BODY, "")))?;
        let mut defines = self.defines.clone();
        let mut has_body = false;
        for (n, tree) in trees {
            has_body |= n == BODY;
            defines.insert(n, tree);
        }
        if !has_body {
            return Ok(String::new());
        }
        // The escaper starts from a root tree, which only `parse` sets: a
        // one-action root hands over to the rewritten body.
        let mut t = gotmpl::html::Template::new(HTML_ENTRY)
            .funcs(funcs::funcs())
            .parse(&format!("{{{{template \"{BODY}\" .}}}}"))
            .map_err(|e| Error::Template(e.to_string()))?;
        for (n, tree) in defines {
            t = t
                .add_parse_tree(&n, tree)
                .map_err(|e| Error::Template(e.to_string()))?;
        }
        t.execute_to_string(&data.to_value())
            .map_err(|e| Error::Template(e.to_string()))
    }
}

#[cfg(test)]
mod tests;
