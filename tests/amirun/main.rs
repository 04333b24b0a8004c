//! Integration tests: amirun against a local AWS emulator (moto's server on 127.0.0.1),
//! checking the emulator's state afterwards. Tests that use SDK-level mocks instead say so.

mod support;

mod check;
mod display;
mod eduglobal;
mod inputs;
mod proxy_selftest;
mod sandbox;
