//! The memory allocator of every binary that links hub-core: jemalloc, for Rust and C alike.
//!
//! glibc's malloc and free were about a fifth of a hub's CPU time on every hot path profiled
//! (MCP calls, REST sends, the federation write path; docs/BENCHMARKS.md). jemalloc's per-thread
//! caches take most of that away. Its symbols are unprefixed, so the SQLite that sqlx builds into
//! the binary allocates through it too instead of through glibc.
//!
//! jemalloc keeps freed pages for ten seconds by default, which would put an idle hub above its
//! 30 MB budget; a background thread hands them back after the decay time below instead, so a
//! hot path never waits on the `madvise` calls. The `MALLOC_CONF` environment variable overrides
//! these at run time.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads this C string, its `malloc_conf`, when it starts.
#[unsafe(export_name = "malloc_conf")]
static MALLOC_CONF: &[u8; 53] = b"background_thread:true,dirty_decay_ms:1000,narenas:2\0";
