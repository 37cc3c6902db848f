//! Capability rules: catalog names are unique; a request moves through its lifecycle only along
//! [`transition_allowed`], each move made by the party it belongs to, and only one of two
//! concurrent moves can win.

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::bus::{Answer, Routed};
use super::model::{Status, capability, request};
use crate::api::page::{Page, PageRequest, page_of};
use crate::auth::{Access, Principal};
use crate::ctx::{Ctx, Tx};
use crate::db::contains_ci;
use crate::domain::service::check_usable;
use crate::error::{HubError, Validator, is_slug};
use crate::ids::new_id;

/// A new catalog entry's fields; the provider is the caller.
#[derive(Debug, Clone)]
pub struct NewCapability {
    pub name: String,
    pub description: Option<String>,
    /// A JSON Schema object describing the request input.
    pub input_schema: Option<Value>,
    pub domain: Option<String>,
}

/// Catalog list filters.
#[derive(Debug, Clone, Default)]
pub struct CapabilityFilter {
    pub provider: Option<String>,
    pub domain: Option<String>,
    /// Case-insensitive substring of the name or description.
    pub q: Option<String>,
}

/// A new request's fields; the requester is the caller.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// The catalog entry's name.
    pub capability: String,
    pub input: Option<Value>,
    pub note: Option<String>,
    /// Defaults to the catalog entry's domain.
    pub domain: Option<String>,
}

/// The caller's side of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Requests the caller made.
    Requester,
    /// Requests addressed to the caller.
    Provider,
}

/// Request list filters.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub status: Option<Status>,
    pub capability: Option<String>,
    pub role: Option<Role>,
    pub domain: Option<String>,
}

/// A requested status change.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub status: Status,
    pub note: Option<String>,
    /// The outcome; only with `fulfilled`.
    pub result: Option<Value>,
}

/// The one table of lifecycle moves: `requested -> accepted -> in_progress -> fulfilled`, and
/// `rejected` or `cancelled` from any open state. Terminal states never change.
pub fn transition_allowed(from: Status, to: Status) -> bool {
    use Status::*;
    matches!(
        (from, to),
        (Requested, Accepted | Rejected | Cancelled)
            | (Accepted, InProgress | Rejected | Cancelled)
            | (InProgress, Fulfilled | Rejected | Cancelled)
    )
}

/// The party who may move a request to `to`: the requester cancels, the provider does the rest.
fn party_for(to: Status) -> Role {
    match to {
        Status::Cancelled => Role::Requester,
        _ => Role::Provider,
    }
}

#[derive(Serialize)]
struct CapabilityEvent<'a> {
    name: &'a str,
    provider: &'a str,
    hub: &'a str,
    domain: Option<&'a str>,
}

#[derive(Serialize)]
struct RequestEvent<'a> {
    id: &'a str,
    capability: &'a str,
    requester: &'a str,
    provider: &'a str,
    domain: Option<&'a str>,
    status: Status,
}

#[derive(Serialize)]
struct StatusEvent<'a> {
    id: &'a str,
    capability: &'a str,
    requester: &'a str,
    provider: &'a str,
    from: Status,
    to: Status,
    by: &'a str,
}

