//! Database migrations of every Hubmesh hub. Each hub's migrator keeps its own migrations table,
//! so the core tables and a module's tables evolve independently in one database.

pub mod core;
pub mod dev;
pub mod fin;
pub mod ops;
