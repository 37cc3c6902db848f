//! Import (a sync of one document into the database, in one transaction, with a report of
//! what changed) and export (the database back as a document).

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use hub_core::auth::{Access, Principal};
use hub_core::{Ctx, HubError, Tx};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::parse::{self, DocDecision, DocTask, Document};
use super::render::render;
use crate::decision::model::{self as decision, DecisionStatus};
use crate::scope::task_event;
use crate::task::model::{self as task, TaskStatus};
use crate::task::{deps, service::with_deps};
use crate::topic::service::{self as topic, NewTopic};
use crate::workplan::model as workplan;

/// What an import changed (or, on a dry run, would change).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema, schemars::JsonSchema)]
pub struct ImportReport {
    pub workplan: String,
    /// True when the workplan was new.
    pub created: bool,
    /// True when nothing was written: the report says what an import would change.
    pub dry_run: bool,
    pub changes: Vec<Change>,
    /// Tasks and decisions of the workplan in the database that the document does not list:
    /// kept as they are (`task:ID`, `decision:TITLE`).
    pub kept: Vec<String>,
}

/// One created or updated thing.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, schemars::JsonSchema)]
pub struct Change {
    /// `workplan`, `topic`, `workstream`, `task` or `decision`.
    pub kind: String,
    /// The id (a decision: its title).
    pub id: String,
    /// `created` or `updated`.
    pub action: String,
    /// The fields an update changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// For a task whose status moved: `from -> to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl Change {
    fn created(kind: &str, id: &str) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
            action: "created".into(),
            fields: Vec::new(),
            status: None,
        }
    }

    fn updated(kind: &str, id: &str, fields: Vec<String>) -> Self {
        Self {
            action: "updated".into(),
            fields,
            ..Self::created(kind, id)
        }
    }
}

/// Names of the fields where `a` and `b` differ, from `(name, differs)` pairs.
fn differing(pairs: &[(&str, bool)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(_, d)| *d)
        .map(|(n, _)| (*n).to_owned())
        .collect()
}

/// Imports a document: creates the workplan or brings it in line with the document. Nothing is
/// written when anything in the document is wrong, or when `dry_run` is set.
pub async fn import(
    ctx: &Ctx,
    who: &Principal,
    text: &str,
    dry_run: bool,
) -> Result<ImportReport, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let doc = parse::parse(text)?;
    who.require_domain(&doc.front.domain)?;
    let mut tx = ctx.begin().await?;
    hub_core::domain::service::check_usable(&*tx, who, &doc.front.domain, "domain").await?;
    let mut report = ImportReport {
        workplan: doc.front.id.clone(),
        dry_run,
        ..Default::default()
    };
    sync_topic(&mut tx, &doc, &mut report).await?;
    sync_workplan(&mut tx, who, &doc, &mut report).await?;
    let moves = sync_tasks(&mut tx, &doc, &mut report).await?;
    sync_decisions(&mut tx, who, &doc, &mut report).await?;
    if dry_run {
        return Ok(report);
    }
    if !report.changes.is_empty() {
        tx.emit("dev_workplan", "imported", &report.workplan, &report)
            .await?;
    }
    tx.commit().await?;
    for (id, from, to) in moves {
        let summary = format!(
            "{id}: {} -> {} (document import)",
            from.as_str(),
            to.as_str()
        );
        task_event(
            ctx,
            who,
            "task_status_changed",
            &id,
            &doc.front.id,
            &doc.front.domain,
            summary,
        )
        .await;
    }
    Ok(report)
}

async fn sync_topic(
    tx: &mut Tx<'_>,
    doc: &Document,
    report: &mut ImportReport,
) -> Result<(), HubError> {
    let Some(slug) = &doc.front.topic else {
        return Ok(());
    };
    if topic::find(&**tx, slug).await?.is_none() {
        let new = NewTopic {
            slug: slug.clone(),
            title: slug.clone(),
            domain: doc.front.domain.clone(),
        };
        topic::insert(tx, new).await?;
        report.changes.push(Change::created("topic", slug));
    }
    Ok(())
}

