//! A TCP stream that remembers when the kernel received the bytes it reads.
//!
//! The `processing` phase ends at the first response byte. Timed with a
//! clock read after our task wakes up, it also holds however long the
//! runtime (or a busy core) took to run the task: on a loaded machine that
//! is milliseconds, and it is the prober's delay, not the target's. With
//! `SO_TIMESTAMPNS` the kernel stamps each segment as it arrives and
//! `recvmsg` hands the stamp back, so the phase ends when the response
//! reached this host, whenever we get to read it.
//!
//! Kernel stamps are `CLOCK_REALTIME`; [`StampedTcp::rx_instant`] turns one
//! into an [`Instant`] with a paired reading of both clocks taken when it is
//! asked, so the error is the realtime clock's drift over the few
//! milliseconds between arrival and reading, not over the whole probe.
//! Where the option is missing (other systems), reads fall back to tokio's
//! and the phase to the wake-up time.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// A [`TcpStream`] whose reads record the kernel's receive time.
pub(crate) struct StampedTcp {
    tcp: TcpStream,
    /// `SO_TIMESTAMPNS` is on: read with `recvmsg`.
    stamps: bool,
    /// Arrival of the latest bytes read since [`StampedTcp::clear_rx`].
    last_rx: Option<SystemTime>,
}

impl StampedTcp {
    /// Wraps `tcp`, turning on receive timestamps where the system has them.
    pub(crate) fn new(tcp: TcpStream) -> Self {
        let stamps = sys::enable(&tcp);
        StampedTcp {
            tcp,
            stamps,
            last_rx: None,
        }
    }

    /// Forgets earlier arrivals (the handshake's), so the next stamp is the
    /// response's.
    pub(crate) fn clear_rx(&mut self) {
        self.last_rx = None;
    }

    /// When the latest bytes read since [`StampedTcp::clear_rx`] reached the
    /// kernel, on the monotonic clock; `None` without a stamp.
    pub(crate) fn rx_instant(&self) -> Option<Instant> {
        let at = self.last_rx?;
        let (now, wall) = (Instant::now(), SystemTime::now());
        // A stamp "in the future" means the realtime clock stepped back
        // since: the arrival time is unknown, so say "now".
        let ago = wall.duration_since(at).unwrap_or_default();
        Some(now.checked_sub(ago).unwrap_or(now))
    }
}

impl AsyncRead for StampedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.stamps {
            return Pin::new(&mut this.tcp).poll_read(cx, buf);
        }
        loop {
            ready!(this.tcp.poll_read_ready(cx))?;
            let tcp = &this.tcp;
            let dst = buf.initialize_unfilled();
            // try_io clears the readiness tokio cached when the read would block.
            match tcp.try_io(Interest::READABLE, || sys::recv(tcp, dst)) {
                Ok((n, at)) => {
                    if n > 0 && at.is_some() {
                        this.last_rx = at;
                    }
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for StampedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// The two system calls. Unsafe code because neither std, tokio nor
/// socket2 sets `SO_TIMESTAMPNS` or returns `recvmsg`'s control messages;
/// each call works on a descriptor borrowed for its duration and on
/// buffers that outlive it.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub(crate) mod sys {
    use std::io;
    use std::net::{Ipv4Addr, UdpSocket};
    use std::os::fd::{AsFd, AsRawFd};
    use std::sync::OnceLock;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// Turns on `SO_TIMESTAMPNS`; false if the kernel refuses.
    pub(crate) fn enable(sock: &impl AsFd) -> bool {
        // The kernel stamps packets only while some socket asks for stamps,
        // and switches that on from a work queue, after the setsockopt
        // returns: a response arriving first goes unstamped. A socket kept
        // open for the process's life keeps stamping on, at the cost of one
        // clock read per packet the host receives.
        static KEEP_ON: OnceLock<Option<UdpSocket>> = OnceLock::new();
        KEEP_ON.get_or_init(|| {
            let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).ok()?;
            set_on(&s).then_some(s)
        });
        set_on(sock)
    }

    fn set_on(sock: &impl AsFd) -> bool {
        let on: libc::c_int = 1;
        // SAFETY: a valid socket descriptor, and a pointer to a c_int of
        // the length given, read during the call only.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_fd().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        rc == 0
    }

    /// One `recvmsg` into `buf` (blocking only if the socket is): the byte
    /// count and the kernel's receive stamp when it sent one.
    pub(crate) fn recv(
        sock: &impl AsFd,
        buf: &mut [u8],
    ) -> io::Result<(usize, Option<SystemTime>)> {
        // Room for a few control messages; u64s keep it aligned for cmsghdr.
        let mut control = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: msghdr is plain data, all-zero is a valid empty header
        // (and sets musl's padding fields).
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: iov points into `buf` and msg_control into `control`,
        // both live and writable for their stated lengths during the call.
        let n = unsafe { libc::recvmsg(sock.as_fd().as_raw_fd(), &mut msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut stamp = None;
        // SAFETY: the kernel filled msg_control up to msg_controllen; the
        // CMSG_* macros stay within it, and the timespec is read unaligned
        // from a message of the type that carries one.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    if ts.tv_sec > 0 {
                        stamp =
                            Some(UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Ok((n as usize, stamp))
    }
}

/// Without kernel stamps: reads go through tokio and phases end at wake-up.
#[cfg(not(target_os = "linux"))]
pub(crate) mod sys {
    use std::io;
    use std::os::fd::AsFd;
    use std::time::SystemTime;

    pub(crate) fn enable(_: &impl AsFd) -> bool {
        false
    }

    pub(crate) fn recv(_: &impl AsFd, _: &mut [u8]) -> io::Result<(usize, Option<SystemTime>)> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn stamp_is_arrival_not_wakeup() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            // Answer only once the client's stamps are on.
            s.read_exact(&mut [0u8]).await.unwrap();
            s.write_all(b"hello").await.unwrap();
            s
        });
        let mut c = StampedTcp::new(TcpStream::connect(addr).await.unwrap());
        // The kernel switches stamping on asynchronously (see sys::enable).
        tokio::time::sleep(Duration::from_millis(20)).await;
        c.write_all(b"?").await.unwrap();
        let _keep = server.await.unwrap();
        // The bytes sit in the socket while we are "busy".
        std::thread::sleep(Duration::from_millis(50));
        let before_read = Instant::now();
        let mut buf = [0u8; 16];
        let n = c.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        if cfg!(target_os = "linux") {
            let at = c.rx_instant().expect("a kernel stamp");
            assert!(
                before_read.duration_since(at) >= Duration::from_millis(40),
                "stamp {:?} before the read",
                before_read.duration_since(at)
            );
            c.clear_rx();
            assert!(c.rx_instant().is_none());
        }
    }
}
