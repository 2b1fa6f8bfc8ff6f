// SPDX-License-Identifier: GPL-2.0

//! How requests reach a driver: the kernel's, over the netlink connector, or the local one
//! (`crate::local`).

use std::{
    io,
    sync::atomic::{AtomicU8, Ordering},
    time::{Duration, Instant},
};

use netlink_packet_connector::{decode_datagram, CbId, CnMsg, NETLINK_CONNECTOR};
use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use wasm_protocol::{Command, Status, CONNECTOR_IDX, CONNECTOR_VAL};

use crate::error::Error;

/// Carries one request payload to a driver and returns its reply payload.
pub trait Transport {
    /// Sends `request` and waits for the reply.
    fn call(&mut self, request: &[u8]) -> Result<Vec<u8>, Error>;

    /// As [`Transport::call`], handing `output` the OUTPUT messages the driver sends while
    /// it handles the request (a running program's standard output and error), in order.
    fn call_with_output(
        &mut self,
        request: &[u8],
        output: &mut dyn FnMut(&[u8]),
    ) -> Result<Vec<u8>, Error> {
        let _ = output;
        self.call(request)
    }
}

/// Whether a payload from the driver is an OUTPUT message rather than a reply.
///
/// Both the command and the status say so: a request that claims to be an OUTPUT (no client
/// may send one) gets a reply of that command too, with `UNKNOWN_COMMAND`.
pub fn is_output(payload: &[u8]) -> bool {
    payload.get(6..8) == Some(&Command::Output.code().to_le_bytes()[..])
        && payload.get(8..10) == Some(&Status::Ok.code().to_le_bytes()[..])
}

/// The connector id of the runtime.
pub const ID: CbId = CbId::new(CONNECTOR_IDX, CONNECTOR_VAL);

/// What to say when the kernel does not answer.
pub fn not_loaded(timeout: Duration) -> String {
    format!(
        "no reply from the kernel's WebAssembly runtime (connector {}:{}) within {} ms: is the \
         driver loaded (modprobe wasm, CONFIG_WASM)? Use --local to run on the host engine",
        ID.idx,
        ID.val,
        timeout.as_millis()
    )
}

/// A `NETLINK_CONNECTOR` socket.
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
    fn open() -> io::Result<Self> {
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
            Ok(sock)
        }
    }

    fn set_timeout(&self, timeout: Duration) -> io::Result<()> {
        // A zero timeval would mean "block forever".
        let timeout = timeout.max(Duration::from_millis(1));
        let tv = libc::timeval {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_usec: timeout.subsec_micros() as libc::suseconds_t,
        };
        // SAFETY: `tv` is valid for the call.
        check(unsafe {
            libc::setsockopt(
                self.0,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                std::ptr::addr_of!(tv).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        })?;
        Ok(())
    }

    /// Sends raw bytes to the kernel (port 0).
    fn send(&self, bytes: &[u8]) -> io::Result<()> {
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

    /// Receives one datagram; `None` on timeout.
    fn recv(&self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = vec![0u8; 65536];
        loop {
            // SAFETY: `buf` is valid for writes of its length.
            let n = unsafe { libc::recv(self.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n >= 0 {
                buf.truncate(n as usize);
                return Ok(Some(buf));
            }
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => return Ok(None),
                _ => return Err(err),
            }
        }
    }
}

/// The kernel's driver, over a `NETLINK_CONNECTOR` socket.
pub struct Kernel {
    socket: Socket,
    seq: u32,
    timeout: Duration,
}

impl Kernel {
    /// Opens a socket; `timeout` bounds the wait for each reply.
    pub fn open(timeout: Duration) -> Result<Self, Error> {
        let socket = Socket::open().map_err(|e| {
            if e.raw_os_error() == Some(libc::EPROTONOSUPPORT) {
                Error::Unreachable(
                    "this kernel has no netlink connector (CONFIG_CONNECTOR): the WebAssembly \
                     runtime cannot be reached; use --local to run on the host engine"
                        .to_string(),
                )
            } else {
                Error::Unreachable(format!("cannot open a NETLINK_CONNECTOR socket: {e}"))
            }
        })?;
        // Different runs use different sequence numbers, which makes traces easier to read;
        // replies are matched on the socket's port anyway.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Ok(Self {
            socket,
            seq: (std::process::id() << 16) ^ seed,
            timeout,
        })
    }
}

/// The states of a request being sent by another thread.
const SENDING: u8 = 0;
const SENT: u8 = 1;
const SEND_FAILED: u8 = 2;

