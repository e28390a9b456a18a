//! Errors of the iBOT masking.

/// Invalid masking settings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MaskingError {
    /// A setting is outside its valid range.
    #[error("invalid masking setting `{name}` = {value}: {expected}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Its value, formatted.
        value: String,
        /// What would be valid.
        expected: &'static str,
    },
}
