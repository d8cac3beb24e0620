//! What the operating system shows of the server's sockets: how many of the bytes the harness
//! wrote the server has not read yet (JUDGE-10, JUDGE-12), and whether anything listens on a
//! port (a started server is ready).
//!
//! On Linux the kernel answers both over a `NETLINK_SOCK_DIAG` socket (what `ss` uses). For
//! one TCP socket named by its addresses, the answer's receive queue is the bytes that arrived
//! and the program has not read: for a server on this host, the server's end of a harness
//! connection is the socket whose local address is the server's and whose remote address is
//! the harness's. For listening sockets, the kernel walks its table of listeners only, and
//! answers with those on the port. Either way the answer does not grow with the host's other
//! sockets, where reading `/proc/net/tcp` takes milliseconds on a host with thousands (a
//! grading run leaves thousands in TIME_WAIT). A server on another host or in another network
//! namespace, or a system without sock_diag, shows nothing, and the caller falls back.

use std::net::{IpAddr, SocketAddr};

/// `SOCK_DIAG_BY_FAMILY`, the request and answer type of `linux/sock_diag.h`.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `NLM_F_REQUEST`, and `NLM_F_DUMP` (every match, not one socket).
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
/// `NLMSG_DONE`, the end of a dump's answer.
const NLMSG_DONE: u16 = 3;
/// `TCP_LISTEN` in the kernel's numbering of TCP states.
const TCP_LISTEN: u32 = 10;
/// `IPPROTO_TCP`.
const IPPROTO_TCP: u8 = 6;
/// `AF_INET` and `AF_INET6` as Linux numbers them.
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
/// The length of `struct nlmsghdr`.
const HEADER: usize = 16;
/// Where `idiag_rqueue` sits in an answer: after the header, four bytes of family, state,
/// timer and retransmits, the 48-byte socket id and `idiag_expires`.
const RQUEUE_AT: usize = HEADER + 4 + 48 + 4;

/// The bytes that the server at `peer` has not read from its end of the connection whose
/// harness end is `ours`, or `None` when that end cannot be seen.
pub fn unread_by_peer(ours: SocketAddr, peer: SocketAddr) -> Option<u32> {
    // One request finds a server listening on `::` for both families too: its IPv4 clients'
    // sockets are found by their IPv4 addresses.
    let mut answer = [0u8; 512];
    let n = ask(&request(peer, ours), &mut answer)?;
    receive_queue(answer.get(..n)?)
}

/// Whether a TCP socket of this host's network namespace listens on `port`, at any address of
/// either family, or `None` when the kernel cannot be asked.
pub fn listening_on(port: u16) -> Option<bool> {
    for family in [AF_INET, AF_INET6] {
        let mut answer = [0u8; 4096];
        let n = ask(&listeners_request(family, port), &mut answer)?;
        if holds_a_socket(answer.get(..n)?)? {
            return Some(true);
        }
    }
    Some(false)
}

/// Sends `request` to the kernel on a socket of its own and reads the first part of the
/// answer into `answer`, giving its length. The kernel answers a request for one socket, and
/// the first part of a dump, before `sendto` returns, so the read does not wait.
#[cfg(target_os = "linux")]
fn ask(request: &[u8], answer: &mut [u8]) -> Option<usize> {
    use nix::sys::socket::{
        AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto,
        socket,
    };
    use std::os::fd::AsRawFd;
    let sock = socket(
        AddressFamily::Netlink,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        SockProtocol::NetlinkSockDiag,
    )
    .ok()?;
    let kernel = NetlinkAddr::new(0, 0);
    sendto(sock.as_raw_fd(), request, &kernel, MsgFlags::empty()).ok()?;
    recv(sock.as_raw_fd(), answer, MsgFlags::empty()).ok()
}

#[cfg(not(target_os = "linux"))]
fn ask(_: &[u8], _: &mut [u8]) -> Option<usize> {
    None
}

