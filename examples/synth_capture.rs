//! Write the synthetic capture the benchmarks use:
//! `cargo run --release --example synth_capture -- FLOWS OUT.pcap`
//! (about 9.25 packets per flow: 1,081,000 flows make 10M packets).

#[path = "../benches/common/synth.rs"]
mod synth;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(flows), Some(out)) = (args.next().and_then(|f| f.parse().ok()), args.next()) else {
        eprintln!("usage: synth_capture FLOWS OUT.pcap");
        std::process::exit(2);
    };
    let n = synth::write_capture(std::path::Path::new(&out), flows);
    println!("{n} packets in {flows} flows written to {out}");
}
