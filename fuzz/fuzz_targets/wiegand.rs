//! Any byte stream through the Wiegand line decoder, under options chosen by the first
//! byte: no panic, and every card has the byte length of its frame size.
#![no_main]

use lawang::reader::frame::CardDecoder;
use lawang::reader::frame::wiegand::{
    WiegandBits, WiegandContent, WiegandDecoder, WiegandEncoding, WiegandOptions,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, input)) = data.split_first() else {
        return;
    };
    let bits = [WiegandBits::W26, WiegandBits::W34, WiegandBits::W37][usize::from(choice % 3)];
    let content = [
        WiegandContent::Frame,
        WiegandContent::Data,
        WiegandContent::FacilityCard,
    ][usize::from(choice / 3 % 3)];
    let encoding = [WiegandEncoding::Decimal, WiegandEncoding::Hex][usize::from(choice / 9 % 2)];
    let prefix = if choice >= 128 { "W:" } else { "" }.to_owned();
    let mut decoder = WiegandDecoder::new(WiegandOptions {
        bits,
        content,
        encoding,
        prefix,
    });
    for &byte in input {
        if let Some(Ok(card)) = decoder.push(byte) {
            assert_eq!(card.uid().len(), bits.data_bytes());
        }
    }
});
