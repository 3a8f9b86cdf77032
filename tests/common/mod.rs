//! Shared harness: the real `lawang` binary on a free port with a temporary data directory.

pub mod daemon;