/// Catalog names: 1..=100 characters of `a-z0-9-_.`, starting and ending with a letter or digit.
fn is_capability_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    name.len() <= 100
        && edge(name.chars().next())
        && edge(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// Rows without a domain, or in one of the principal's domains (when it is limited).
fn in_allowed_domains(col: impl ColumnTrait, who: &Principal) -> Condition {
    match &who.domains {
        None => Condition::all(),
        Some(allowed) => Condition::any()
            .add(col.is_null())
            .add(col.is_in(allowed.iter().cloned())),
    }
}

pub async fn register(
    ctx: &Ctx,
    who: &Principal,
    new: NewCapability,
) -> Result<capability::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new()
        .check(
            is_capability_name(&new.name),
            "name",
            "must be 1-100 characters of a-z, 0-9, '-', '_' or '.', starting and ending with a letter or digit",
        )
        .check(
            new.description.as_ref().is_none_or(|d| d.chars().count() <= 4000),
            "description",
            "must be at most 4000 characters",
        )
        .check(
            new.input_schema.as_ref().is_none_or(Value::is_object),
            "input_schema",
            "must be a JSON object",
        )
        .finish()?;
    if let Some(domain) = &new.domain {
        check_usable(&ctx.db, who, domain, "domain").await?;
    }
    let mut tx = ctx.begin().await?;
    let row = capability::ActiveModel {
        name: Set(new.name.clone()),
        provider: Set(who.sub.clone()),
        hub: Set(ctx.hub.to_string()),
        description: Set(new.description.unwrap_or_default()),
        input_schema: Set(new.input_schema),
        domain: Set(new.domain),
        created_at: Set(Utc::now()),
    }
    .insert(&*tx)
    .await
    .map_err(|e| {
        HubError::from_db_unique(e, || format!("capability {} already exists", new.name))
    })?;
    tx.emit(
        "capability",
        "registered",
        &row.name,
        &CapabilityEvent {
            name: &row.name,
            provider: &row.provider,
            hub: &row.hub,
            domain: row.domain.as_deref(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The catalog, by name; entries of domains the caller may not use are left out.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    filter: &CapabilityFilter,
    page: &PageRequest,
) -> Result<Page<capability::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = capability::Entity::find()
        .filter(in_allowed_domains(capability::Column::Domain, who))
        .order_by_asc(capability::Column::Name)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(capability::Column::Name.gt(after.as_str()));
    }
    if let Some(provider) = &filter.provider {
        q = q.filter(capability::Column::Provider.eq(provider.as_str()));
    }
    if let Some(domain) = &filter.domain {
        who.require_domain(domain)?;
        q = q.filter(capability::Column::Domain.eq(domain.as_str()));
    }
    if let Some(text) = filter.q.as_deref().filter(|t| !t.is_empty()) {
        q = q.filter(
            Condition::any()
                .add(contains_ci(capability::Column::Name, text))
                .add(contains_ci(capability::Column::Description, text)),
        );
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |c| c.name.clone()))
}

/// Creates a request. `capability` names an entry of this hub's catalog, or `name@hub` one of
/// another hub's: that request is routed there (see [`super::bus`]) and mirrored here.
pub async fn create_request(
    ctx: &Ctx,
    who: &Principal,
    mut new: NewRequest,
) -> Result<request::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new()
        .text(&new.capability, "capability", 200)
        .check(
            new.note.as_ref().is_none_or(|n| n.chars().count() <= 4000),
            "note",
            "must be at most 4000 characters",
        )
        .finish()?;
    if let Some((name, hub)) = new.capability.split_once('@') {
        Validator::new()
            .check(
                is_capability_name(name) && is_slug(hub),
                "capability",
                "must be a capability name, optionally followed by @hub",
            )
            .finish()?;
        if hub != &*ctx.hub {
            let (name, hub) = (name.to_owned(), hub.to_owned());
            return create_remote(ctx, who, &name, &hub, new).await;
        }
        new.capability = name.to_owned();
    }
    let entry = capability::Entity::find_by_id(new.capability.as_str())
        .one(&ctx.db)
        .await?
        .ok_or_else(|| {
            HubError::invalid(
                "capability",
                format!("unknown capability {}", new.capability),
            )
        })?;
    let domain = new.domain.or(entry.domain);
    if let Some(domain) = &domain {
        check_usable(&ctx.db, who, domain, "domain").await?;
    }
    let now = Utc::now();
    insert_request(
        ctx,
        request::Model {
            id: new_id(),
            capability: entry.name,
            requester: who.sub.clone(),
            provider: entry.provider,
            domain,
            status: Status::Requested,
            input: new.input,
            note: new.note,
            status_note: None,
            result: None,
            created_at: now,
            updated_at: now,
        },
        None,
    )
    .await
}

