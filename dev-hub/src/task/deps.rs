//! Dependency edges: reading them, replacing a task's, finding the open ones, refusing cycles.

use std::collections::{BTreeMap, HashMap, HashSet};

use hub_core::HubError;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::model::{self, TaskStatus, dep};

/// Rows per `IN (…)` list, well below every backend's parameter limit.
const CHUNK: usize = 500;

/// The dependencies of each of `ids` (tasks without any are absent), each list sorted.
pub async fn of(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>, HubError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows = dep::Entity::find()
            .filter(dep::Column::TaskId.is_in(chunk.iter().cloned()))
            .order_by_asc(dep::Column::DependsOn)
            .all(db)
            .await?;
        for r in rows {
            out.entry(r.task_id).or_default().push(r.depends_on);
        }
    }
    Ok(out)
}

/// Replaces the dependencies of `task` by `deps`.
pub async fn replace(
    db: &impl ConnectionTrait,
    task: &str,
    deps: &[String],
) -> Result<(), HubError> {
    dep::Entity::delete_many()
        .filter(dep::Column::TaskId.eq(task))
        .exec(db)
        .await?;
    insert(
        db,
        deps.iter().map(|d| (task.to_owned(), d.clone())).collect(),
    )
    .await
}

/// Inserts edges `(task, depends_on)`.
pub async fn insert(
    db: &impl ConnectionTrait,
    edges: Vec<(String, String)>,
) -> Result<(), HubError> {
    for chunk in edges.chunks(CHUNK) {
        let rows = chunk.iter().map(|(t, d)| dep::ActiveModel {
            task_id: sea_orm::Set(t.clone()),
            depends_on: sea_orm::Set(d.clone()),
        });
        dep::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

/// The open dependencies of each of `ids` (tasks with none are absent), each list sorted.
pub async fn open_blockers(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<BTreeMap<String, Vec<String>>, HubError> {
    let deps = of(db, ids).await?;
    let targets: Vec<String> = deps
        .values()
        .flatten()
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let open = open_among(db, &targets).await?;
    let mut out = BTreeMap::new();
    for (task, ds) in deps {
        let blocking: Vec<String> = ds.into_iter().filter(|d| open.contains(d)).collect();
        if !blocking.is_empty() {
            out.insert(task, blocking);
        }
    }
    Ok(out)
}

/// Which of `ids` are open tasks.
pub async fn open_among(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashSet<String>, HubError> {
    let mut open = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<String> = model::Entity::find()
            .select_only()
            .column(model::Column::Id)
            .filter(model::Column::Id.is_in(chunk.iter().cloned()))
            .filter(model::Column::Status.is_not_in(TaskStatus::CLOSED))
            .into_tuple()
            .all(db)
            .await?;
        open.extend(rows);
    }
    Ok(open)
}

/// A dependency cycle once the edges of `seed` (task -> its new dependencies) replace those
/// tasks' stored edges, as the list of ids around it (first id repeated at the end), or `None`.
/// Only the part of the stored graph reachable from the seed is read.
pub async fn find_cycle(
    db: &impl ConnectionTrait,
    seed: HashMap<String, Vec<String>>,
) -> Result<Option<Vec<String>>, HubError> {
    let mut graph = seed;
    let mut frontier: Vec<String> = unknown_targets(&graph);
    while !frontier.is_empty() {
        let loaded = of(db, &frontier).await?;
        for node in frontier {
            let edges = loaded.get(&node).cloned().unwrap_or_default();
            graph.insert(node, edges);
        }
        frontier = unknown_targets(&graph);
    }
    Ok(cycle_in(&graph))
}

fn unknown_targets(graph: &HashMap<String, Vec<String>>) -> Vec<String> {
    let mut out: Vec<String> = graph
        .values()
        .flatten()
        .filter(|t| !graph.contains_key(*t))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A cycle of `graph` by depth-first search, in a stable order.
fn cycle_in(graph: &HashMap<String, Vec<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Active,
        Done,
    }
    let mut marks: HashMap<&str, Mark> = HashMap::new();
    let mut starts: Vec<&String> = graph.keys().collect();
    starts.sort();
    for start in starts {
        if marks.contains_key(start.as_str()) {
            continue;
        }
        // Iterative DFS: the path and, per node on it, the index of its next edge.
        let mut path: Vec<(&str, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Active);
        while let Some(top) = path.last_mut() {
            let node = top.0;
            let edges = graph.get(node).map(Vec::as_slice).unwrap_or_default();
            let Some(target) = edges.get(top.1) else {
                marks.insert(node, Mark::Done);
                path.pop();
                continue;
            };
            top.1 += 1;
            match marks.get(target.as_str()) {
                Some(Mark::Active) => {
                    let from = path
                        .iter()
                        .position(|(n, _)| *n == target.as_str())
                        .unwrap_or(0);
                    let mut cycle: Vec<String> =
                        path[from..].iter().map(|(n, _)| (*n).to_owned()).collect();
                    cycle.push(target.clone());
                    return Some(cycle);
                }
                Some(Mark::Done) => {}
                None => {
                    marks.insert(target, Mark::Active);
                    path.push((target, 0));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(t, ds)| (t.to_string(), ds.iter().map(|d| d.to_string()).collect()))
            .collect()
    }

    #[test]
    fn cycles_are_found_with_their_path() {
        let g = graph(&[("A", &["B"]), ("B", &["C"]), ("C", &["A"])]);
        assert_eq!(cycle_in(&g).unwrap(), ["A", "B", "C", "A"]);
        let g = graph(&[("A", &["A"])]);
        assert_eq!(cycle_in(&g).unwrap(), ["A", "A"]);
    }

    #[test]
    fn diamonds_are_not_cycles() {
        let g = graph(&[("A", &["B", "C"]), ("B", &["D"]), ("C", &["D"]), ("D", &[])]);
        assert_eq!(cycle_in(&g), None);
    }
}
