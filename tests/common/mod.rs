pub mod pcscd;
pub mod vpcd;