async fn sync_workplan(
    tx: &mut Tx<'_>,
    who: &Principal,
    doc: &Document,
    report: &mut ImportReport,
) -> Result<(), HubError> {
    let f = &doc.front;
    let sections = serde_json::to_value(&doc.sections)
        .map_err(|e| HubError::Internal(format!("sections: {e}")))?;
    let extra = Value::Object(f.extra.clone());
    let now = Utc::now();
    let Some(stored) = workplan::Entity::find_by_id(&f.id).one(&**tx).await? else {
        workplan::ActiveModel {
            id: Set(f.id.clone()),
            title: Set(f.title.clone()),
            domain: Set(f.domain.clone()),
            status: Set(f.status),
            owner: Set(f.owner.clone()),
            topic: Set(f.topic.clone()),
            body: Set(doc.body.clone()),
            sections: Set(sections),
            extra: Set(extra),
            created_at: Set(f.created.unwrap_or(now)),
            updated_at: Set(now),
        }
        .insert(&**tx)
        .await?;
        report.created = true;
        report.changes.push(Change::created("workplan", &f.id));
        return Ok(());
    };
    who.require_domain(&stored.domain)?;
    let fields = differing(&[
        ("title", stored.title != f.title),
        ("status", stored.status != f.status),
        ("owner", stored.owner != f.owner),
        ("domain", stored.domain != f.domain),
        ("topic", stored.topic != f.topic),
        ("body", stored.body != doc.body),
        ("sections", stored.sections != sections),
        ("extra", stored.extra != extra),
    ]);
    if fields.is_empty() {
        return Ok(());
    }
    if stored.domain != f.domain {
        task::Entity::update_many()
            .col_expr(
                task::Column::Domain,
                sea_orm::sea_query::Expr::value(f.domain.clone()),
            )
            .filter(task::Column::WorkplanId.eq(f.id.as_str()))
            .exec(&**tx)
            .await?;
    }
    let mut row = workplan::ActiveModel::from(stored);
    row.title = Set(f.title.clone());
    row.status = Set(f.status);
    row.owner = Set(f.owner.clone());
    row.domain = Set(f.domain.clone());
    row.topic = Set(f.topic.clone());
    row.body = Set(doc.body.clone());
    row.sections = Set(sections);
    row.extra = Set(extra);
    row.updated_at = Set(now);
    row.update(&**tx).await?;
    report
        .changes
        .push(Change::updated("workplan", &f.id, fields));
    Ok(())
}

/// `Invalid` on field `document` with one `line N: …` message per problem.
fn document_problems(problems: Vec<String>) -> Result<(), HubError> {
    if problems.is_empty() {
        return Ok(());
    }
    Err(HubError::Invalid(
        problems
            .into_iter()
            .map(|m| hub_core::error::FieldError::new("document", m))
            .collect(),
    ))
}