impl Kernel {
    /// Frames `request` as a connector message with the next sequence number.
    fn frame(&mut self, request: &[u8]) -> Result<(u32, Vec<u8>), Error> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let msg = CnMsg::new(ID, seq, 0, request.to_vec())
            .map_err(|e| Error::Internal(format!("request too long: {e}")))?;
        let mut packet =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        Ok((seq, bytes))
    }

    fn send_error(&self, e: io::Error) -> Error {
        match e.raw_os_error() {
            Some(libc::ECONNREFUSED) | Some(libc::ESRCH) => {
                Error::Unreachable(not_loaded(self.timeout))
            }
            _ => Error::Unreachable(format!("cannot send to the kernel: {e}")),
        }
    }

    /// Receives until the reply to `seq` arrives, handing OUTPUT messages to `output`. With
    /// `sending` (see [`SENDING`]), the wait for the reply's deadline starts only once the
    /// request is sent (the kernel handles a request within `send`, so its reply is queued
    /// when `send` returns), and stops if sending failed.
    fn receive(
        &self,
        seq: u32,
        output: &mut dyn FnMut(&[u8]),
        sending: Option<&AtomicU8>,
    ) -> Result<Vec<u8>, Error> {
        let mut deadline = Instant::now() + self.timeout;
        let sent = sending;
        loop {
            match sending.map(|s| s.load(Ordering::Acquire)) {
                // Still sending: the program runs. Wait without a deadline, in slices.
                Some(SENDING) => deadline = Instant::now() + self.timeout,
                // The caller reports why.
                Some(SEND_FAILED) => return Err(Error::Internal("send failed".to_string())),
                _ => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Unreachable(not_loaded(self.timeout)));
            }
            let slice = if sent.is_some() {
                left.min(Duration::from_millis(100))
            } else {
                left
            };
            self.socket
                .set_timeout(slice)
                .map_err(|e| Error::Internal(format!("setsockopt: {e}")))?;
            let datagram = match self.socket.recv() {
                Ok(Some(datagram)) => datagram,
                Ok(None) if sent.is_some() => continue,
                Ok(None) => return Err(Error::Unreachable(not_loaded(self.timeout))),
                Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                    return Err(Error::Unreachable(not_loaded(self.timeout)))
                }
                Err(e) => return Err(Error::Internal(format!("recv: {e}"))),
            };
            for item in decode_datagram(&datagram) {
                // Anything else on the socket (a stale reply, noise) is skipped.
                let Ok((_, reply)) = item else { continue };
                if reply.id() == ID && reply.seq() == seq && reply.ack() == seq.wrapping_add(1) {
                    let payload = reply.into_payload();
                    if is_output(&payload) {
                        output(&payload);
                        continue;
                    }
                    return Ok(payload);
                }
            }
        }
    }
}

impl Transport for Kernel {
    fn call(&mut self, request: &[u8]) -> Result<Vec<u8>, Error> {
        let (seq, bytes) = self.frame(request)?;
        self.socket.send(&bytes).map_err(|e| self.send_error(e))?;
        // A request that makes no output gets none; should a driver send some anyway, it
        // is not the reply.
        self.receive(seq, &mut |_| {}, None)
    }

    fn call_with_output(
        &mut self,
        request: &[u8],
        output: &mut dyn FnMut(&[u8]),
    ) -> Result<Vec<u8>, Error> {
        let (seq, bytes) = self.frame(request)?;
        // The kernel runs the program inside our `send`, and its output arrives meanwhile:
        // another thread sends, this one reads, or the socket fills and both wait forever.
        let state = AtomicU8::new(SENDING);
        let this = &*self;
        let (reply, send_result) = std::thread::scope(|scope| {
            let sender = scope.spawn(|| {
                let result = this.socket.send(&bytes);
                let done = if result.is_ok() { SENT } else { SEND_FAILED };
                state.store(done, Ordering::Release);
                result
            });
            let reply = this.receive(seq, output, Some(&state));
            (reply, sender.join())
        });
        match send_result {
            Ok(Ok(())) => reply,
            Ok(Err(e)) => Err(self.send_error(e)),
            Err(_) => Err(Error::Internal("the sending thread panicked".to_string())),
        }
    }
}

/// The EVENT messages of the runtime's connector multicast group: records that programs
/// attached to kernel events emit. Joining the group needs `CAP_NET_ADMIN`.
pub struct EventStream {
    socket: Socket,
}

impl EventStream {
    /// Joins the group.
    pub fn open() -> Result<Self, Error> {
        let socket = Socket::open().map_err(|e| {
            Error::Unreachable(format!("cannot open a NETLINK_CONNECTOR socket: {e}"))
        })?;
        let group: u32 = CONNECTOR_IDX;
        // SAFETY: `group` is valid for the call; SOL_NETLINK and NETLINK_ADD_MEMBERSHIP are
        // the C library's constants.
        let ret = unsafe {
            libc::setsockopt(
                socket.0,
                libc::SOL_NETLINK,
                libc::NETLINK_ADD_MEMBERSHIP,
                std::ptr::addr_of!(group).cast(),
                std::mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if ret < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::EPERM) => Error::Reply {
                    command: None,
                    status: wasm_protocol::Status::PermissionDenied,
                    message: "listening to events needs CAP_NET_ADMIN".to_string(),
                    detail: crate::error::Detail::None,
                },
                _ => Error::Unreachable(format!("cannot join the events group: {e}")),
            });
        }
        Ok(Self { socket })
    }

    /// The next EVENT payloads that arrive within `timeout` (`None` to wait forever), in
    /// order; empty on timeout.
    pub fn next(&self, timeout: Option<Duration>) -> Result<Vec<Vec<u8>>, Error> {
        let wait = timeout.unwrap_or(Duration::from_secs(3600));
        self.socket
            .set_timeout(wait)
            .map_err(|e| Error::Internal(format!("setsockopt: {e}")))?;
        let datagram = match self.socket.recv() {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(Vec::new()),
            // The socket's buffer overflowed: records were lost, the numbers will show where.
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Ok(Vec::new()),
            Err(e) => return Err(Error::Internal(format!("recv: {e}"))),
        };
        let mut out = Vec::new();
        for item in decode_datagram(&datagram) {
            let Ok((_, msg)) = item else { continue };
            if msg.id() == ID {
                out.push(msg.into_payload());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_protocol::ReplyWriter;

    #[test]
    fn output_is_told_from_a_reply_to_a_bogus_output_request() {
        let mut buf = [0u8; 64];
        let mut w = ReplyWriter::ok(&mut buf, Command::Output).unwrap();
        w.output(1, b"hi").unwrap();
        assert!(is_output(w.finish().unwrap()));

        let mut buf = [0u8; 64];
        let w = ReplyWriter::new(&mut buf, Command::Output.code(), Status::UnknownCommand).unwrap();
        assert!(!is_output(w.finish().unwrap()));
    }
}
