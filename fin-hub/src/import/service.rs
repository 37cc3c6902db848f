//! Import rules: the file is read twice with bounded memory. The first pass checks it as a
//! whole (header, record sizes), so a malformed file writes nothing; the second writes valid
//! rows in batches, one transaction each, skipping rows already in the ledger and listing the
//! rejected ones with their line numbers.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::sync::Arc;

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::Value;
use tokio::sync::mpsc;

use super::model::{self, ImportFormat, ImportKind, ImportStatus};
use super::read::{Records, Row, RowContext, RowError, layout};
use crate::config::FinConfig;
use crate::signal::{Changed, Touched};
use crate::spend::service::{Entry, insert_entries};
use crate::token_spend::service::{TokenRow, insert_rows};

/// Rows per batch of the second pass, each written in one transaction (one insert statement).
/// A commit writes every page it dirtied, and the ledger's key index takes rows in random
/// places, so larger commits share more of its pages: 10,000 rows cut the time per row by a
/// third against 2,000. The reader holds one batch and the channel two, so peak memory stays
/// near 100 MB for any file size.
pub const BATCH_ROWS: usize = 10_000;

/// On SQLite, the commit that takes the WAL past this many pages copies it into the database
/// file. A batch dirties thousands of pages, so at SQLite's default every batch checkpointed;
/// while an import runs, pages that several batches dirty are copied once. The setting belongs to
/// the writer's connection, so a crash forgets it.
const IMPORT_CHECKPOINT_PAGES: u32 = 10_000;
/// SQLite's own default, restored when the import ends.
const DEFAULT_CHECKPOINT_PAGES: u32 = 1000;

/// Row errors kept in the import's report; the rest are only counted.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// How to read a file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub kind: ImportKind,
    /// Detected from the header when absent.
    pub format: Option<ImportFormat>,
    /// The domain of every row (else each row's `domain` / `SubAccountName` column).
    pub domain: Option<String>,
    /// Field -> column name, for exports in other conventions.
    pub mapping: BTreeMap<String, String>,
    pub filename: Option<String>,
}

/// One batch of the second pass.
struct Batch {
    costs: Vec<Entry>,
    tokens: Vec<TokenRow>,
    errors: Vec<RowError>,
    rows: u64,
}

/// Where the second pass ended.
enum Pass {
    Batch(Batch),
    Failed(String),
}

/// Everything the reading thread needs, owned.
struct Job {
    kind: ImportKind,
    opts: ImportOptions,
    known: HashSet<String>,
    who: Principal,
    cfg: Arc<FinConfig>,
    import_id: String,
}

/// First pass: the layout of the file, or why it cannot be imported at all.
fn check(file: &mut File, job: &Job) -> Result<ImportFormat, String> {
    let mut records = Records::open(&*file, job.cfg.max_record_bytes)?;
    let layout = layout(
        job.kind,
        job.opts.format,
        &job.opts.mapping,
        &records.headers,
        job.opts.domain.is_some(),
    )?;
    while records.next_record()?.is_some() {}
    Ok(layout.format)
}

/// Second pass: sends batches of rows until the file ends.
fn read_rows(file: &mut File, job: &Job, out: &mpsc::Sender<Pass>) -> Result<(), String> {
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let mut records = Records::open(&*file, job.cfg.max_record_bytes)?;
    let layout = layout(
        job.kind,
        job.opts.format,
        &job.opts.mapping,
        &records.headers,
        job.opts.domain.is_some(),
    )?;
    let ctx = RowContext {
        kind: job.kind,
        layout: &layout,
        domain: job.opts.domain.as_deref(),
        known: &job.known,
        who: &job.who,
        cfg: &job.cfg,
        import_id: &job.import_id,
    };
    let fresh = || Batch {
        costs: Vec::new(),
        tokens: Vec::new(),
        errors: Vec::new(),
        rows: 0,
    };
    let mut batch = fresh();
    while let Some((line, rec)) = records.next_record()? {
        batch.rows += 1;
        match ctx.row(rec, line) {
            Ok(Row::Cost(e)) => batch.costs.push(e),
            Ok(Row::Token(t)) => batch.tokens.push(t),
            Err(e) => batch.errors.push(e),
        }
        if batch.rows as usize >= BATCH_ROWS {
            let full = std::mem::replace(&mut batch, fresh());
            if out.blocking_send(Pass::Batch(full)).is_err() {
                return Ok(()); // the writer stopped; it reports why
            }
        }
    }
    let _ = out.blocking_send(Pass::Batch(batch));
    Ok(())
}

