//! The crate's error type.

/// A config refused: the message is complete, worded for the user (and, where
/// a peer reads the same file, as the peer words it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The YAML could not be read into the expected shape:
    /// `file:line:column: field.path: reason`.
    #[error("{0}")]
    Yaml(String),
    /// A setting that parsed but breaks a rule (`at most one of ...`).
    #[error("{message}")]
    Invalid {
        /// The key concerned, as a path below the checked block
        /// (`tls_config.ca`); empty when the rule concerns the whole block.
        field: String,
        /// What is wrong, without the position.
        message: String,
    },
}

impl Error {
    /// The message, without any prefix.
    pub fn message(&self) -> &str {
        match self {
            Error::Yaml(m) | Error::Invalid { message: m, .. } => m,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
