//! Any byte stream through the OSDP packet decoder and reply parser: no panic, and every
//! packet re-encodes to bytes that decode to the same packet.
#![no_main]

use lawang::reader::osdp::message::{card_credential, parse_reply, Reply};
use lawang::reader::osdp::packet::{encode, Decoder, OutPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::default();
    for chunk in data.chunks(13) {
        decoder.push(chunk);
        while let Some(next) = decoder.next_packet() {
            let Ok(packet) = next else { continue };
            if let Ok(Reply::Raw(card)) = parse_reply(packet.code, &packet.data) {
                let _ = card_credential(&card);
            }
            let scb = packet.scb.as_ref().map(|s| (s.kind, s.data.as_slice()));
            let out = OutPacket {
                address: packet.address,
                reply: packet.reply,
                sqn: packet.sqn,
                crc: packet.crc,
                scb,
                code: packet.code,
                data: &packet.data,
            };
            let mac = packet.mac.unwrap_or_default();
            let bytes = encode(&out, Some(&mut |_: &[u8]| mac)).expect("a decoded packet encodes");
            let mut again = Decoder::default();
            again.push(&bytes);
            assert_eq!(again.next_packet(), Some(Ok(packet)));
        }
    }
});
