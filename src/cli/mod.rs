//! Operator commands of `hubmesh` beyond running the mesh.

pub mod identity;
