//! The OSDP secure channel (SIA OSDP 2.2 Annex D), CP side, as pure computations.
//!
//! From the Secure Channel Base Key and the CP's random RND.A both sides derive S-ENC,
//! S-MAC1 and S-MAC2 (AES-128-ECB of `01 82|01|02 RND.A[0..6] 00…`). The PD proves the key
//! with the client cryptogram E(S-ENC, RND.A‖RND.B), the CP answers with the server
//! cryptogram E(S-ENC, RND.B‖RND.A), and the PD confirms with the initial R-MAC
//! E(S-MAC2, E(S-MAC1, server cryptogram)). From then on every message carries a MAC chained
//! on the previous one in the other direction, and DATA is AES-128-CBC encrypted under
//! S-ENC with the complement of that MAC as IV, padded `80 00…` to whole blocks. The byte
//! layout follows libosdp, which this is tested against.

use aes::Aes128;
use aes::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

/// The default key SCBK-D (`30 31 … 3F`), only for installing a reader.
pub const SCBK_D: [u8; 16] = [
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
];

/// A Secure Channel Base Key. Debug never shows it: it must not reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Scbk(pub [u8; 16]);

impl std::fmt::Debug for Scbk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scbk(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScbkError {
    #[error("the key file must hold 32 hex digits (16 bytes)")]
    Format,
}

impl Scbk {
    /// Reads a key file's text: 32 hex digits, surrounding whitespace ignored. The error
    /// never echoes the text.
    pub fn parse(text: &str) -> Result<Scbk, ScbkError> {
        let bytes = hex::decode(text.trim()).map_err(|_| ScbkError::Format)?;
        let key: [u8; 16] = bytes.try_into().map_err(|_| ScbkError::Format)?;
        Ok(Scbk(key))
    }
}

fn encrypt_block(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
    let cipher = Aes128::new(&Array(*key));
    let mut b = Array(*block);
    cipher.encrypt_block(&mut b);
    b.0
}

fn xor(a: &[u8; 16], b: &[u8]) -> [u8; 16] {
    let mut out = *a;
    for (o, x) in out.iter_mut().zip(b) {
        *o ^= x;
    }
    out
}

/// Session keys derived from the SCBK and RND.A.
#[derive(Clone)]
pub struct SessionKeys {
    enc: [u8; 16],
    mac1: [u8; 16],
    mac2: [u8; 16],
}

impl SessionKeys {
    pub fn derive(scbk: &Scbk, rnd_a: &[u8; 8]) -> SessionKeys {
        let key = |second: u8| {
            let mut block = [0u8; 16];
            block[0] = 0x01;
            block[1] = second;
            block[2..8].copy_from_slice(&rnd_a[..6]);
            encrypt_block(&scbk.0, &block)
        };
        SessionKeys {
            enc: key(0x82),
            mac1: key(0x01),
            mac2: key(0x02),
        }
    }

    fn cryptogram(&self, first: &[u8; 8], second: &[u8; 8]) -> [u8; 16] {
        let mut block = [0u8; 16];
        block[..8].copy_from_slice(first);
        block[8..].copy_from_slice(second);
        encrypt_block(&self.enc, &block)
    }

    /// What the PD must send in CCRYPT.
    pub fn client_cryptogram(&self, rnd_a: &[u8; 8], rnd_b: &[u8; 8]) -> [u8; 16] {
        self.cryptogram(rnd_a, rnd_b)
    }

    /// What the CP sends in SCRYPT.
    pub fn server_cryptogram(&self, rnd_a: &[u8; 8], rnd_b: &[u8; 8]) -> [u8; 16] {
        self.cryptogram(rnd_b, rnd_a)
    }

    /// What the PD must send in RMAC_I.
    pub fn initial_rmac(&self, server_cryptogram: &[u8; 16]) -> [u8; 16] {
        encrypt_block(&self.mac2, &encrypt_block(&self.mac1, server_cryptogram))
    }
}

/// An established session: the keys and the last MAC in each direction.
pub struct Session {
    keys: SessionKeys,
    /// MAC of the last command sent; IV for the reply's MAC and data.
    c_mac: [u8; 16],
    /// MAC of the last reply received (RMAC_I at first); IV for the next command.
    r_mac: [u8; 16],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecureError {
    #[error("reply MAC does not match")]
    BadMac,
    #[error("encrypted data is not whole blocks or lacks its padding")]
    BadPadding,
}

impl Session {
    pub fn new(keys: SessionKeys, rmac_i: [u8; 16]) -> Session {
        Session {
            keys,
            c_mac: [0; 16],
            r_mac: rmac_i,
        }
    }

    /// OSDP's CBC-MAC: the message padded `80 00…` to whole blocks (no padding when it is
    /// whole already), CBC under S-MAC1 for all blocks but the last, which is encrypted under
    /// S-MAC2.
    fn mac(&self, iv: &[u8; 16], message: &[u8]) -> [u8; 16] {
        let mut padded = message.to_vec();
        if !padded.len().is_multiple_of(16) || padded.is_empty() {
            padded.push(0x80);
            padded.resize(padded.len().next_multiple_of(16), 0);
        }
        let blocks = padded.len() / 16;
        let mut chain = *iv;
        for (i, block) in padded.chunks_exact(16).enumerate() {
            let key = if i + 1 == blocks {
                &self.keys.mac2
            } else {
                &self.keys.mac1
            };
            chain = encrypt_block(key, &xor(&chain, block));
        }
        chain
    }

    /// MAC for a command about to be sent (SOM..end of DATA); becomes the chain value.
    pub fn command_mac(&mut self, message: &[u8]) -> [u8; 4] {
        self.c_mac = self.mac(&self.r_mac, message);
        let mut tag = [0u8; 4];
        tag.copy_from_slice(&self.c_mac[..4]);
        tag
    }

    /// Checks a reply's MAC and, when it holds, chains on it.
    pub fn verify_reply(&mut self, message: &[u8], tag: &[u8; 4]) -> Result<(), SecureError> {
        let mac = self.mac(&self.c_mac, message);
        if mac[..4] != tag[..] {
            return Err(SecureError::BadMac);
        }
        self.r_mac = mac;
        Ok(())
    }

    /// Encrypts a command's DATA (before its MAC is computed).
    pub fn encrypt_command(&self, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        out.push(0x80);
        out.resize(out.len().next_multiple_of(16), 0);
        let mut chain = self.r_mac.map(|b| !b);
        for block in out.chunks_exact_mut(16) {
            chain = encrypt_block(&self.keys.enc, &xor(&chain, block));
            block.copy_from_slice(&chain);
        }
        out
    }

    /// Decrypts a reply's DATA (after its MAC was verified).
    pub fn decrypt_reply(&self, data: &[u8]) -> Result<Vec<u8>, SecureError> {
        if data.is_empty() || !data.len().is_multiple_of(16) {
            return Err(SecureError::BadPadding);
        }
        let cipher = Aes128::new(&Array(self.keys.enc));
        let mut chain = self.c_mac.map(|b| !b);
        let mut out = Vec::with_capacity(data.len());
        for block in data.chunks_exact(16) {
            let mut b = [0u8; 16];
            b.copy_from_slice(block);
            let mut plain = Array(b);
            cipher.decrypt_block(&mut plain);
            out.extend_from_slice(&xor(&plain.0, &chain));
            chain = b;
        }
        let end = out
            .iter()
            .rposition(|&b| b != 0)
            .filter(|&i| out[i] == 0x80)
            .ok_or(SecureError::BadPadding)?;
        out.truncate(end);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scbk_parses_hex_and_hides_itself() {
        let key = Scbk::parse(" 303132333435363738393a3b3c3d3e3f\n").unwrap();
        assert_eq!(key.0, SCBK_D);
        assert_eq!(format!("{key:?}"), "Scbk(<redacted>)");
        assert_eq!(Scbk::parse("3031"), Err(ScbkError::Format));
        assert_eq!(Scbk::parse("zz"), Err(ScbkError::Format));
    }

    #[test]
    fn encryption_round_trips_through_a_mirrored_session() {
        let keys = SessionKeys::derive(&Scbk(SCBK_D), &[1, 2, 3, 4, 5, 6, 7, 8]);
        let cp = Session::new(keys.clone(), [7; 16]);
        // The PD's view: its last command MAC is the CP's r_mac chain for this exchange.
        let mut pd = Session::new(keys, [0; 16]);
        pd.c_mac = cp.r_mac;
        for len in [0, 1, 15, 16, 17, 40] {
            let data: Vec<u8> = (0..len as u8).collect();
            let sealed = cp.encrypt_command(&data);
            assert!(sealed.len().is_multiple_of(16) && sealed.len() > data.len());
            assert_eq!(pd.decrypt_reply(&sealed).unwrap(), data);
        }
    }

    #[test]
    fn mac_chains_and_rejects_changes() {
        let keys = SessionKeys::derive(&Scbk([9; 16]), &[8; 8]);
        let mut cp = Session::new(keys.clone(), [3; 16]);
        let tag = cp.command_mac(b"command bytes");
        // A PD with the same state would compute the reply MAC from c_mac.
        let pd = Session {
            keys,
            c_mac: cp.c_mac,
            r_mac: [0; 16],
        };
        let reply_mac = pd.mac(&pd.c_mac, b"reply bytes");
        let mut tag4 = [0u8; 4];
        tag4.copy_from_slice(&reply_mac[..4]);
        assert_eq!(
            cp.verify_reply(b"reply bytez", &tag4),
            Err(SecureError::BadMac)
        );
        assert_eq!(cp.verify_reply(b"reply bytes", &tag4), Ok(()));
        assert_ne!(cp.command_mac(b"command bytes"), tag);
    }
}
