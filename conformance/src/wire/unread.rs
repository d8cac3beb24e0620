//! How many of the bytes the harness wrote the server has not read yet, as the operating
//! system shows it (JUDGE-10).
//!
//! On Linux, `/proc/net/tcp` and `/proc/net/tcp6` list every TCP socket of the host with its
//! receive queue: the bytes that arrived and the program has not read. For a server on this
//! host, the server's end of a harness connection is the row whose local address is the
//! server's and whose remote address is the harness's. A server on another host, or a system
//! without those files, shows nothing, and the caller falls back to waiting a fixed time.

use std::fmt::Write as _;
use std::net::SocketAddr;

/// The bytes that the server at `peer` has not read from its end of the connection whose
/// harness end is `ours`, or `None` when that end cannot be seen.
pub fn unread_by_peer(ours: SocketAddr, peer: SocketAddr) -> Option<u32> {
    let in_table = |table: &str, ours: SocketAddr, peer: SocketAddr| {
        let text = std::fs::read_to_string(table).ok()?;
        receive_queue(&text, &address(peer), &address(ours))
    };
    match (ours, peer) {
        (SocketAddr::V4(o), SocketAddr::V4(p)) => {
            in_table("/proc/net/tcp", ours, peer).or_else(|| {
                // A server listening on `::` for both families holds IPv4 clients on IPv6
                // sockets, with IPv4-mapped addresses (`::ffff:127.0.0.1`).
                let mapped = |a: std::net::SocketAddrV4| {
                    SocketAddr::new(a.ip().to_ipv6_mapped().into(), a.port())
                };
                in_table("/proc/net/tcp6", mapped(o), mapped(p))
            })
        }
        _ => in_table("/proc/net/tcp6", ours, peer),
    }
}

/// An address as the tables spell it: the IP's 32-bit words in the machine's byte order,
/// then the port, in upper-case hexadecimal (`0100007F:1276` is 127.0.0.1:4726 on a
/// little-endian machine).
fn address(addr: SocketAddr) -> String {
    let words: Vec<[u8; 4]> = match addr {
        SocketAddr::V4(a) => vec![a.ip().octets()],
        SocketAddr::V6(a) => a
            .ip()
            .octets()
            .chunks_exact(4)
            .filter_map(|c| c.try_into().ok())
            .collect(),
    };
    let mut out = String::with_capacity(8 * words.len() + 5);
    for w in words {
        let _ = write!(out, "{:08X}", u32::from_ne_bytes(w));
    }
    let _ = write!(out, ":{:04X}", addr.port());
    out
}

/// The receive queue of the row with `local` and `remote` addresses in a `/proc/net/tcp`
/// table: its fifth column is `tx_queue:rx_queue` in hexadecimal.
fn receive_queue(table: &str, local: &str, remote: &str) -> Option<u32> {
    table.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace().skip(1);
        let (l, r) = (cols.next()?, cols.next()?);
        if l != local || r != remote {
            return None;
        }
        let queues = cols.nth(1)?;
        let (_, rx) = queues.split_once(':')?;
        u32::from_str_radix(rx, 16).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1276 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1276 0100007F:C350 01 00000000:00000002 00:00000000 00000000     0        0 1002 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:C350 0100007F:1276 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 20 4 30 10 -1
";

    #[test]
    fn the_servers_end_of_the_connection_is_found_by_both_addresses() {
        assert_eq!(
            receive_queue(TABLE, "0100007F:1276", "0100007F:C350"),
            Some(2)
        );
        assert_eq!(
            receive_queue(TABLE, "0100007F:C350", "0100007F:1276"),
            Some(0)
        );
        assert_eq!(receive_queue(TABLE, "0100007F:1276", "0100007F:C351"), None);
        assert_eq!(receive_queue("", "0100007F:1276", "0100007F:C350"), None);
    }

    #[test]
    fn addresses_are_spelled_as_the_tables_spell_them() {
        let v4: SocketAddr = "127.0.0.1:4726".parse().unwrap();
        let v6: SocketAddr = "[::1]:50000".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(address(v4), "0100007F:1276");
            assert_eq!(address(v6), "00000000000000000000000001000000:C350");
        } else {
            assert_eq!(address(v4), "7F000001:1276");
            assert_eq!(address(v6), "00000000000000000000000000000001:C350");
        }
    }

    /// The kernel's own table: bytes written to an accepted connection and not read show as
    /// its receive queue, and are gone from it once read. `listen` is where the server
    /// listens, `connect` the address the client connects to (`None`: the listener's own).
    async fn shows_unread_bytes(listen: &str, connect: Option<&str>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        let mut server = listener.local_addr().unwrap();
        if let Some(ip) = connect {
            server.set_ip(ip.parse().unwrap());
        }
        let mut client = tokio::net::TcpStream::connect(server).await.unwrap();
        let (mut accepted, _) = listener.accept().await.unwrap();
        let ours = client.local_addr().unwrap();
        if !cfg!(target_os = "linux") {
            assert_eq!(unread_by_peer(ours, server), None);
            return;
        }
        // The queue as the kernel shows it once the bytes have crossed loopback, asked for at
        // most 5 s.
        let settles_at = |want: u32| async move {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
            loop {
                let now = unread_by_peer(ours, server);
                if now == Some(want) || tokio::time::Instant::now() >= deadline {
                    return now;
                }
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        };
        assert_eq!(settles_at(0).await, Some(0), "{listen}");
        client.write_all(b"12").await.unwrap();
        assert_eq!(settles_at(2).await, Some(2), "{listen}");
        let mut two = [0u8; 2];
        accepted.read_exact(&mut two).await.unwrap();
        assert_eq!(settles_at(0).await, Some(0), "{listen}");
    }

    #[tokio::test]
    async fn a_real_ipv4_connection_shows_its_unread_bytes_on_linux() {
        shows_unread_bytes("127.0.0.1:0", None).await;
    }

    /// A server listening on `::` for both families, as Node.js and Java servers do by
    /// default, holds an IPv4 client on an IPv6 socket; and a server on `::1`. Skipped where
    /// the machine has no IPv6.
    #[tokio::test]
    async fn real_ipv6_and_dual_stack_connections_show_their_unread_bytes_on_linux() {
        if std::net::TcpListener::bind("[::1]:0").is_err() {
            eprintln!("SKIP: this machine has no IPv6 loopback");
            return;
        }
        shows_unread_bytes("[::1]:0", None).await;
        if std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").is_ok_and(|v| v.trim() == "1") {
            eprintln!("SKIP: sockets on `::` take IPv6 only here (net.ipv6.bindv6only = 1)");
            return;
        }
        shows_unread_bytes("[::]:0", Some("127.0.0.1")).await;
    }
}
