//! Integration tests: amirun against a local AWS emulator (moto's server on 127.0.0.1),
//! checking the emulator's state afterwards. Tests that use SDK-level mocks instead state it in their doc comment.

mod support;

mod audit;
mod check;
mod concurrency;
mod display;
mod eduglobal;
mod inputs;
mod lifecycle;
mod plan;
mod preflight;
mod proxy_selftest;
mod repl;
mod resume;
mod rollout_state;
mod sandbox;
mod secure_sharing;
mod sharing;
mod throttling;
mod waits;
