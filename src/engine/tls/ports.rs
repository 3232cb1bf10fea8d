//! TCP ports whose tshark 4.0.17 dissector (in `tshark -G decodes`) turns
//! down a TLS ClientHello, so that TCP goes on to the next port and then to
//! the heuristics, where TLS claims the conversation. Measured: one TLS 1.3
//! handshake (Python's OpenSSL client) to every port of the table that some
//! non-TLS dissector claims, and the ports where tshark showed a ClientHello.
//! IMAP (143) is one of them; SMTP (25), FTP (21), IRC (6667), HTTP and the
//! rest keep the bytes.

/// Inclusive ranges, sorted.
#[rustfmt::skip]
static REJECT_TLS: &[(u16, u16)] = &[
    (104, 104), (143, 143), (199, 199), (473, 473), (502, 502), (646, 646), (674, 674), (829, 829),
    (1521, 1521), (1755, 1755), (1978, 1979), (1998, 1998), (2000, 2001), (2065, 2065), (2190,
    2190), (2424, 2424), (2427, 2427), (2501, 2501), (2727, 2727), (2855, 2855), (3050, 3050),
    (3205, 3205), (3333, 3334), (3389, 3389), (3567, 3567), (4058, 4058), (4224, 4224), (4321,
    4321), (4369, 4369), (4661, 4663), (4737, 4737), (5066, 5066), (5190, 5190), (5555, 5555),
    (5721, 5721), (6075, 6075), (6666, 6666), (7890, 7890), (7900, 7900), (7930, 7930), (8004,
    8004), (8010, 8010), (9000, 9000), (9042, 9042), (9168, 9168), (9600, 9600), (9955, 9955),
    (9999, 10000), (11210, 11210), (13819, 13819), (20000, 20000), (20256, 20256), (22222, 22222),
    (30000, 30200),
];

/// Does the dissector owning `port` turn a TLS record down?
pub fn rejects_tls(port: u16) -> bool {
    let i = REJECT_TLS.partition_point(|&(_, hi)| hi < port);
    REJECT_TLS.get(i).is_some_and(|&(lo, _)| lo <= port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_found() {
        assert!(REJECT_TLS.windows(2).all(|w| w[0].1 < w[1].0));
        assert!(rejects_tls(143) && rejects_tls(3389) && rejects_tls(30100) && rejects_tls(9999));
        assert!(!rejects_tls(25) && !rejects_tls(6667) && !rejects_tls(80) && !rejects_tls(30201));
    }
}