/// A `SOCK_DIAG_BY_FAMILY` request for the TCP socket whose local address is `local` and
/// whose remote address is `remote`, in any state.
fn request(local: SocketAddr, remote: SocketAddr) -> Vec<u8> {
    let family = match local {
        SocketAddr::V4(_) => AF_INET,
        SocketAddr::V6(_) => AF_INET6,
    };
    let id = SocketId {
        local_port: local.port(),
        remote_port: remote.port(),
        local: address_words(local.ip()),
        remote: address_words(remote.ip()),
    };
    diag_request(NLM_F_REQUEST, family, u32::MAX, &id)
}

/// A `SOCK_DIAG_BY_FAMILY` dump of the `family` TCP sockets listening on `port`: the kernel
/// matches a listener's local port and skips every connection.
fn listeners_request(family: u8, port: u16) -> Vec<u8> {
    let id = SocketId {
        local_port: port,
        remote_port: 0,
        local: [0; 16],
        remote: [0; 16],
    };
    diag_request(NLM_F_REQUEST | NLM_F_DUMP, family, 1 << TCP_LISTEN, &id)
}

/// The addresses of `struct inet_diag_sockid`.
struct SocketId {
    local_port: u16,
    remote_port: u16,
    local: [u8; 16],
    remote: [u8; 16],
}

/// A `struct nlmsghdr` then a `struct inet_diag_req_v2` for TCP sockets in the `states` (a bit
/// per state), ports and addresses in network byte order, the rest in the machine's.
fn diag_request(flags: u16, family: u8, states: u32, id: &SocketId) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEADER + 56);
    m.extend_from_slice(&0u32.to_ne_bytes()); // length, set below
    m.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
    m.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
    m.extend_from_slice(&[family, IPPROTO_TCP, 0, 0]); // family, protocol, extensions, pad
    m.extend_from_slice(&states.to_ne_bytes());
    m.extend_from_slice(&id.local_port.to_be_bytes());
    m.extend_from_slice(&id.remote_port.to_be_bytes());
    m.extend_from_slice(&id.local);
    m.extend_from_slice(&id.remote);
    m.extend_from_slice(&0u32.to_ne_bytes()); // any interface
    m.extend_from_slice(&[0xff; 8]); // INET_DIAG_NOCOOKIE
    let len = u32::try_from(m.len()).unwrap_or(u32::MAX);
    m[..4].copy_from_slice(&len.to_ne_bytes());
    m
}

/// The address fields of `struct inet_diag_sockid`: 16 bytes, an IPv4 address in the first 4.
fn address_words(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => {
            let mut w = [0u8; 16];
            w[..4].copy_from_slice(&a.octets());
            w
        }
        IpAddr::V6(a) => a.octets(),
    }
}

/// The receive queue in the kernel's answer, or `None` for any other answer (`NLMSG_ERROR`
/// when there is no such socket) or one too short to hold it.
fn receive_queue(answer: &[u8]) -> Option<u32> {
    let ty = u16::from_ne_bytes(answer.get(4..6)?.try_into().ok()?);
    if ty != SOCK_DIAG_BY_FAMILY {
        return None;
    }
    Some(u32::from_ne_bytes(
        answer.get(RQUEUE_AT..RQUEUE_AT + 4)?.try_into().ok()?,
    ))
}

