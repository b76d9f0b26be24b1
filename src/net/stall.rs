//! `StallGuard`: a byte stream whose every read, write and flush fails with `TimedOut` when the peer makes no
//! progress for a set time (a server that accepts and never answers cannot hold a task forever).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Wraps a stream; an operation pending longer than `limit` without progress ends in `io::ErrorKind::TimedOut`.
#[derive(Debug)]
pub struct StallGuard<S> {
    inner: S,
    limit: Duration,
    read_deadline: Option<Pin<Box<Sleep>>>,
    write_deadline: Option<Pin<Box<Sleep>>>,
}

impl<S> StallGuard<S> {
    pub fn new(inner: S, limit: Duration) -> Self {
        Self { inner, limit, read_deadline: None, write_deadline: None }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

/// Polls `op`; while it is pending, a deadline `limit` from its first pending poll runs, and ends it when reached.
fn guarded<T>(
    deadline: &mut Option<Pin<Box<Sleep>>>,
    limit: Duration,
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<io::Result<T>>,
) -> Poll<io::Result<T>> {
    if let Poll::Ready(result) = op(cx) {
        *deadline = None;
        return Poll::Ready(result);
    }
    let sleep = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + limit)));
    ready!(sleep.as_mut().poll(cx));
    *deadline = None;
    Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, format!("no answer for {} s", limit.as_secs()))))
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let inner = &mut this.inner;
        guarded(&mut this.read_deadline, this.limit, cx, |cx| Pin::new(inner).poll_read(cx, buf))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let inner = &mut this.inner;
        guarded(&mut this.write_deadline, this.limit, cx, |cx| Pin::new(inner).poll_write(cx, buf))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let inner = &mut this.inner;
        guarded(&mut this.write_deadline, this.limit, cx, |cx| Pin::new(inner).poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let inner = &mut this.inner;
        guarded(&mut this.write_deadline, this.limit, cx, |cx| Pin::new(inner).poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::StallGuard;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_times_out_and_a_talking_one_does_not() {
        let (client, mut server) = tokio::io::duplex(64);
        let mut guarded = StallGuard::new(client, Duration::from_secs(5));
        let mut buf = [0u8; 4];
        let err = guarded.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        server.write_all(b"220 ").await.unwrap();
        assert_eq!(guarded.read(&mut buf).await.unwrap(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_times_the_writer_out() {
        let (client, _server) = tokio::io::duplex(8);
        let mut guarded = StallGuard::new(client, Duration::from_secs(5));
        let err = guarded.write_all(&[0u8; 64]).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    }
}
