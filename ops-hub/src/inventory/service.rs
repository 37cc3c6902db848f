//! Inventory rules: ids are slugs, owners are known domains the caller may use, health URLs are
//! http(s), and dependencies name known services without forming a cycle.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Utc;
use hub_core::api::page::{Page, PageRequest, page_of};
use hub_core::auth::{Access, Principal};
use hub_core::ctx::Tx;
use hub_core::error::Validator;
use hub_core::{Ctx, HubError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};
use serde::{Deserialize, Serialize};

use super::model::{Lifecycle, dependency, service};

/// A named endpoint of a service.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub name: String,
    pub url: String,
}

/// Everything a caller says about a service; writing it replaces what was there.
#[derive(Debug, Clone, Default)]
pub struct ServiceSpec {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub domain: String,
    pub environment: String,
    pub location: String,
    pub endpoints: Vec<Endpoint>,
    pub health_url: Option<String>,
    pub repo: Option<String>,
    pub tags: Vec<String>,
    pub lifecycle: Lifecycle,
    pub depends_on: Vec<String>,
}

/// A stored service and the services it depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub row: service::Model,
    pub depends_on: Vec<String>,
}

impl Service {
    pub fn endpoints(&self) -> Vec<Endpoint> {
        serde_json::from_value(self.row.endpoints.clone()).unwrap_or_default()
    }

    pub fn tags(&self) -> Vec<String> {
        serde_json::from_value(self.row.tags.clone()).unwrap_or_default()
    }

    /// The service as a spec, as export writes it.
    pub fn spec(&self) -> ServiceSpec {
        ServiceSpec {
            id: self.row.id.clone(),
            name: self.row.name.clone(),
            kind: self.row.kind.clone(),
            domain: self.row.domain.clone(),
            environment: self.row.environment.clone(),
            location: self.row.location.clone(),
            endpoints: self.endpoints(),
            health_url: self.row.health_url.clone(),
            repo: self.row.repo.clone(),
            tags: self.tags(),
            lifecycle: self.row.lifecycle,
            depends_on: self.depends_on.clone(),
        }
    }
}

/// What writing a spec did to the stored service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

/// How a write treats a service that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    CreateOnly,
    Upsert,
}

/// The event data of `ops_service.created|updated`.
#[derive(Serialize)]
struct ServiceEvent<'a> {
    id: &'a str,
    domain: &'a str,
    lifecycle: Lifecycle,
    depends_on: &'a [String],
}

/// Registers a new service; a conflict if its id is taken.
pub async fn create(ctx: &Ctx, who: &Principal, spec: ServiceSpec) -> Result<Service, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let id = spec.id.clone();
    let mut tx = ctx.begin().await?;
    write(&mut tx, who, vec![spec], Mode::CreateOnly, "").await?;
    tx.commit().await?;
    load(&ctx.db, &id).await
}

/// Creates or replaces the service `spec.id`.
pub async fn put(
    ctx: &Ctx,
    who: &Principal,
    spec: ServiceSpec,
) -> Result<(Service, Change), HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let id = spec.id.clone();
    let mut tx = ctx.begin().await?;
    let changes = write(&mut tx, who, vec![spec], Mode::Upsert, "").await?;
    tx.commit().await?;
    Ok((load(&ctx.db, &id).await?, changes[0]))
}

/// Creates or replaces every service of `specs` in one transaction: all or nothing. Field
/// errors name `services[i].<field>`. Returns each id with what happened to it, in input order.
pub async fn upsert_all(
    ctx: &Ctx,
    who: &Principal,
    specs: Vec<ServiceSpec>,
) -> Result<Vec<(String, Change)>, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let ids: Vec<String> = specs.iter().map(|s| s.id.clone()).collect();
    let mut tx = ctx.begin().await?;
    let changes = write(&mut tx, who, specs, Mode::Upsert, "services").await?;
    tx.commit().await?;
    Ok(ids.into_iter().zip(changes).collect())
}

pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<Service, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let svc = load(&ctx.db, id).await?;
    if !who.may_use_domain(&svc.row.domain) {
        return Err(HubError::not_found("service", id));
    }
    Ok(svc)
}

/// Filters of the service list.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    pub domain: Option<String>,
    pub lifecycle: Option<Lifecycle>,
    pub environment: Option<String>,
}

