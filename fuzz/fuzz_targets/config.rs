//! Any text as a configuration file: a clear error or a valid configuration, never a panic;
//! in a configuration that parses, every door reader serves a declared door.
#![no_main]

use lawang::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(text, "fuzz.toml") {
        Ok((config, _)) => {
            for reader in &config.readers {
                assert!(config.doors.iter().any(|d| d.name == reader.door));
            }
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
        }
    }
});