/// Whether a dump's answer holds a socket, as its first message says: a socket, or the end
/// of the dump (`Some(false)`); `None` for an error or an answer too short to say.
fn holds_a_socket(answer: &[u8]) -> Option<bool> {
    match u16::from_ne_bytes(answer.get(4..6)?.try_into().ok()?) {
        SOCK_DIAG_BY_FAMILY => Some(true),
        NLMSG_DONE => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_the_servers_end_by_its_addresses() {
        let server: SocketAddr = "127.0.0.1:4726".parse().unwrap();
        let harness: SocketAddr = "127.0.0.2:50000".parse().unwrap();
        let m = request(server, harness);
        assert_eq!(m.len(), 72);
        assert_eq!(u32::from_ne_bytes(m[..4].try_into().unwrap()), 72);
        assert_eq!(u16::from_ne_bytes(m[4..6].try_into().unwrap()), 20);
        assert_eq!(&m[16..18], &[AF_INET, IPPROTO_TCP]);
        // sport, dport: the server's port, then the harness's, big-endian.
        assert_eq!(&m[24..28], &[0x12, 0x76, 0xc3, 0x50]);
        // src: the server's address; dst: the harness's.
        assert_eq!(&m[28..32], &[127, 0, 0, 1]);
        assert_eq!(&m[44..48], &[127, 0, 0, 2]);
        assert_eq!(&m[64..72], &[0xff; 8]);
        let v6 = request(
            "[::1]:4726".parse().unwrap(),
            "[::1]:50000".parse().unwrap(),
        );
        assert_eq!(v6[16], AF_INET6);
        assert_eq!(v6[43], 1);
    }

    #[test]
    fn the_receive_queue_is_read_from_an_answer_and_an_error_is_none() {
        let mut answer = vec![0u8; RQUEUE_AT + 20];
        answer[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        answer[RQUEUE_AT..RQUEUE_AT + 4].copy_from_slice(&7u32.to_ne_bytes());
        assert_eq!(receive_queue(&answer), Some(7));
        answer[4..6].copy_from_slice(&2u16.to_ne_bytes());
        assert_eq!(receive_queue(&answer), None);
        assert_eq!(receive_queue(&answer[..10]), None);
        assert_eq!(receive_queue(&[]), None);
    }

    #[test]
    fn a_listeners_request_dumps_the_listening_sockets_on_one_port() {
        let m = listeners_request(AF_INET6, 4726);
        assert_eq!(m.len(), 72);
        assert_eq!(u16::from_ne_bytes(m[6..8].try_into().unwrap()), 0x301);
        assert_eq!(&m[16..18], &[AF_INET6, IPPROTO_TCP]);
        assert_eq!(u32::from_ne_bytes(m[20..24].try_into().unwrap()), 1 << 10);
        // sport: the port, big-endian; dport and both addresses: any.
        assert_eq!(&m[24..28], &[0x12, 0x76, 0, 0]);
        assert!(m[28..60].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_dumps_first_message_says_whether_it_holds_a_socket() {
        let mut answer = vec![0u8; HEADER];
        answer[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        assert_eq!(holds_a_socket(&answer), Some(true));
        answer[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
        assert_eq!(holds_a_socket(&answer), Some(false));
        answer[4..6].copy_from_slice(&2u16.to_ne_bytes()); // NLMSG_ERROR
        assert_eq!(holds_a_socket(&answer), None);
        assert_eq!(holds_a_socket(&answer[..5]), None);
    }

    /// The kernel's own answer for a real listener on `listen`: listening while it is open,
    /// not once it is closed.
    fn shows_a_listener(listen: &str) {
        let listener = std::net::TcpListener::bind(listen).unwrap();
        let port = listener.local_addr().unwrap().port();
        if !cfg!(target_os = "linux") {
            assert_eq!(listening_on(port), None);
            return;
        }
        assert_eq!(listening_on(port), Some(true), "{listen}");
        // Neither a connection on the port (the accepted end) nor a listener on another port
        // is a listener on the port.
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        let other = std::net::TcpListener::bind(listen).unwrap();
        drop(listener);
        assert_eq!(listening_on(port), Some(false), "{listen}");
        drop((client, accepted, other));
    }

    #[test]
    fn a_real_ipv4_listener_shows_on_linux() {
        shows_a_listener("127.0.0.1:0");
    }

    #[test]
    fn a_real_ipv6_listener_shows_on_linux() {
        if std::net::TcpListener::bind("[::1]:0").is_err() {
            eprintln!("SKIP: this machine has no IPv6 loopback");
            return;
        }
        shows_a_listener("[::1]:0");
    }

    /// The kernel's own answer: bytes written to an accepted connection and not read show as
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
