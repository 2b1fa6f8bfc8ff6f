// SPDX-License-Identifier: GPL-2.0

//! `cn-echo`: tests a user -> kernel -> user round trip through the netlink
//! connector against the kernel's `rust_connector_echo` sample.
//!
//! The sample answers a message on its id with the same id and `seq`,
//! `ack = seq + 1`, and a payload of a native-endian `i32` status followed,
//! when the status is 0, by the request's payload; senders without
//! `CAP_NET_ADMIN` get `-EPERM`.
//!
//! Exit status: 0 when every check passed, 1 when one failed, 2 on a usage
//! error.

use std::{io, process::ExitCode, time::Duration};

use netlink_packet_connector::{
    decode_datagram, CbId, CnMsg, CnMsgBuffer, CN_MSG_HEADER_LEN, CN_NETLINK_USERS,
    CONNECTOR_MAX_PAYLOAD_LEN, NETLINK_CONNECTOR,
};
use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};

/// The longest payload the sample can echo: its reply adds a 4-byte status.
const MAX_ECHO: usize = CONNECTOR_MAX_PAYLOAD_LEN - 4;

struct Socket(libc::c_int);

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.0) };
    }
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

impl Socket {
    fn open(timeout: Duration) -> io::Result<Self> {
        // SAFETY: plain socket syscalls on values we own.
        unsafe {
            let fd = check(libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                NETLINK_CONNECTOR as libc::c_int,
            ))?;
            let sock = Socket(fd);
            let mut addr: libc::sockaddr_nl = std::mem::zeroed();
            addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
            check(libc::bind(
                fd,
                std::ptr::addr_of!(addr).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            ))?;
            let tv = libc::timeval {
                tv_sec: timeout.as_secs() as libc::time_t,
                tv_usec: timeout.subsec_micros() as libc::suseconds_t,
            };
            check(libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                std::ptr::addr_of!(tv).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            ))?;
            Ok(sock)
        }
    }

    /// Sends raw bytes to the kernel (port 0).
    fn send_raw(&self, bytes: &[u8]) -> io::Result<()> {
        // SAFETY: `addr` and `bytes` are valid for the call.
        unsafe {
            let mut addr: libc::sockaddr_nl = std::mem::zeroed();
            addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
            let n = libc::sendto(
                self.0,
                bytes.as_ptr().cast(),
                bytes.len(),
                0,
                std::ptr::addr_of!(addr).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            );
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    fn send(&self, msg: CnMsg) -> io::Result<()> {
        let mut packet =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.send_raw(&bytes)
    }

    /// Receives one datagram; `None` on timeout.
    fn recv(&self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = vec![0u8; 65536];
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::recv(self.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return match err.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Ok(None),
                _ => Err(err),
            };
        }
        buf.truncate(n as usize);
        Ok(Some(buf))
    }

    /// Receives one connector message; an error on timeout.
    fn recv_msg(&self) -> Result<CnMsg, String> {
        let datagram = self
            .recv()
            .map_err(|e| format!("recv: {e}"))?
            .ok_or("no reply from the kernel (is rust_connector_echo loaded?)")?;
        let mut items = decode_datagram(&datagram);
        let (_, msg) = items
            .next()
            .ok_or("empty datagram")?
            .map_err(|e| format!("undecodable reply: {e}"))?;
        Ok(msg)
    }
}

struct Options {
    id: CbId,
}

/// Sends one request and returns the reply's status and echoed payload,
/// after checking its id, seq and ack.
fn echo(sock: &Socket, opts: &Options, seq: u32, payload: &[u8]) -> Result<(i32, Vec<u8>), String> {
    let req = CnMsg::new(opts.id, seq, 0, payload.to_vec()).map_err(|e| e.to_string())?;
    sock.send(req).map_err(|e| format!("send: {e}"))?;
    let reply = sock.recv_msg()?;
    if reply.id() != opts.id {
        return Err(format!("reply id {:?}, expected {:?}", reply.id(), opts.id));
    }
    if reply.seq() != seq || reply.ack() != seq.wrapping_add(1) {
        return Err(format!(
            "reply seq/ack {}/{}, expected {seq}/{}",
            reply.seq(),
            reply.ack(),
            seq.wrapping_add(1)
        ));
    }
    let body = reply.payload();
    let status: [u8; 4] = body
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or("reply shorter than its status")?;
    Ok((i32::from_ne_bytes(status), body[4..].to_vec()))
}