/// Routes a request for `name` to hub `hub` and mirrors the created request here, with the
/// provider's id, `name@hub` as capability and `provider@hub` as provider.
async fn create_remote(
    ctx: &Ctx,
    who: &Principal,
    name: &str,
    hub: &str,
    new: NewRequest,
) -> Result<request::Model, HubError> {
    if let Some(domain) = &new.domain {
        check_usable(&ctx.db, who, domain, "domain").await?;
    }
    let routed = Routed {
        id: new_id(),
        hub: ctx.hub.to_string(),
        requester: who.sub.clone(),
        capability: name.to_owned(),
        input: new.input.clone(),
        note: new.note.clone(),
    };
    match super::bus::ask(ctx, hub, &routed).await? {
        Answer::Created {
            provider,
            created_at,
        } => {
            insert_request(
                ctx,
                request::Model {
                    id: routed.id,
                    capability: format!("{name}@{hub}"),
                    requester: who.sub.clone(),
                    provider: format!("{provider}@{hub}"),
                    domain: new.domain,
                    status: Status::Requested,
                    input: new.input,
                    note: new.note,
                    status_note: None,
                    result: None,
                    created_at,
                    updated_at: created_at,
                },
                Some(capability::Model {
                    name: format!("{name}@{hub}"),
                    provider: format!("{provider}@{hub}"),
                    hub: hub.to_owned(),
                    description: format!("served by hub {hub}"),
                    input_schema: None,
                    domain: None,
                    created_at,
                }),
            )
            .await
        }
        Answer::Refused { errors } => Err(HubError::Invalid(errors)),
        Answer::Failed { message } => Err(HubError::Unavailable(format!("hub {hub}: {message}"))),
    }
}

/// Creates a request hub `origin` routed here for its principal `requester`, stored as
/// `requester@origin`, with the id `origin` chose. The same id again from the same requester
/// (a retry after a lost answer) returns the request made the first time.
pub async fn create_routed(
    ctx: &Ctx,
    origin: &str,
    requester: &str,
    id: &str,
    new: NewRequest,
) -> Result<request::Model, HubError> {
    Validator::new()
        .check(
            is_slug(origin) && origin != &*ctx.hub,
            "hub",
            "must be another hub's name",
        )
        .text(requester, "requester", 200)
        .text(id, "id", 64)
        .text(&new.capability, "capability", 100)
        .check(
            new.note.as_ref().is_none_or(|n| n.chars().count() <= 4000),
            "note",
            "must be at most 4000 characters",
        )
        .finish()?;
    let requester = format!("{requester}@{origin}");
    if let Some(existing) = request::Entity::find_by_id(id).one(&ctx.db).await? {
        return match existing.requester == requester {
            true => Ok(existing),
            false => Err(HubError::Conflict(format!(
                "capability request {id} already exists"
            ))),
        };
    }
    let entry = capability::Entity::find_by_id(new.capability.as_str())
        .one(&ctx.db)
        .await?
        .ok_or_else(|| {
            HubError::invalid(
                "capability",
                format!("unknown capability {} at {}", new.capability, ctx.hub),
            )
        })?;
    let now = Utc::now();
    insert_request(
        ctx,
        request::Model {
            id: id.to_owned(),
            capability: entry.name,
            requester,
            provider: entry.provider,
            domain: entry.domain,
            status: Status::Requested,
            input: new.input,
            note: new.note,
            status_note: None,
            result: None,
            created_at: now,
            updated_at: now,
        },
        None,
    )
    .await
}