/// Services by id, of the domains the caller may see.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    filter: &ServiceFilter,
    page: &PageRequest,
) -> Result<Page<Service>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = service::Entity::find()
        .order_by_asc(service::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(service::Column::Id.gt(after.as_str()));
    }
    if let Some(l) = filter.lifecycle {
        q = q.filter(service::Column::Lifecycle.eq(l));
    }
    if let Some(e) = &filter.environment {
        q = q.filter(service::Column::Environment.eq(e.as_str()));
    }
    q = match (&filter.domain, &who.domains) {
        (Some(d), _) => {
            who.require_domain(d)?;
            q.filter(service::Column::Domain.eq(d.as_str()))
        }
        (None, Some(allowed)) => q.filter(service::Column::Domain.is_in(allowed.iter().cloned())),
        (None, None) => q,
    };
    let rows = q.all(&ctx.db).await?;
    let mut deps = deps_of(&ctx.db, rows.iter().map(|r| r.id.clone())).await?;
    let services = rows
        .into_iter()
        .map(|row| Service {
            depends_on: deps.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect();
    Ok(page_of(services, page, |s| s.row.id.clone()))
}

/// The service `id` for another resource to refer to: `Invalid` naming `field` when unknown,
/// `DomainForbidden` when the caller may not use its domain.
pub async fn check_ref(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
    field: &str,
) -> Result<service::Model, HubError> {
    let row = service::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| HubError::invalid(field, format!("unknown service {id}")))?;
    who.require_domain(&row.domain)?;
    Ok(row)
}

/// True when the service `id` exists and the caller may use its domain: records bound to a
/// hidden service are hidden too.
pub async fn visible_to(
    db: &impl ConnectionTrait,
    who: &Principal,
    id: &str,
) -> Result<bool, HubError> {
    Ok(service::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|s| who.may_use_domain(&s.domain)))
}

/// The ids of the services in the domains `who` may use, as a filter for lists of other
/// resources: `None` means every service.
pub fn visible_ids(who: &Principal) -> Option<sea_orm::sea_query::SelectStatement> {
    let allowed = who.domains.as_ref()?;
    Some(
        sea_orm::sea_query::Query::select()
            .column(service::Column::Id)
            .from(service::Entity)
            .and_where(service::Column::Domain.is_in(allowed.iter().cloned()))
            .to_owned(),
    )
}

/// Limits a list of another resource to one service (404 unless the caller may see it) or to
/// the services the caller may see, newest first by `id` and after the page's cursor.
pub async fn scoped<E: EntityTrait>(
    ctx: &Ctx,
    who: &Principal,
    q: Select<E>,
    service_id: Option<&str>,
    service_col: impl ColumnTrait,
    id_col: impl ColumnTrait,
    page: &PageRequest,
) -> Result<Select<E>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = q.order_by_desc(id_col).limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(id_col.lt(after.as_str()));
    }
    if let Some(s) = service_id {
        get(ctx, who, s).await?;
        q = q.filter(service_col.eq(s));
    }
    if let Some(ids) = visible_ids(who) {
        q = q.filter(service_col.in_subquery(ids));
    }
    Ok(q)
}

async fn load(db: &impl ConnectionTrait, id: &str) -> Result<Service, HubError> {
    let row = service::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| HubError::not_found("service", id))?;
    let depends_on = deps_of(db, [id.to_owned()])
        .await?
        .remove(id)
        .unwrap_or_default();
    Ok(Service { row, depends_on })
}

async fn deps_of(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, Vec<String>>, HubError> {
    let ids: Vec<String> = ids.into_iter().collect();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let edges = dependency::Entity::find()
            .filter(dependency::Column::ServiceId.is_in(chunk.iter().cloned()))
            .order_by_asc(dependency::Column::DependsOn)
            .all(db)
            .await?;
        for e in edges {
            out.entry(e.service_id).or_default().push(e.depends_on);
        }
    }
    Ok(out)
}

/// `services[i].field` in a batch, `field` alone for a single spec.
fn field_name(prefix: &str, i: usize, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}[{i}].{field}")
    }
}

/// True when `url` parses as an absolute http or https URL with a host.
pub fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