/// Brings the workplan's tasks in line with the document; returns the status moves.
async fn sync_tasks(
    tx: &mut Tx<'_>,
    doc: &Document,
    report: &mut ImportReport,
) -> Result<Vec<(String, TaskStatus, TaskStatus)>, HubError> {
    let wp = &doc.front.id;
    let stored: HashMap<String, task::Model> = task::Entity::find()
        .filter(task::Column::WorkplanId.eq(wp.as_str()))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    let stored_ids: Vec<String> = stored.keys().cloned().collect();
    let stored_deps = deps::of(&**tx, &stored_ids).await?;
    let doc_ids: Vec<String> = doc.tasks.iter().map(|t| t.id.clone()).collect();
    let in_doc: HashSet<&str> = doc_ids.iter().map(String::as_str).collect();

    // Ids taken by other workplans, and dependencies outside the document.
    let mut problems = Vec::new();
    let elsewhere = owners(&**tx, &doc_ids).await?;
    for t in &doc.tasks {
        if let Some(other) = elsewhere.get(&t.id).filter(|o| *o != wp) {
            problems.push(format!(
                "line {}: task {} belongs to workplan {other}",
                t.line, t.id
            ));
        }
    }
    let outside: Vec<String> = doc
        .tasks
        .iter()
        .flat_map(|t| t.depends_on.iter())
        .filter(|d| !in_doc.contains(d.as_str()))
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let outside_status = statuses(&**tx, &outside).await?;
    for t in &doc.tasks {
        for d in &t.depends_on {
            if *d == t.id {
                problems.push(format!("line {}: task {} depends on itself", t.line, t.id));
            } else if !in_doc.contains(d.as_str()) && !outside_status.contains_key(d) {
                problems.push(format!(
                    "line {}: task {} depends on unknown task {d}",
                    t.line, t.id
                ));
            }
        }
    }
    document_problems(problems)?;
    let graph = doc
        .tasks
        .iter()
        .map(|t| (t.id.clone(), t.depends_on.clone()))
        .collect();
    if let Some(cycle) = deps::find_cycle(&**tx, graph).await? {
        let line = cycle
            .iter()
            .find_map(|id| doc.tasks.iter().find(|t| t.id == *id).map(|t| t.line))
            .unwrap_or(1);
        return Err(HubError::invalid(
            "document",
            format!("line {line}: dependency cycle: {}", cycle.join(" -> ")),
        ));
    }
    let status_of = |id: &str| -> Option<TaskStatus> {
        doc.tasks
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.status)
            .or_else(|| outside_status.get(id).copied())
    };
    for t in doc.tasks.iter().filter(|t| t.status == TaskStatus::Done) {
        let open: Vec<&str> = t
            .depends_on
            .iter()
            .filter(|d| status_of(d).is_some_and(TaskStatus::is_open))
            .map(String::as_str)
            .collect();
        if !open.is_empty() {
            return Err(HubError::Conflict(format!(
                "line {}: task {} cannot be done while its dependencies are open: {}",
                t.line,
                t.id,
                open.join(", ")
            )));
        }
    }

    let streams: Vec<String> = doc
        .tasks
        .iter()
        .filter_map(|t| t.workstream.clone())
        .collect();
    for name in crate::workstream::service::ensure(tx, wp, &streams).await? {
        report.changes.push(Change::created("workstream", &name));
    }

    let now = Utc::now();
    let mut new_rows = Vec::new();
    let mut new_edges = Vec::new();
    let mut moves = Vec::new();
    for (k, t) in doc.tasks.iter().enumerate() {
        let position = k as i32 + 1;
        let extra = Value::Object(t.extra.clone());
        let Some(s) = stored.get(&t.id) else {
            new_rows.push(new_task(doc, t, position, extra, now));
            new_edges.extend(t.depends_on.iter().map(|d| (t.id.clone(), d.clone())));
            report.changes.push(Change::created("task", &t.id));
            continue;
        };
        let mut wanted = t.depends_on.clone();
        wanted.sort();
        wanted.dedup();
        let had = stored_deps.get(&t.id).cloned().unwrap_or_default();
        let fields = differing(&[
            ("title", s.title != t.title),
            ("body", s.body != t.body),
            ("status", s.status != t.status),
            ("priority", s.priority != t.priority),
            ("assignee", s.assignee != t.assignee),
            ("phase", s.phase != t.phase),
            ("workstream", s.workstream != t.workstream),
            ("position", s.position != position),
            ("extra", s.extra != extra),
            ("depends_on", had != wanted),
        ]);
        if fields.is_empty() {
            continue;
        }
        if had != wanted {
            deps::replace(&**tx, &t.id, &wanted).await?;
        }
        let mut change = Change::updated("task", &t.id, fields);
        if s.status != t.status {
            change.status = Some(format!("{} -> {}", s.status.as_str(), t.status.as_str()));
            moves.push((t.id.clone(), s.status, t.status));
        }
        report.changes.push(change);
        let mut row = task::ActiveModel::from(s.clone());
        row.title = Set(t.title.clone());
        row.body = Set(t.body.clone());
        row.status = Set(t.status);
        row.priority = Set(t.priority);
        row.assignee = Set(t.assignee.clone());
        row.phase = Set(t.phase.clone());
        row.workstream = Set(t.workstream.clone());
        row.position = Set(position);
        row.extra = Set(extra);
        row.updated_at = Set(now);
        if !t.status.is_open() {
            row.claimed_by = Set(None);
            row.claim_expires_at = Set(None);
        }
        row.update(&**tx).await?;
    }
    for chunk in new_rows.chunks(200) {
        task::Entity::insert_many(chunk.to_vec())
            .exec(&**tx)
            .await?;
    }
    deps::insert(&**tx, new_edges).await?;
    let mut kept: Vec<String> = stored_ids
        .into_iter()
        .filter(|id| !in_doc.contains(id.as_str()))
        .map(|id| format!("task:{id}"))
        .collect();
    kept.sort();
    report.kept.extend(kept);
    Ok(moves)
}

