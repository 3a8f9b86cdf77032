//! Any byte stream through the RDM6300 decoder: no panic, and every card is EM4100.
#![no_main]

use lawang::model::Technology;
use lawang::reader::frame::CardDecoder;
use lawang::reader::frame::rdm6300::Rdm6300Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Rdm6300Decoder::default();
    for &byte in data {
        if let Some(Ok(card)) = decoder.push(byte) {
            assert_eq!(card.technology(), Technology::Em4100);
            assert_eq!(card.uid().len(), 5);
        }
    }
});