fn validate(v: &mut Validator, spec: &ServiceSpec, prefix: &str, i: usize) {
    let f = |name: &str| field_name(prefix, i, name);
    v.slug(&spec.id, &f("id"))
        .text(&spec.name, &f("name"), 200)
        .text(&spec.kind, &f("kind"), 64)
        .text(&spec.domain, &f("domain"), 64)
        .text(&spec.environment, &f("environment"), 64)
        .text(&spec.location, &f("location"), 200)
        .opt_text(spec.repo.as_deref(), &f("repo"), 500)
        .check(
            spec.endpoints.len() <= 50,
            &f("endpoints"),
            "must list at most 50 endpoints",
        )
        .check(
            spec.tags.len() <= 50,
            &f("tags"),
            "must list at most 50 tags",
        )
        .check(
            spec.depends_on.len() <= 200,
            &f("depends_on"),
            "must list at most 200 services",
        );
    if let Some(url) = &spec.health_url {
        v.check(
            is_http_url(url),
            &f("health_url"),
            "must be an absolute http or https URL",
        );
    }
    for (j, e) in spec.endpoints.iter().enumerate() {
        v.text(&e.name, &f(&format!("endpoints[{j}].name")), 64)
            .text(&e.url, &f(&format!("endpoints[{j}].url")), 2000);
    }
    for (j, t) in spec.tags.iter().enumerate() {
        v.text(t, &f(&format!("tags[{j}]")), 64);
    }
    for d in &spec.depends_on {
        v.check(
            d != &spec.id,
            &f("depends_on"),
            format!("a service cannot depend on itself ({d})"),
        );
    }
}

/// Writes `specs` inside `tx` after checking them all, emitting one event per change.
async fn write(
    tx: &mut Tx<'_>,
    who: &Principal,
    specs: Vec<ServiceSpec>,
    mode: Mode,
    prefix: &str,
) -> Result<Vec<Change>, HubError> {
    let mut v = Validator::new();
    let mut seen = BTreeSet::new();
    for (i, spec) in specs.iter().enumerate() {
        validate(&mut v, spec, prefix, i);
        v.check(
            seen.insert(spec.id.as_str()),
            &field_name(prefix, i, "id"),
            format!("service {} appears more than once", spec.id),
        );
    }
    v.finish()?;

    let ids: Vec<String> = specs.iter().map(|s| s.id.clone()).collect();
    let mut existing: HashMap<String, service::Model> = HashMap::new();
    for chunk in ids.chunks(500) {
        for row in service::Entity::find()
            .filter(service::Column::Id.is_in(chunk.iter().cloned()))
            .all(&**tx)
            .await?
        {
            existing.insert(row.id.clone(), row);
        }
    }
    let domains: BTreeSet<&str> = specs.iter().map(|s| s.domain.as_str()).collect();
    let mut known_domains = BTreeSet::new();
    for d in domains {
        who.require_domain(d)?;
        if hub_core::domain::model::Entity::find_by_id(d)
            .one(&**tx)
            .await?
            .is_some()
        {
            known_domains.insert(d.to_owned());
        }
    }
    for (i, spec) in specs.iter().enumerate() {
        v.check(
            known_domains.contains(&spec.domain),
            &field_name(prefix, i, "domain"),
            format!("unknown domain {}", spec.domain),
        );
        if let Some(old) = existing.get(&spec.id) {
            if mode == Mode::CreateOnly {
                return Err(HubError::Conflict(format!(
                    "service {} already exists",
                    spec.id
                )));
            }
            // Moving a service out of a domain needs the right to that domain too.
            who.require_domain(&old.domain)?;
        }
    }
    v.finish()?;
    check_dependencies(&**tx, &specs, prefix).await?;

    let now = Utc::now();
    let mut old_deps = deps_of(&**tx, ids.iter().cloned()).await?;
    let mut changes = Vec::with_capacity(specs.len());
    for spec in specs {
        let mut depends_on = spec.depends_on.clone();
        depends_on.sort();
        depends_on.dedup();
        let endpoints = serde_json::to_value(&spec.endpoints)
            .map_err(|e| HubError::Internal(format!("endpoints: {e}")))?;
        let tags = serde_json::to_value(&spec.tags)
            .map_err(|e| HubError::Internal(format!("tags: {e}")))?;
        let old = existing.remove(&spec.id);
        let old_dep_list = old_deps.remove(&spec.id).unwrap_or_default();
        let change = match &old {
            None => Change::Created,
            Some(o)
                if o.name == spec.name.trim()
                    && o.kind == spec.kind
                    && o.domain == spec.domain
                    && o.environment == spec.environment
                    && o.location == spec.location
                    && o.endpoints == endpoints
                    && o.health_url == spec.health_url
                    && o.repo == spec.repo
                    && o.tags == tags
                    && o.lifecycle == spec.lifecycle
                    && old_dep_list == depends_on =>
            {
                Change::Unchanged
            }
            Some(_) => Change::Updated,
        };
        changes.push(change);
        if change == Change::Unchanged {
            continue;
        }
        let row = service::ActiveModel {
            id: Set(spec.id.clone()),
            name: Set(spec.name.trim().to_owned()),
            kind: Set(spec.kind),
            domain: Set(spec.domain),
            environment: Set(spec.environment),
            location: Set(spec.location),
            endpoints: Set(endpoints),
            health_url: Set(spec.health_url),
            repo: Set(spec.repo),
            tags: Set(tags),
            lifecycle: Set(spec.lifecycle),
            created_at: Set(old.as_ref().map_or(now, |o| o.created_at)),
            updated_at: Set(now),
        };
        let row = if old.is_some() {
            row.update(&**tx).await?
        } else {
            row.insert(&**tx).await.map_err(|e| {
                HubError::from_db_unique(e, || format!("service {} already exists", spec.id))
            })?
        };
        dependency::Entity::delete_many()
            .filter(dependency::Column::ServiceId.eq(row.id.as_str()))
            .exec(&**tx)
            .await?;
        if !depends_on.is_empty() {
            dependency::Entity::insert_many(depends_on.iter().map(|d| dependency::ActiveModel {
                service_id: Set(row.id.clone()),
                depends_on: Set(d.clone()),
            }))
            .exec(&**tx)
            .await?;
        }
        let action = if change == Change::Created {
            "created"
        } else {
            "updated"
        };
        tx.emit(
            "ops_service",
            action,
            &row.id,
            &ServiceEvent {
                id: &row.id,
                domain: &row.domain,
                lifecycle: row.lifecycle,
                depends_on: &depends_on,
            },
        )
        .await?;
    }
    Ok(changes)
}

