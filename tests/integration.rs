mod common;
mod pcsc;
