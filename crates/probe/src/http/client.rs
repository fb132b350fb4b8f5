//! A small HTTP/1.1 client written for probing: one request per
//! connection, each phase (connect, TLS, processing, transfer) timed at the
//! moment it ends so a probe cut short by its timeout still reports the
//! phases it finished. General clients (hyper, reqwest) hide those moments.

use super::stamped::StampedTcp;
use crate::tls::TlsSetup;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A plain or TLS connection.
pub(crate) enum Conn {
    Plain(StampedTcp),
    Tls(Box<TlsStream<StampedTcp>>),
}

impl Conn {
    fn tcp(&mut self) -> &mut StampedTcp {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => s.get_mut().0,
        }
    }

    /// When the latest bytes read reached the kernel (for TLS: the record
    /// that produced the latest plaintext), or now without a stamp.
    fn rx_instant(&mut self) -> Instant {
        self.tcp().rx_instant().unwrap_or_else(Instant::now)
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Phase events of one round trip, reported as they happen.
pub(crate) trait PhaseSink {
    /// TCP connected after `secs`.
    fn connected(&mut self, secs: f64);
    /// TLS handshake done after `secs`, with the connection for its gauges.
    fn tls_done(&mut self, secs: f64, conn: &rustls::ClientConnection);
    /// First response byte `secs` after the request started being written.
    fn first_byte(&mut self, secs: f64);
}

/// A parsed response head and its body.
#[derive(Debug, Default)]
pub(crate) struct Response {
    /// `HTTP/1.1`.
    pub proto: String,
    pub status: u16,
    /// Header names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes as received (still compressed).
    pub body: Vec<u8>,
    /// Content-Length, -1 when absent (Go's `resp.ContentLength`).
    pub content_length: i64,
    /// When the first response byte arrived.
    pub first_byte: Option<Instant>,
    /// When the body ended.
    pub end: Option<Instant>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Connects to `addr`, optionally wrapping it in TLS.
pub(crate) async fn connect(
    addr: SocketAddr,
    tls: Option<&TlsSetup>,
    sink: &mut (dyn PhaseSink + Send),
) -> Result<Conn, String> {
    let t0 = Instant::now();
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("dial tcp {addr}: connect: {}", crate::net::io_text(&e)))?;
    let _ = tcp.set_nodelay(true);
    sink.connected(t0.elapsed().as_secs_f64());
    let tcp = StampedTcp::new(tcp);
    match tls {
        None => Ok(Conn::Plain(tcp)),
        Some(setup) => {
            let t1 = Instant::now();
            let stream = setup.connect(tcp).await?;
            sink.tls_done(t1.elapsed().as_secs_f64(), stream.get_ref().1);
            Ok(Conn::Tls(Box::new(stream)))
        }
    }
}

/// Writes `request` and reads the response. `limit` caps the body (0: no
/// cap); `head_only` is true for HEAD requests.
pub(crate) async fn round_trip(
    conn: &mut Conn,
    request: &[u8],
    head_only: bool,
    limit: u64,
    sink: &mut (dyn PhaseSink + Send),
) -> Result<Response, String> {
    // Processing runs from here (Go's GotConn) to the kernel's arrival
    // stamp of the first response byte: scheduling delays in between, ours
    // or the runtime's, do not count.
    conn.tcp().clear_rx();
    let t0 = Instant::now();
    conn.write_all(request)
        .await
        .map_err(|e| format!("write request: {}", crate::net::io_text(&e)))?;
    conn.flush()
        .await
        .map_err(|e| format!("write request: {}", crate::net::io_text(&e)))?;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut first_at = None;
    // Read heads until a final (non-1xx) one.
    let (mut resp, used) = loop {
        if let Some((r, used)) = parse_head(&buf)? {
            if (100..200).contains(&r.status) && r.status != 101 {
                buf.drain(..used);
                continue;
            }
            break (r, used);
        }
        let n = read_more(conn, &mut buf).await?;
        if n == 0 {
            return Err(if buf.is_empty() {
                "EOF".into()
            } else {
                "unexpected EOF in response head".into()
            });
        }
        if first_at.is_none() {
            let at = conn.rx_instant().max(t0);
            sink.first_byte(at.duration_since(t0).as_secs_f64());
            first_at = Some(at);
        }
    };
    buf.drain(..used);
    resp.first_byte = first_at;
    let no_body = head_only || resp.status == 204 || resp.status == 304;
    let chunked = resp
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    resp.content_length = match (chunked, resp.header("content-length")) {
        (false, Some(v)) => v
            .trim()
            .parse()
            .map_err(|_| format!("bad Content-Length {v:?}"))?,
        _ => -1,
    };
    if no_body {
        resp.end = first_at;
        return Ok(resp);
    }
    let cap = if limit == 0 { u64::MAX } else { limit };
    let too_big = || format!("body exceeds the limit of {limit} bytes");
    if chunked {
        resp.body = read_chunked(conn, buf, cap).await?;
    } else if resp.content_length >= 0 {
        let want = resp.content_length as u64;
        if want > cap {
            return Err(too_big());
        }
        while (buf.len() as u64) < want {
            if read_more(conn, &mut buf).await? == 0 {
                return Err("unexpected EOF".into());
            }
        }
        buf.truncate(want as usize);
        resp.body = buf;
    } else {
        // No length: the body runs to the end of the connection.
        while read_more(conn, &mut buf).await? > 0 {
            if buf.len() as u64 > cap {
                return Err(too_big());
            }
        }
        resp.body = buf;
    }
    // The body's last bytes arrived with the latest read that had any.
    resp.end = Some(conn.rx_instant().max(first_at.unwrap_or(t0)));
    Ok(resp)
}

async fn read_more(conn: &mut Conn, buf: &mut Vec<u8>) -> Result<usize, String> {
    let mut chunk = [0u8; 16384];
    let n = conn
        .read(&mut chunk)
        .await
        .map_err(|e| format!("read response: {}", crate::net::io_text(&e)))?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

/// Parses a response head; `None` when more bytes are needed.
fn parse_head(buf: &[u8]) -> Result<Option<(Response, usize)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut r = httparse::Response::new(&mut headers);
    match r.parse(buf) {
        Ok(httparse::Status::Partial) => Ok(None),
        Ok(httparse::Status::Complete(used)) => {
            let resp = Response {
                proto: format!("HTTP/1.{}", r.version.unwrap_or(1)),
                status: r.code.unwrap_or(0),
                headers: r
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
                ..Response::default()
            };
            Ok(Some((resp, used)))
        }
        Err(e) => Err(format!("malformed HTTP response: {e}")),
    }
}

/// Reads a chunked body; `buf` holds bytes already read past the head.
async fn read_chunked(conn: &mut Conn, mut buf: Vec<u8>, cap: u64) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                break i;
            }
            if read_more(conn, &mut buf).await? == 0 {
                return Err("unexpected EOF in chunked body".into());
            }
        };
        let line = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("malformed chunk size {size_text:?}"))?;
        buf.drain(..line_end + 2);
        if size == 0 {
            // Trailers until an empty line; a missing one at EOF is tolerated.
            loop {
                if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                    if i == 0 {
                        return Ok(body);
                    }
                    buf.drain(..i + 2);
                    continue;
                }
                if read_more(conn, &mut buf).await? == 0 {
                    return Ok(body);
                }
            }
        }
        if (body.len() + size) as u64 > cap {
            return Err(format!("body exceeds the limit of {cap} bytes"));
        }
        while buf.len() < size + 2 {
            if read_more(conn, &mut buf).await? == 0 {
                return Err("unexpected EOF in chunked body".into());
            }
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}