/// Imports a CSV file (read from its start). Valid rows are written, rows already in the
/// ledger are skipped, and the import's record lists the rejected rows; a file that cannot be
/// read as a whole (header, encoding of the header, a record over the size limit) is refused
/// with a 422 naming `file`, and nothing is written.
pub async fn import(
    ctx: &Ctx,
    who: &Principal,
    cfg: Arc<FinConfig>,
    file: File,
    opts: ImportOptions,
) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new()
        .opt_text(opts.filename.as_deref(), "filename", 200)
        .finish()?;
    if let Some(d) = &opts.domain {
        hub_core::domain::service::check_usable(&ctx.db, who, d, "domain").await?;
    }
    let known: HashSet<String> = hub_core::domain::model::Entity::find()
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|d| d.slug)
        .collect();
    let job = Arc::new(Job {
        kind: opts.kind,
        opts: opts.clone(),
        known,
        who: who.clone(),
        cfg,
        import_id: hub_core::ids::new_id(),
    });

    let (file, format) = {
        let job = job.clone();
        tokio::task::spawn_blocking(move || {
            let mut file = file;
            let format = check(&mut file, &job);
            (file, format)
        })
        .await
        .map_err(|e| HubError::Internal(format!("import reader: {e}")))?
    };
    let format = format.map_err(|m| match m.split_once(": ") {
        Some((field @ ("map" | "format"), msg)) => HubError::invalid(field, msg),
        _ => HubError::invalid("file", m),
    })?;

    let mut tx = ctx.begin().await?;
    let row = model::ActiveModel {
        id: Set(job.import_id.clone()),
        kind: Set(opts.kind),
        format: Set(format),
        filename: Set(opts.filename.clone()),
        status: Set(ImportStatus::Running),
        rows: Set(0),
        inserted: Set(0),
        duplicates: Set(0),
        rejected: Set(0),
        errors: Set(Value::Array(Vec::new())),
        error: Set(None),
        created_by: Set(who.sub.clone()),
        created_at: Set(Utc::now()),
        finished_at: Set(None),
    }
    .insert(&*tx)
    .await?;
    tx.emit("fin_import", "started", &row.id, &row).await?;
    checkpoint_every(&*tx, IMPORT_CHECKPOINT_PAGES).await?;
    tx.commit().await?;

    let (send, mut batches) = mpsc::channel::<Pass>(2);
    let reader = {
        let job = job.clone();
        tokio::task::spawn_blocking(move || {
            let mut file = file;
            if let Err(m) = read_rows(&mut file, &job, &send) {
                let _ = send.blocking_send(Pass::Failed(m));
            }
        })
    };
    let mut totals = (0i64, 0i64, 0i64, 0i64); // rows, inserted, duplicates, rejected
    let mut errors: Vec<RowError> = Vec::new();
    let mut touched = Touched::default();
    let mut failure = None;
    while let Some(pass) = batches.recv().await {
        let batch = match pass {
            Pass::Batch(b) => b,
            Pass::Failed(m) => {
                failure = Some(m);
                break;
            }
        };
        let valid = (batch.costs.len() + batch.tokens.len()) as i64;
        let written = match write_batch(ctx, &job.import_id, &batch).await {
            Ok(w) => w,
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        };
        totals.0 += batch.rows as i64;
        totals.1 += written.0 as i64;
        totals.2 += valid - written.0 as i64;
        totals.3 += batch.errors.len() as i64;
        touched.merge(written.1);
        let room = MAX_REPORTED_ERRORS.saturating_sub(errors.len());
        errors.extend(batch.errors.into_iter().take(room));
    }
    drop(batches);
    reader
        .await
        .map_err(|e| HubError::Internal(format!("import reader: {e}")))?;

    let mut tx = ctx.begin().await?;
    let mut done: model::ActiveModel = row.into();
    done.status = Set(if failure.is_some() {
        ImportStatus::Failed
    } else {
        ImportStatus::Completed
    });
    done.rows = Set(totals.0);
    done.inserted = Set(totals.1);
    done.duplicates = Set(totals.2);
    done.rejected = Set(totals.3);
    done.errors =
        Set(serde_json::to_value(&errors).map_err(|e| HubError::Internal(e.to_string()))?);
    done.error = Set(failure);
    done.finished_at = Set(Some(Utc::now()));
    let done = done.update(&*tx).await?;
    checkpoint_every(&*tx, DEFAULT_CHECKPOINT_PAGES).await?;
    tx.emit(
        "fin_import",
        "finished",
        &done.id,
        &Changed {
            row: &done,
            touched: &touched,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

/// Writes one batch in its own transaction; returns the rows inserted and what they touched.
async fn write_batch(
    ctx: &Ctx,
    import_id: &str,
    batch: &Batch,
) -> Result<(usize, Touched), HubError> {
    if batch.costs.is_empty() && batch.tokens.is_empty() {
        return Ok((0, Touched::default()));
    }
    let mut tx = ctx.begin().await?;
    let mut written = insert_entries(&*tx, &batch.costs).await?;
    let tokens = insert_rows(&*tx, &batch.tokens).await?;
    written.ids.extend(tokens.ids);
    written.touched.merge(tokens.touched);
    #[derive(serde::Serialize)]
    struct Imported<'a> {
        import_id: &'a str,
        inserted: usize,
    }
    let inserted = written.ids.len();
    tx.emit(
        "fin_spend",
        "imported",
        import_id,
        &Imported {
            import_id,
            inserted,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((inserted, written.touched))
}

pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    model::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|i| who.domains.is_none() || i.created_by == who.sub)
        .ok_or_else(|| HubError::not_found("import", id))
}

/// Imports newest first; a principal limited to domains sees only its own.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_desc(model::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Id.lt(after.as_str()));
    }
    if who.domains.is_some() {
        q = q.filter(model::Column::CreatedBy.eq(who.sub.as_str()));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |i| i.id.clone()))
}

/// Sets SQLite's WAL auto-checkpoint interval of the connection `db` writes through; nothing on
/// PostgreSQL.
async fn checkpoint_every(db: &impl ConnectionTrait, pages: u32) -> Result<(), HubError> {
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared(&format!("PRAGMA wal_autocheckpoint = {pages}"))
            .await?;
    }
    Ok(())
}
