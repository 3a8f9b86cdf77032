//! Reader models the driver recognises by name, and how each one shows a decision.
//!
//! This table is the code side of `firmware-config/readers/*.toml`; a unit test parses
//! those files and fails if the two disagree, so the documented profiles are the ones
//! the daemon runs. A reader that matches no profile (vpcd, an unknown model) is still
//! read; it just gets no LED or buzzer feedback.

use crate::reader::Feedback;

/// How feedback bytes reach the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackChannel {
    /// A reader-level pseudo-APDU (`FF 00 …`): sent with SCardTransmit while a card is
    /// present, otherwise as a CCID escape on a direct connection (ACS ACR122U).
    PseudoApdu,
    /// A CCID escape command, always on a direct connection (ACS ACR1252U).
    Escape,
}

/// Commands for each decision; each list is sent in order, best effort.
#[derive(Debug)]
pub struct FeedbackCommands {
    pub channel: FeedbackChannel,
    pub granted: &'static [&'static [u8]],
    pub refused: &'static [&'static [u8]],
}

impl FeedbackCommands {
    pub fn commands(&self, feedback: Feedback) -> &'static [&'static [u8]] {
        match feedback {
            Feedback::Granted => self.granted,
            Feedback::Refused => self.refused,
        }
    }
}

#[derive(Debug)]
pub struct ReaderProfile {
    /// Model name, as in the profile file's `model` key.
    pub model: &'static str,
    /// Substring of the PC/SC reader name that identifies the model.
    pub name_contains: &'static str,
    /// `None`: the reader drives its own LED (or has none); we send nothing.
    pub feedback: Option<FeedbackCommands>,
}

/// Known models. Order matters only if one `name_contains` were a substring of another's
/// reader name; "ACR122" does not occur in "ACR1252".
pub const PROFILES: &[ReaderProfile] = &[
    ReaderProfile {
        model: "ACS ACR122U",
        name_contains: "ACR122",
        feedback: Some(FeedbackCommands {
            channel: FeedbackChannel::PseudoApdu,
            // Green LED 200 ms with the buzzer on for the same time.
            granted: &[&[0xFF, 0x00, 0x40, 0xA0, 0x04, 0x02, 0x00, 0x01, 0x01]],
            // Red LED 1 s with the buzzer on for the same time.
            refused: &[&[0xFF, 0x00, 0x40, 0x50, 0x04, 0x0A, 0x00, 0x01, 0x01]],
        }),
    },
    ReaderProfile {
        model: "ACS ACR1252U",
        name_contains: "ACR1252",
        feedback: Some(FeedbackCommands {
            channel: FeedbackChannel::Escape,
            // Buzzer 100 ms (unit 10 ms).
            granted: &[&[0xE0, 0x00, 0x00, 0x28, 0x01, 0x0A]],
            // Buzzer 800 ms.
            refused: &[&[0xE0, 0x00, 0x00, 0x28, 0x01, 0x50]],
        }),
    },
    ReaderProfile {
        model: "HID OMNIKEY 5022",
        name_contains: "OMNIKEY 5022",
        feedback: None,
    },
    ReaderProfile {
        model: "HID OMNIKEY 5427",
        name_contains: "OMNIKEY 5427",
        feedback: None,
    },
];

/// The profile for a PC/SC reader name, if the model is known.
pub fn for_reader(reader_name: &str) -> Option<&'static ReaderProfile> {
    PROFILES
        .iter()
        .find(|p| reader_name.contains(p.name_contains))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::pcsc::apdu::GET_UID;

    /// The file format of `firmware-config/readers/*.toml` (documented in its README).
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ProfileFile {
        model: String,
        name_contains: String,
        #[serde(default)]
        quirks: Vec<String>,
        uid: UidFile,
        feedback: FeedbackFile,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct UidFile {
        apdu: String,
        technology: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct FeedbackFile {
        channel: String,
        #[serde(default)]
        granted: Vec<String>,
        #[serde(default)]
        refused: Vec<String>,
    }

    const FILES: &[(&str, &str)] = &[
        (
            "acs-acr122u.toml",
            include_str!("../../../firmware-config/readers/acs-acr122u.toml"),
        ),
        (
            "acs-acr1252u.toml",
            include_str!("../../../firmware-config/readers/acs-acr1252u.toml"),
        ),
        (
            "hid-omnikey-5022.toml",
            include_str!("../../../firmware-config/readers/hid-omnikey-5022.toml"),
        ),
        (
            "hid-omnikey-5427.toml",
            include_str!("../../../firmware-config/readers/hid-omnikey-5427.toml"),
        ),
    ];

    fn bytes(text: &str) -> Vec<u8> {
        let digits: String = text.split_whitespace().collect();
        hex::decode(digits).unwrap()
    }

    fn owned(commands: &[&[u8]]) -> Vec<Vec<u8>> {
        commands.iter().map(|c| c.to_vec()).collect()
    }

    #[test]
    fn profile_files_match_the_table() {
        assert_eq!(FILES.len(), PROFILES.len(), "one file per profile");
        for (file, text) in FILES {
            let parsed: ProfileFile =
                toml::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
            let profile = PROFILES
                .iter()
                .find(|p| p.model == parsed.model)
                .unwrap_or_else(|| panic!("{file}: model {:?} not in PROFILES", parsed.model));
            assert_eq!(parsed.name_contains, profile.name_contains, "{file}");
            assert_eq!(bytes(&parsed.uid.apdu), GET_UID, "{file}");
            assert_eq!(parsed.uid.technology, "iso14443", "{file}");
            assert!(
                !parsed.quirks.is_empty(),
                "{file}: say what is odd about it"
            );
            let granted: Vec<Vec<u8>> = parsed.feedback.granted.iter().map(|c| bytes(c)).collect();
            let refused: Vec<Vec<u8>> = parsed.feedback.refused.iter().map(|c| bytes(c)).collect();
            match (&profile.feedback, parsed.feedback.channel.as_str()) {
                (None, "none") => assert!(granted.is_empty() && refused.is_empty(), "{file}"),
                (Some(f), channel) => {
                    let expected = match f.channel {
                        FeedbackChannel::PseudoApdu => "pseudo-apdu",
                        FeedbackChannel::Escape => "escape",
                    };
                    assert_eq!(channel, expected, "{file}");
                    assert_eq!(granted, owned(f.granted), "{file}");
                    assert_eq!(refused, owned(f.refused), "{file}");
                }
                (None, other) => panic!("{file}: channel {other:?} but the table has none"),
            }
        }
    }

    #[test]
    fn real_reader_names_find_their_profile() {
        let model = |name| for_reader(name).map(|p| p.model);
        assert_eq!(
            model("ACS ACR122U PICC Interface 00 00"),
            Some("ACS ACR122U")
        );
        assert_eq!(
            model("ACS ACR1252 1S CL Reader [ACR1252 1S CL Reader PICC] 00 00"),
            Some("ACS ACR1252U")
        );
        assert_eq!(
            model(
                "HID Global OMNIKEY 5022 Smart Card Reader [OMNIKEY 5022 Smart Card Reader] 00 00"
            ),
            Some("HID OMNIKEY 5022")
        );
        assert_eq!(model("Virtual PCD 00 00"), None);
    }
}
