//! Workplan documents: markdown with YAML front matter, `## …` sections (phases), `### Txx — …`
//! tasks with a fenced `task` block, and `| Decision | Choice | Rationale |` tables. Import is a
//! sync with a change report; export writes the same format back.

pub mod api;
pub mod mcp;
pub mod parse;
pub mod render;
pub mod service;
