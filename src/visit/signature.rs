//! TTD: the visitor's signature on the form, typed with consent or an uploaded picture.

use base64::Engine;
use serde::Deserialize;

use super::{VisitError, invalid};

/// Largest signature picture, decoded. A signature scan is a few kilobytes; the bound keeps
/// the form row small and under the API's body limit once base64-encoded.
pub const MAX_IMAGE_BYTES: usize = 32 * 1024;

#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Signature {
    /// The visitor types their name and agrees that it stands for their signature.
    Typed { name: String, consent: bool },
    /// A picture of the signature: PNG or JPEG, base64 (standard alphabet, padded).
    Image { data_base64: String },
}

/// The picture bytes are not shown in logs.
impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signature::Typed { name, consent } => f
                .debug_struct("Typed")
                .field("name", name)
                .field("consent", consent)
                .finish(),
            Signature::Image { data_base64 } => {
                write!(f, "Image({} base64 characters)", data_base64.len())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureImage {
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

/// A signature that passed [`Signature::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Typed(String),
    Image(SignatureImage),
}

impl Signature {
    pub fn check(&self) -> Result<Checked, VisitError> {
        match self {
            Signature::Typed { name, consent } => {
                let name = name.trim();
                if name.is_empty() {
                    return Err(invalid("ttd.name", "type the visitor's name"));
                }
                if name.chars().count() > 200 || name.chars().any(char::is_control) {
                    return Err(invalid(
                        "ttd.name",
                        "at most 200 characters, no control characters",
                    ));
                }
                if !consent {
                    return Err(invalid(
                        "ttd.consent",
                        "the visitor must agree that the typed name stands for their signature (consent = true)",
                    ));
                }
                Ok(Checked::Typed(name.to_owned()))
            }
            Signature::Image { data_base64 } => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data_base64.trim())
                    .map_err(|_| invalid("ttd.data_base64", "not valid base64"))?;
                if bytes.len() > MAX_IMAGE_BYTES {
                    return Err(invalid(
                        "ttd.data_base64",
                        format!(
                            "the picture is {} bytes; at most {MAX_IMAGE_BYTES}",
                            bytes.len()
                        ),
                    ));
                }
                let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
                    "image/png"
                } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
                    "image/jpeg"
                } else {
                    return Err(invalid(
                        "ttd.data_base64",
                        "the picture must be PNG or JPEG",
                    ));
                };
                Ok(Checked::Image(SignatureImage { mime, bytes }))
            }
        }
    }
}