/// Inserts `row` and its `capability_request.created` event; with `remote`, first the catalog
/// entry `name@hub` the mirror of a routed request refers to (kept if it exists).
async fn insert_request(
    ctx: &Ctx,
    row: request::Model,
    remote: Option<capability::Model>,
) -> Result<request::Model, HubError> {
    let mut tx = ctx.begin().await?;
    if let Some(entry) = remote {
        capability::Entity::insert(entry.into_active_model().reset_all())
            .on_conflict(
                OnConflict::column(capability::Column::Name)
                    .update_column(capability::Column::Provider)
                    .to_owned(),
            )
            .exec_without_returning(&*tx)
            .await?;
    }
    let row = row
        .into_active_model()
        .reset_all()
        .insert(&*tx)
        .await
        .map_err(|e| HubError::from_db_unique(e, || "capability request already exists".into()))?;
    tx.emit(
        "capability_request",
        "created",
        &row.id,
        &RequestEvent {
            id: &row.id,
            capability: &row.capability,
            requester: &row.requester,
            provider: &row.provider,
            domain: row.domain.as_deref(),
            status: row.status,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Requests the caller may see, newest first: its own and those addressed to it (every request
/// for `hub:admin`), within its domains.
pub async fn list_requests(
    ctx: &Ctx,
    who: &Principal,
    filter: &RequestFilter,
    page: &PageRequest,
) -> Result<Page<request::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = request::Entity::find()
        .filter(in_allowed_domains(request::Column::Domain, who))
        .order_by_desc(request::Column::Id)
        .limit(page.limit + 1);
    if !who.has(&ctx.hub, Access::Admin) {
        q = q.filter(
            Condition::any()
                .add(request::Column::Requester.eq(who.sub.as_str()))
                .add(request::Column::Provider.eq(who.sub.as_str())),
        );
    }
    if let Some(after) = &page.after {
        q = q.filter(request::Column::Id.lt(after.as_str()));
    }
    match filter.role {
        Some(Role::Requester) => q = q.filter(request::Column::Requester.eq(who.sub.as_str())),
        Some(Role::Provider) => q = q.filter(request::Column::Provider.eq(who.sub.as_str())),
        None => {}
    }
    if let Some(status) = filter.status {
        q = q.filter(request::Column::Status.eq(status));
    }
    if let Some(capability) = &filter.capability {
        q = q.filter(request::Column::Capability.eq(capability.as_str()));
    }
    if let Some(domain) = &filter.domain {
        who.require_domain(domain)?;
        q = q.filter(request::Column::Domain.eq(domain.as_str()));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |r| r.id.clone()))
}

/// One request, if the caller may see it; else `NotFound`.
pub async fn get_request(ctx: &Ctx, who: &Principal, id: &str) -> Result<request::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    request::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|r| {
            (r.requester == who.sub || r.provider == who.sub || who.has(&ctx.hub, Access::Admin))
                && r.domain.as_deref().is_none_or(|d| who.may_use_domain(d))
        })
        .ok_or_else(|| HubError::not_found("capability request", id))
}

/// The provider accepts a request.
pub async fn accept(ctx: &Ctx, who: &Principal, id: &str) -> Result<request::Model, HubError> {
    let change = StatusChange {
        status: Status::Accepted,
        note: None,
        result: None,
    };
    change_status(ctx, who, id, change).await
}

/// Moves a request along its lifecycle. The update only applies while the request is still in
/// the state it was read in, so of two concurrent moves one wins and the other is a `Conflict`.
pub async fn change_status(
    ctx: &Ctx,
    who: &Principal,
    id: &str,
    change: StatusChange,
) -> Result<request::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    Validator::new()
        .check(
            change
                .note
                .as_ref()
                .is_none_or(|n| n.chars().count() <= 4000),
            "note",
            "must be at most 4000 characters",
        )
        .check(
            change.result.is_none() || change.status == Status::Fulfilled,
            "result",
            "may only be given with status fulfilled",
        )
        .finish()?;
    let current = get_request(ctx, who, id).await?;
    if let Some((_, hub)) = current.capability.split_once('@') {
        return Err(HubError::Conflict(format!(
            "capability request {id} lives at hub {hub}; its status changes there"
        )));
    }
    let (party, scope) = match party_for(change.status) {
        Role::Requester => (&current.requester, "capability_request:requester"),
        Role::Provider => (&current.provider, "capability_request:provider"),
    };
    if *party != who.sub {
        return Err(HubError::Forbidden {
            scope: scope.into(),
        });
    }
    let mut tx = ctx.begin().await?;
    let row = move_status(&mut tx, &current, change, &who.sub).await?;
    super::bus::send_back(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(row)
}

