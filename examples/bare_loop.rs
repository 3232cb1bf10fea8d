//! The benchmark's baseline: read a capture with the pcap crate's
//! `next_packet` and nothing else. Prints the packet count.

fn main() {
    let path = std::env::args().nth(1).expect("usage: bare_loop FILE");
    let mut cap = pcap::Capture::from_file(&path).expect("open capture");
    let mut n: u64 = 0;
    let mut bytes: u64 = 0;
    while let Ok(p) = cap.next_packet() {
        n += 1;
        bytes += p.header.caplen as u64;
    }
    println!("{n} packets {bytes} bytes");
}
