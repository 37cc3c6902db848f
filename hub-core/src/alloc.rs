//! The memory allocator of every binary that links hub-core: jemalloc.
//!
//! glibc's malloc and free were about a fifth of a hub's CPU time on every hot path profiled
//! (MCP calls, REST sends, the federation write path; docs/BENCHMARKS.md). jemalloc's per-thread
//! caches take most of that away.
//!
//! jemalloc keeps freed pages for ten seconds by default, which would put an idle hub above its
//! 30 MB budget; a background thread hands them back after the decay time below instead, so a
//! hot path never waits on the `madvise` calls. `_RJEM_MALLOC_CONF` overrides these at run time.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads this C string (its `malloc_conf`, under the crate's `_rjem_` prefix) at start.
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 53] = b"background_thread:true,dirty_decay_ms:1000,narenas:2\0";
