//! hs-tui: a Wireshark-like terminal analyzer for TCP handshakes.
//!
//! The pipeline, one module per stage: `capture` (libpcap, capture thread)
//! -> `decode` (frames to headers) -> `track` (streams, handshakes, TCP
//! analysis) -> `output` (batch printers and reports) | `tui` (the
//! interactive view), with `fields` as the one registry every consumer reads
//! values through.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod capture;
pub mod cli;
pub mod decode;
pub mod diff;
pub mod engine;
pub mod fields;
pub mod filter;
pub mod follow;
pub mod many;
pub mod output;
pub mod pipeline;
mod prefetch;
pub mod track;
pub mod tui;
pub mod zeek;