fn pattern(seq: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(31)
                .wrapping_add(seq.wrapping_mul(7)) as u8
        })
        .collect()
}

fn roundtrip(sock: &Socket, opts: &Options, count: u32, max: usize) -> Result<(), String> {
    for i in 0..count {
        let seq = 1000 + i;
        // Sizes from empty to `max`, including both ends.
        let len = if count <= 1 {
            max
        } else {
            max * i as usize / (count as usize - 1)
        };
        let payload = pattern(seq, len);
        let (status, echoed) = echo(sock, opts, seq, &payload)?;
        if status != 0 {
            return Err(format!("seq {seq}: status {status}, expected 0"));
        }
        if echoed != payload {
            return Err(format!(
                "seq {seq}: payload of {len} bytes came back different"
            ));
        }
    }
    Ok(())
}

fn expect_silence(sock: &Socket, what: &str) -> Result<(), String> {
    match sock.recv() {
        Ok(None) => Ok(()),
        Ok(Some(_)) => Err(format!(
            "{what}: the kernel answered a message it should drop"
        )),
        Err(e) => Err(format!("{what}: recv: {e}")),
    }
}

fn bad_len(sock: &Socket, opts: &Options) -> Result<(), String> {
    // A well-formed netlink frame whose cn_msg claims 100 more payload bytes
    // than it carries.
    let msg = CnMsg::new(opts.id, 77, 0, b"short".to_vec()).map_err(|e| e.to_string())?;
    let mut packet =
        NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(msg));
    packet.finalize();
    let mut bytes = vec![0; packet.buffer_len()];
    packet.serialize(&mut bytes);
    let mut cn = CnMsgBuffer::new_unchecked(&mut bytes[16..]);
    cn.set_len(105);
    sock.send_raw(&bytes).map_err(|e| format!("send: {e}"))?;
    expect_silence(sock, "bad-len")?;
    roundtrip(sock, opts, 2, 64)
}

fn garbage(sock: &Socket, opts: &Options) -> Result<(), String> {
    let mut datagrams: Vec<Vec<u8>> =
        vec![vec![], vec![0xff; 3], vec![0; 16 + CN_MSG_HEADER_LEN - 1]];
    // Pseudo-random bytes.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    datagrams.push(
        (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect(),
    );
    // A netlink header whose length claims more than was sent.
    let mut lying = vec![0u8; 16 + CN_MSG_HEADER_LEN];
    lying[0..4].copy_from_slice(&4096u32.to_ne_bytes());
    datagrams.push(lying);
    // Larger than CONNECTOR_MAX_MSG_SIZE.
    let mut big = vec![0u8; 16 + 20 * 1024];
    let big_len = big.len() as u32;
    big[0..4].copy_from_slice(&big_len.to_ne_bytes());
    big[16..20].copy_from_slice(&opts.id.idx.to_ne_bytes());
    big[20..24].copy_from_slice(&opts.id.val.to_ne_bytes());
    big[32..34].copy_from_slice(&((20 * 1024 - 20) as u16).to_ne_bytes());
    datagrams.push(big);
    for d in &datagrams {
        // The kernel may refuse some outright; that is fine too.
        let _ = sock.send_raw(d);
    }
    expect_silence(sock, "garbage")?;
    roundtrip(sock, opts, 2, 64)
}

/// For a service that answers every message (the wasm driver): random payloads
/// of every size, half of them with a valid-looking protocol header, each get a
/// reply with the right id, seq and ack.
fn answers(sock: &Socket, opts: &Options, count: u32) -> Result<(), String> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..count {
        let seq = 5000 + i;
        let len = (next() % (MAX_ECHO as u64 + 5)) as usize;
        let mut payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Half of them start like a real request, to get past the magic.
        if i % 2 == 0 && payload.len() >= 8 {
            payload[..4].copy_from_slice(b"WASM");
            payload[4..6].copy_from_slice(&1u16.to_le_bytes());
        }
        let req = CnMsg::new(opts.id, seq, 0, payload).map_err(|e| e.to_string())?;
        sock.send(req).map_err(|e| format!("send: {e}"))?;
        let reply = sock.recv_msg()?;
        if reply.id() != opts.id || reply.seq() != seq || reply.ack() != seq.wrapping_add(1) {
            return Err(format!("message {i}: reply {reply:?} does not match"));
        }
    }
    Ok(())
}