/// Refuses dependencies on unknown services and any cycle the new edges would close.
async fn check_dependencies(
    db: &impl ConnectionTrait,
    specs: &[ServiceSpec],
    prefix: &str,
) -> Result<(), HubError> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in dependency::Entity::find().all(db).await? {
        graph.entry(e.service_id).or_default().insert(e.depends_on);
    }
    for s in specs {
        graph.insert(s.id.clone(), s.depends_on.iter().cloned().collect());
    }
    let in_batch: BTreeSet<&str> = specs.iter().map(|s| s.id.as_str()).collect();
    let mut v = Validator::new();
    for (i, s) in specs.iter().enumerate() {
        let outside: Vec<String> = s
            .depends_on
            .iter()
            .filter(|d| !in_batch.contains(d.as_str()))
            .cloned()
            .collect();
        let mut found = BTreeSet::new();
        for chunk in outside.chunks(500) {
            for row in service::Entity::find()
                .select_only()
                .column(service::Column::Id)
                .filter(service::Column::Id.is_in(chunk.iter().cloned()))
                .into_tuple::<String>()
                .all(db)
                .await?
            {
                found.insert(row);
            }
        }
        for d in outside.iter().filter(|d| !found.contains(*d)) {
            v.check(
                false,
                &field_name(prefix, i, "depends_on"),
                format!("unknown service {d}"),
            );
        }
    }
    v.finish()?;
    for (i, s) in specs.iter().enumerate() {
        if let Some(path) = cycle_from(&graph, &s.id) {
            return Err(HubError::invalid(
                field_name(prefix, i, "depends_on"),
                format!("dependency cycle: {}", path.join(" -> ")),
            ));
        }
    }
    Ok(())
}

/// A path `start -> … -> start` in `graph`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    // Iterative depth-first search keeping the path, so deep chains cannot overflow the stack.
    let mut path = vec![start.to_owned()];
    let mut stack: Vec<Vec<String>> = vec![next_of(graph, start)];
    let mut done = BTreeSet::new();
    while let Some(frontier) = stack.last_mut() {
        match frontier.pop() {
            Some(n) if n == start => {
                path.push(n);
                return Some(path);
            }
            Some(n) if done.contains(&n) || path.contains(&n) => {}
            Some(n) => {
                stack.push(next_of(graph, &n));
                path.push(n);
            }
            None => {
                stack.pop();
                if let Some(n) = path.pop() {
                    done.insert(n);
                }
            }
        }
    }
    None
}

fn next_of(graph: &BTreeMap<String, BTreeSet<String>>, node: &str) -> Vec<String> {
    graph
        .get(node)
        .map(|s| s.iter().rev().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    }

    #[test]
    fn cycles_are_found_with_their_path() {
        let g = graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]);
        assert_eq!(cycle_from(&g, "a").unwrap(), ["a", "b", "c", "a"]);
        assert_eq!(cycle_from(&g, "d"), None);
        let dag = graph(&[("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")]);
        assert_eq!(cycle_from(&dag, "a"), None);
    }

    #[test]
    fn health_urls_must_be_http() {
        assert!(is_http_url("http://127.0.0.1:8080/healthz"));
        assert!(is_http_url("https://svc.example/health"));
        for bad in [
            "ftp://x/y",
            "file:///etc/passwd",
            "localhost:80",
            "",
            "http://",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
