//! The two check forms an OSDP packet may end with: CRC-16/AUG-CCITT (CTRL bit 2 set) or an
//! 8-bit two's-complement checksum. Both are pure functions so the decoder and the encoder
//! share one definition.

/// CRC-16/AUG-CCITT: polynomial 0x1021, initial value 0x1D0F, not reflected, no final XOR.
/// OSDP sends it least significant byte first.
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0x1D0F_u16, |crc, &byte| {
        let mut crc = crc ^ (u16::from(byte) << 8);
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// The byte that makes the sum of the packet, itself included, zero modulo 256.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |sum, &b| sum.wrapping_add(b))
        .wrapping_neg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_aug_ccitt_check_value() {
        // The catalogue check value of CRC-16/AUG-CCITT over "123456789".
        assert_eq!(crc16(b"123456789"), 0xE5CC);
    }

    #[test]
    fn crc_matches_a_libosdp_poll() {
        // POLL to address 1, SQN 0, CRC mode, as libosdp's PD accepted it.
        assert_eq!(crc16(&[0x53, 0x01, 0x08, 0x00, 0x04, 0x60]), 0x00BA);
    }

    #[test]
    fn checksum_zeroes_the_sum() {
        let bytes = [0x53, 0x01, 0x07, 0x00, 0x00, 0x60];
        let sum = bytes
            .iter()
            .fold(checksum(&bytes), |s, &b| s.wrapping_add(b));
        assert_eq!(sum, 0);
    }
}