fn drop_privileges(uid: libc::uid_t) -> Result<(), String> {
    // SAFETY: plain credential syscalls.
    let ok = unsafe {
        libc::setgroups(0, std::ptr::null()) == 0
            && libc::setgid(uid) == 0
            && libc::setuid(uid) == 0
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "dropping privileges to {uid}: {}",
            io::Error::last_os_error()
        ))
    }
}

const USAGE: &str = "usage: cn-echo [--uid UID] [--idx IDX] [--val VAL] \
COMMAND\n  roundtrip [--count N] [--size BYTES]\n  expect-eperm\n  bad-len\n  garbage\n  \
answers [--count N]";

fn run(args: Vec<String>) -> Result<String, (u8, String)> {
    let usage = |msg: &str| (2u8, format!("{msg}\n{USAGE}"));
    let mut opts = Options {
        id: CbId::new(CN_NETLINK_USERS + 3, 1),
    };
    let (mut uid, mut count, mut size, mut command) = (None, 100u32, MAX_ECHO, None);
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> Result<u64, (u8, String)> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| usage(&format!("{name} needs a number")))
        };
        match arg.as_str() {
            "--uid" => uid = Some(value("--uid")? as libc::uid_t),
            "--idx" => opts.id.idx = value("--idx")? as u32,
            "--val" => opts.id.val = value("--val")? as u32,
            "--count" => count = value("--count")?.clamp(1, 100_000) as u32,
            "--size" => size = value("--size")? as usize,
            "-h" | "--help" => return Err((0, USAGE.to_string())),
            c if command.is_none() && !c.starts_with('-') => command = Some(c.to_string()),
            other => return Err(usage(&format!("unexpected argument {other:?}"))),
        }
    }
    if size > MAX_ECHO {
        return Err(usage(&format!("--size is at most {MAX_ECHO}")));
    }
    let command = command.ok_or_else(|| usage("no command"))?;
    if !["roundtrip", "expect-eperm", "bad-len", "garbage", "answers"].contains(&command.as_str()) {
        return Err(usage(&format!("unknown command {command:?}")));
    }
    if let Some(uid) = uid {
        drop_privileges(uid).map_err(|e| (1, e))?;
    }
    let sock = Socket::open(Duration::from_millis(500)).map_err(|e| (1, format!("socket: {e}")))?;
    let fail = |e: String| (1u8, format!("{command}: {e}"));
    match command.as_str() {
        "answers" => {
            answers(&sock, &opts, count).map_err(fail)?;
            Ok(format!("answers: {count} ok"))
        }
        "roundtrip" => {
            let start = std::time::Instant::now();
            roundtrip(&sock, &opts, count, size).map_err(fail)?;
            let mean_ns = start.elapsed().as_nanos() / u128::from(count.max(1));
            Ok(format!(
                "roundtrip: {count} ok, {mean_ns} ns each on average"
            ))
        }
        "expect-eperm" => {
            let (status, echoed) = echo(&sock, &opts, 1, b"let me in").map_err(fail)?;
            if status != -libc::EPERM || !echoed.is_empty() {
                return Err(fail(format!(
                    "status {status} and {} bytes, expected -EPERM and none",
                    echoed.len()
                )));
            }
            Ok("eperm: ok".to_string())
        }
        "bad-len" => bad_len(&sock, &opts)
            .map(|()| "bad-len: ok".to_string())
            .map_err(fail),
        _ => garbage(&sock, &opts)
            .map(|()| "garbage: ok".to_string())
            .map_err(fail),
    }
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err((0, text)) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err((code, text)) => {
            eprintln!("cn-echo: {text}");
            ExitCode::from(code)
        }
    }
}
