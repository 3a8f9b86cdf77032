//! Any byte stream through the hex line decoder: no panic, UIDs within the credential limit.
#![no_main]

use lawang::model::{Credential, Technology};
use lawang::reader::frame::CardDecoder;
use lawang::reader::frame::line::LineDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = LineDecoder::new(Technology::Iso14443);
    for &byte in data {
        if let Some(Ok(card)) = decoder.push(byte) {
            assert!((1..=Credential::MAX_LEN).contains(&card.uid().len()));
        }
    }
});