/// Moves `current` to `change.status` inside `tx` and writes the `status_changed` event.
/// The update only applies while the request is still in the state it was read in, so of two
/// concurrent moves one wins and the other is a `Conflict`; an illegal move is a `Conflict` too.
pub(super) async fn move_status(
    tx: &mut Tx<'_>,
    current: &request::Model,
    change: StatusChange,
    by: &str,
) -> Result<request::Model, HubError> {
    let id = current.id.as_str();
    let illegal = |from: Status| {
        HubError::Conflict(format!(
            "capability request {id} is {from} and cannot become {}",
            change.status
        ))
    };
    if !transition_allowed(current.status, change.status) {
        return Err(illegal(current.status));
    }
    let mut update = request::Entity::update_many()
        .col_expr(request::Column::Status, Expr::value(change.status))
        .col_expr(request::Column::StatusNote, Expr::value(change.note))
        .col_expr(request::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Status.eq(current.status));
    if let Some(result) = change.result {
        update = update.col_expr(request::Column::Result, Expr::value(result));
    }
    let won = update.exec(&**tx).await?.rows_affected == 1;
    let row = request::Entity::find_by_id(id)
        .one(&**tx)
        .await?
        .ok_or_else(|| HubError::not_found("capability request", id))?;
    if !won {
        return Err(illegal(row.status));
    }
    tx.emit(
        "capability_request",
        "status_changed",
        &row.id,
        &StatusEvent {
            id: &row.id,
            capability: &row.capability,
            requester: &row.requester,
            provider: &row.provider,
            from: current.status,
            to: row.status,
            by,
        },
    )
    .await?;
    Ok(row)
}

/// How many requests are open (`requested`, `accepted` or `in_progress`), in `domain` or in all.
pub async fn count_open_requests(
    db: &impl ConnectionTrait,
    domain: Option<&str>,
) -> Result<u64, HubError> {
    let mut q = request::Entity::find().filter(request::Column::Status.is_in(Status::OPEN));
    if let Some(domain) = domain {
        q = q.filter(request::Column::Domain.eq(domain));
    }
    Ok(q.count(db).await?)
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::*;

    #[test]
    fn every_transition_pair_is_decided_by_the_table() {
        use Status::*;
        let allowed = [
            (Requested, Accepted),
            (Requested, Rejected),
            (Requested, Cancelled),
            (Accepted, InProgress),
            (Accepted, Rejected),
            (Accepted, Cancelled),
            (InProgress, Fulfilled),
            (InProgress, Rejected),
            (InProgress, Cancelled),
        ];
        let mut n_pairs = 0;
        for from in Status::iter() {
            for to in Status::iter() {
                n_pairs += 1;
                assert_eq!(
                    transition_allowed(from, to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
        assert_eq!(n_pairs, 36);
    }

    #[test]
    fn the_requester_cancels_and_the_provider_does_the_rest() {
        for to in Status::iter() {
            let expected = if to == Status::Cancelled {
                Role::Requester
            } else {
                Role::Provider
            };
            assert_eq!(party_for(to), expected, "{to}");
        }
    }

    #[test]
    fn capability_names_are_slugs_with_dots() {
        for ok in ["ops.deploy", "a", "fin.budget-check_2"] {
            assert!(is_capability_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".ops",
            "ops.",
            "Ops.deploy",
            "ops deploy",
            &"a".repeat(101),
        ] {
            assert!(!is_capability_name(bad), "{bad}");
        }
    }
}