fn new_task(
    doc: &Document,
    t: &DocTask,
    position: i32,
    extra: Value,
    now: chrono::DateTime<Utc>,
) -> task::ActiveModel {
    task::ActiveModel {
        id: Set(t.id.clone()),
        workplan_id: Set(doc.front.id.clone()),
        domain: Set(doc.front.domain.clone()),
        title: Set(t.title.clone()),
        body: Set(t.body.clone()),
        status: Set(t.status),
        priority: Set(t.priority),
        assignee: Set(t.assignee.clone()),
        phase: Set(t.phase.clone()),
        workstream: Set(t.workstream.clone()),
        position: Set(position),
        extra: Set(extra),
        claimed_by: Set(None),
        claim_expires_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The workplan of each of `ids` that exists.
async fn owners(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, String>, HubError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = task::Entity::find()
            .select_only()
            .column(task::Column::Id)
            .column(task::Column::WorkplanId)
            .filter(task::Column::Id.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// The status of each of `ids` that exists.
async fn statuses(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, TaskStatus>, HubError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, TaskStatus)> = task::Entity::find()
            .select_only()
            .column(task::Column::Id)
            .column(task::Column::Status)
            .filter(task::Column::Id.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

async fn sync_decisions(
    tx: &mut Tx<'_>,
    who: &Principal,
    doc: &Document,
    report: &mut ImportReport,
) -> Result<(), HubError> {
    let wp = &doc.front.id;
    let stored = crate::decision::service::of_workplan(&**tx, wp).await?;
    let now = Utc::now();
    for (k, d) in doc.decisions.iter().enumerate() {
        let position = k as i32 + 1;
        match stored.iter().find(|s| s.title == d.title) {
            None => {
                new_decision(doc, d, position, who, now)
                    .insert(&**tx)
                    .await?;
                report.changes.push(Change::created("decision", &d.title));
            }
            Some(s) => {
                let fields = differing(&[
                    ("choice", s.choice != d.choice),
                    ("rationale", s.rationale != d.rationale),
                    ("section", s.section != d.section),
                    ("position", s.position != position),
                    ("domain", s.domain != doc.front.domain),
                ]);
                if fields.is_empty() {
                    continue;
                }
                let mut row = decision::ActiveModel::from(s.clone());
                row.choice = Set(d.choice.clone());
                row.rationale = Set(d.rationale.clone());
                row.section = Set(d.section.clone());
                row.position = Set(position);
                row.domain = Set(doc.front.domain.clone());
                row.updated_at = Set(now);
                row.update(&**tx).await?;
                report
                    .changes
                    .push(Change::updated("decision", &d.title, fields));
            }
        }
    }
    report.kept.extend(
        stored
            .iter()
            .filter(|s| !doc.decisions.iter().any(|d| d.title == s.title))
            .map(|s| format!("decision:{}", s.title)),
    );
    Ok(())
}

fn new_decision(
    doc: &Document,
    d: &DocDecision,
    position: i32,
    who: &Principal,
    now: chrono::DateTime<Utc>,
) -> decision::ActiveModel {
    decision::ActiveModel {
        id: Set(hub_core::ids::new_id()),
        domain: Set(doc.front.domain.clone()),
        workplan_id: Set(Some(doc.front.id.clone())),
        title: Set(d.title.clone()),
        choice: Set(d.choice.clone()),
        rationale: Set(d.rationale.clone()),
        status: Set(DecisionStatus::Accepted),
        section: Set(d.section.clone()),
        position: Set(position),
        tasks: Set(Value::Array(Vec::new())),
        created_by: Set(who.sub.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The workplan `id` as a document.
pub async fn export(ctx: &Ctx, who: &Principal, id: &str) -> Result<String, HubError> {
    let wp = crate::workplan::service::get(ctx, who, id).await?;
    let tasks = task::Entity::find()
        .filter(task::Column::WorkplanId.eq(id))
        .order_by_asc(task::Column::Position)
        .order_by_asc(task::Column::Id)
        .all(&ctx.db)
        .await?;
    let tasks = with_deps(&ctx.db, tasks).await?;
    let decisions = crate::decision::service::of_workplan(&ctx.db, id).await?;
    Ok(render(&wp, &tasks, &decisions))
}
