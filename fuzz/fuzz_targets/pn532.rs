//! Any byte stream through the PN532 frame decoder, cut in two at a point chosen by the
//! first byte, and every information frame through the InListPassiveTarget reader.
#![no_main]

use lawang::reader::frame::pn532::{Pn532Decoder, Pn532Frame, parse_in_list_passive_target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, input)) = data.split_first() else {
        return;
    };
    let (first, second) = input.split_at(usize::from(cut).min(input.len()));
    let mut decoder = Pn532Decoder::default();
    for chunk in [first, second] {
        for frame in decoder.feed(chunk) {
            if let Ok(Pn532Frame::Information(frame)) = frame
                && let Ok(Some(card)) = parse_in_list_passive_target(frame.data())
            {
                assert!(matches!(card.uid().len(), 4 | 7 | 10));
            }
        }
    }
    let _ = parse_in_list_passive_target(input);
});
