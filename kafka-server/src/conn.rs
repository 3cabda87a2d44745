//! One client connection: size-prefixed frames in, responses out, in order.

use crate::api::{self, Broker, Client};
use bytes::{Bytes, BytesMut};
use std::io;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Largest request frame accepted (Kafka's `socket.request.max.bytes` default, 100 MiB); a
/// larger size prefix closes the connection, as Kafka's `NetworkReceive` does.
pub const MAX_REQUEST_SIZE: usize = 100 * 1024 * 1024;

/// Serves one connection until the client closes it or sends what cannot be answered
/// (an oversized frame, a request header that does not parse).
pub(crate) async fn run(stream: TcpStream, broker: Arc<Broker>) {
    let _ = stream.set_nodelay(true);
    let client = Client::new(stream.peer_addr().ok());
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::with_capacity(64 * 1024, rd);
    loop {
        let frame = match read_frame(&mut rd, MAX_REQUEST_SIZE).await {
            Ok(Some(frame)) => frame,
            Ok(None) | Err(_) => return,
        };
        match api::handle(&broker, &client, frame).await {
            Ok(Some(response)) => {
                if wr.write_all(&response).await.is_err() {
                    return;
                }
            }
            // acks=0 produce: no response
            Ok(None) => {}
            Err(_) => return,
        }
    }
}

/// Reads one size-prefixed frame; `None` at a clean end of stream. The buffer grows as bytes
/// arrive (never to a size only claimed), up to `max`.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> io::Result<Option<Bytes>> {
    let mut prefix = [0u8; 4];
    match r.read_exact(&mut prefix).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let size = i32::from_be_bytes(prefix);
    let len = usize::try_from(size)
        .ok()
        .filter(|len| *len <= max)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("Invalid receive (size = {size} larger than {max})"),
            )
        })?;
    let mut buf = BytesMut::with_capacity(len.min(64 * 1024));
    while buf.len() < len {
        let want = len - buf.len();
        if buf.capacity() == buf.len() {
            buf.reserve(want.min(1024 * 1024));
        }
        let n = (&mut *r).take(want as u64).read_buf(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(Some(buf.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_are_read_whole_and_oversized_or_negative_sizes_refused() {
        let mut input: &[u8] = &[0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0];
        assert_eq!(
            read_frame(&mut input, 10).await.unwrap().as_deref(),
            Some(&b"abc"[..])
        );
        assert_eq!(
            read_frame(&mut input, 10).await.unwrap().as_deref(),
            Some(&b""[..])
        );
        assert_eq!(read_frame(&mut input, 10).await.unwrap(), None);

        let mut big: &[u8] = &[0, 0, 0, 11];
        let e = read_frame(&mut big, 10).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let mut negative: &[u8] = &[0xff, 0xff, 0xff, 0xff];
        assert!(read_frame(&mut negative, 10).await.is_err());
        // a frame cut short is an error, not a clean end
        let mut cut: &[u8] = &[0, 0, 0, 5, 1, 2];
        assert!(read_frame(&mut cut, 10).await.is_err());
    }
}
