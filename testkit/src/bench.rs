//! Pieces every benchmark uses: its settings from the environment, percentiles, its own
//! process's CPU time from `/proc` (Linux), and a lean HTTP/1.1 exchange for load clients.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The number in the environment variable `name`, or `default` when it is unset or not a number.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0..=1) of `sorted`, which must not be empty: the smallest value at or above
/// that share of the samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// CPU seconds this process used so far (user + system), from `/proc/self/stat`; 0 elsewhere.
pub fn cpu_seconds() -> f64 {
    cpu_seconds_at("/proc/self/stat")
}

/// CPU seconds process `pid` used so far (user + system); 0 if it cannot be read.
pub fn cpu_seconds_of(pid: u32) -> f64 {
    cpu_seconds_at(&format!("/proc/{pid}/stat"))
}

fn cpu_seconds_at(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at state, field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after state; 100 ticks per second.
    (ticks(11) + ticks(12)) / 100.0
}

/// A connection for [`exchange`]: no Nagle delay, since each request is written whole.
pub async fn connect(addr: &str) -> std::io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(BufReader::new(stream))
}

/// An answer read by [`exchange`].
pub struct Answer {
    pub status: u16,
    /// The header lines, as received.
    head: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// The value of the header `name` (any case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
    }
}

/// Writes `request`, a whole HTTP/1.1 request as prepared bytes, on a kept-alive connection and
/// reads the answer by its `content-length`, or to its last chunk when it is chunked (an SSE
/// stream the server closes after its answer), as a load tool such as wrk does: a benchmark's
/// client then takes little of the CPU that the server it measures shares with it.
pub async fn exchange(
    stream: &mut BufReader<TcpStream>,
    request: &[u8],
) -> std::io::Result<Answer> {
    stream.get_mut().write_all(request).await?;
    let mut head = String::new();
    stream.read_line(&mut head).await?;
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {head:?}")))?;
    head.clear();
    loop {
        let start = head.len();
        stream.read_line(&mut head).await?;
        if matches!(&head[start..], "\r\n" | "") {
            head.truncate(start);
            break;
        }
    }
    let mut answer = Answer {
        status,
        head,
        body: Vec::new(),
    };
    if answer
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        answer.body = read_chunks(stream).await?;
        return Ok(answer);
    }
    let length = match answer.header("content-length") {
        Some(n) => n.parse().map_err(std::io::Error::other)?,
        None => 0,
    };
    answer.body = vec![0; length];
    stream.read_exact(&mut answer.body).await?;
    Ok(answer)
}

/// A chunked body to its last (empty) chunk and the blank line after any trailers.
async fn read_chunks(stream: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        stream.read_line(&mut line).await?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| std::io::Error::other(format!("bad chunk size line {line:?}")))?;
        if size == 0 {
            break;
        }
        let start = body.len();
        body.resize(start + size, 0);
        stream.read_exact(&mut body[start..]).await?;
        let mut crlf = [0u8; 2];
        stream.read_exact(&mut crlf).await?;
        if &crlf != b"\r\n" {
            return Err(std::io::Error::other("a chunk does not end with CRLF"));
        }
    }
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 || line == "\r\n" {
            return Ok(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn percentiles_pick_the_sample_at_or_above_the_share() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(super::percentile(&ms, 0.5), Duration::from_millis(50));
        assert_eq!(super::percentile(&ms, 0.99), Duration::from_millis(99));
        assert_eq!(super::percentile(&ms, 0.0), Duration::from_millis(1));
        assert_eq!(super::percentile(&ms, 1.0), Duration::from_millis(100));
    }

    #[tokio::test]
    async fn exchanges_read_answers_by_length_or_chunks_on_one_connection() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 3];
            for answer in [
                "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\ncontent-length: 7\r\n\r\n{\"a\":1}",
                "HTTP/1.1 202 Accepted\r\nMcp-Session-Id:  s1 \r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                 6\r\ndata: \r\n9;ext=1\r\n{\"b\":2}\n\n\r\n0\r\n\r\n",
            ] {
                sock.read_exact(&mut buf).await.unwrap();
                sock.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        let mut conn = super::connect(&addr).await.unwrap();
        let first = super::exchange(&mut conn, b"one").await.unwrap();
        assert_eq!(first.status, 201);
        assert_eq!(first.header("content-type"), Some("application/json"));
        assert_eq!(first.body, br#"{"a":1}"#);
        let second = super::exchange(&mut conn, b"two").await.unwrap();
        assert_eq!(second.status, 202);
        assert_eq!(second.header("mcp-session-id"), Some("s1"));
        assert_eq!(second.header("content-length"), None);
        assert!(second.body.is_empty());
        let third = super::exchange(&mut conn, b"3rd").await.unwrap();
        assert_eq!(third.status, 200);
        assert_eq!(third.body, b"data: {\"b\":2}\n\n");
        server.await.unwrap();
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let before = super::cpu_seconds();
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(50) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(
            super::cpu_seconds() > before,
            "50 ms of busy work shows as CPU time"
        );
    }
}
