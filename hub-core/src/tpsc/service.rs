//! TPSC rules: names are unique per hub, each service belongs to a domain the caller may use,
//! ingest upserts by name entry by entry, and the GDPR report aggregates the facts per domain.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::model;
use crate::api::page::{Page, PageRequest, page_of};
use crate::auth::{Access, Principal};
use crate::ctx::Ctx;
use crate::domain;
use crate::error::{FieldError, HubError, Validator};

/// The most entries one ingest call takes.
pub const MAX_INGEST: usize = 1000;

/// A service's fields as a caller gives them (create, or one ingest entry).
#[derive(Debug, Clone, Default)]
pub struct NewService {
    pub name: String,
    pub domain: String,
    pub vendor: Option<String>,
    pub description: Option<String>,
    /// `http://` or `https://` only.
    pub url: Option<String>,
    /// Free text such as `contact`, `financial`, `health`; compared case-insensitively.
    pub data_categories: Vec<String>,
    pub processing_purpose: Option<String>,
    /// Free text such as `EU`, `US`, `eu-west-1`; see [`inside_eea`].
    pub region: String,
    pub dpa_in_place: bool,
    pub sub_processors: Vec<String>,
    /// Defaults to "has data categories".
    pub personal_data: Option<bool>,
}

/// One entry of an ingest call: read into a [`NewService`], or already refused by the edge
/// that read it (wrong types, missing fields), with the name if one could be seen.
#[derive(Debug, Clone)]
pub enum IngestEntry {
    Read(NewService),
    Unreadable {
        name: Option<String>,
        errors: Vec<FieldError>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IngestOutcome {
    Created,
    Updated,
    Rejected,
}

/// What happened to one ingest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IngestResult {
    /// The entry's position in the request list.
    pub index: usize,
    pub name: Option<String>,
    pub outcome: IngestOutcome,
    /// The service written (created or updated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Why the entry was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// The answer to an ingest call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IngestReport {
    pub created: u64,
    pub updated: u64,
    pub rejected: u64,
    pub results: Vec<IngestResult>,
}

/// A validated, normalised [`NewService`].
struct Fields {
    name: String,
    domain: String,
    vendor: Option<String>,
    description: String,
    url: Option<String>,
    data_categories: Vec<String>,
    processing_purpose: String,
    region: String,
    dpa_in_place: bool,
    sub_processors: Vec<String>,
    personal_data: bool,
}

impl Fields {
    fn validate(new: NewService) -> Result<Self, HubError> {
        let mut v = Validator::new();
        v.text(&new.name, "name", 200)
            .text(&new.domain, "domain", 64)
            .opt_text(new.vendor.as_deref(), "vendor", 200)
            .check(
                new.description
                    .as_ref()
                    .is_none_or(|d| d.chars().count() <= 4000),
                "description",
                "must be at most 4000 characters",
            )
            .check(
                new.url.as_deref().is_none_or(is_http_url),
                "url",
                "must be an http or https URL of at most 2000 characters",
            )
            .opt_text(
                new.processing_purpose.as_deref(),
                "processing_purpose",
                2000,
            )
            .text(&new.region, "region", 64);
        for (i, c) in new.data_categories.iter().enumerate() {
            v.text(c, &format!("data_categories[{i}]"), 100);
        }
        for (i, s) in new.sub_processors.iter().enumerate() {
            v.text(s, &format!("sub_processors[{i}]"), 200);
        }
        v.finish()?;
        let data_categories = distinct(new.data_categories.iter().map(|c| c.trim().to_lowercase()));
        let personal_data = new.personal_data.unwrap_or(!data_categories.is_empty());
        Ok(Self {
            name: new.name.trim().to_owned(),
            domain: new.domain,
            vendor: new.vendor.map(|s| s.trim().to_owned()),
            description: new.description.unwrap_or_default(),
            url: new.url.map(|s| s.trim().to_owned()),
            data_categories,
            processing_purpose: new
                .processing_purpose
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            region: new.region.trim().to_owned(),
            dpa_in_place: new.dpa_in_place,
            sub_processors: distinct(new.sub_processors.iter().map(|s| s.trim().to_owned())),
            personal_data,
        })
    }

    /// Sets every caller-given column of `row`.
    fn apply(self, row: &mut model::ActiveModel) {
        row.name = Set(self.name);
        row.domain = Set(self.domain);
        row.vendor = Set(self.vendor);
        row.description = Set(self.description);
        row.url = Set(self.url);
        row.data_categories = Set(Value::from(self.data_categories));
        row.processing_purpose = Set(self.processing_purpose);
        row.region = Set(self.region);
        row.dpa_in_place = Set(self.dpa_in_place);
        row.sub_processors = Set(Value::from(self.sub_processors));
        row.personal_data = Set(self.personal_data);
        row.updated_at = Set(Utc::now());
    }
}

/// The values in first-seen order, without repeats.
fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    values.filter(|v| seen.insert(v.clone())).collect()
}

fn is_http_url(url: &str) -> bool {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !r.contains(char::is_whitespace)
    }) && url.len() <= 2000
}

/// Registers a service (needs write access and a usable domain); a taken name is a conflict.
pub async fn create(ctx: &Ctx, who: &Principal, new: NewService) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let fields = Fields::validate(new)?;
    let mut tx = ctx.begin().await?;
    domain::service::check_usable(&*tx, who, &fields.domain, "domain").await?;
    let row = insert(&mut tx, fields).await?;
    tx.commit().await?;
    Ok(row)
}

async fn insert(tx: &mut crate::Tx<'_>, fields: Fields) -> Result<model::Model, HubError> {
    let name = fields.name.clone();
    let mut row = model::ActiveModel {
        id: Set(crate::ids::new_id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    fields.apply(&mut row);
    let row = row
        .insert(&**tx)
        .await
        .map_err(|e| HubError::from_db_unique(e, || format!("service {name} already exists")))?;
    tx.emit("tpsc_service", "registered", &row.id, &row).await?;
    Ok(row)
}

/// Creates or updates each entry by name, each in its own transaction: a bad entry is reported
/// and skipped, never half-written, and does not stop the others.
pub async fn ingest(
    ctx: &Ctx,
    who: &Principal,
    entries: Vec<IngestEntry>,
) -> Result<IngestReport, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    if entries.len() > MAX_INGEST {
        return Err(HubError::invalid(
            "body",
            format!("must hold at most {MAX_INGEST} entries"),
        ));
    }
    let mut report = IngestReport {
        created: 0,
        updated: 0,
        rejected: 0,
        results: Vec::with_capacity(entries.len()),
    };
    for (index, entry) in entries.into_iter().enumerate() {
        let (name, written) = match entry {
            IngestEntry::Read(new) => (
                Some(new.name.trim().to_owned()),
                upsert(ctx, who, new).await,
            ),
            IngestEntry::Unreadable { name, errors } => (name, Err(HubError::Invalid(errors))),
        };
        let result = match written {
            Ok((outcome, id)) => IngestResult {
                index,
                name,
                outcome,
                id: Some(id),
                errors: None,
            },
            Err(err) => IngestResult {
                index,
                name,
                outcome: IngestOutcome::Rejected,
                id: None,
                errors: Some(entry_errors(err)?),
            },
        };
        match result.outcome {
            IngestOutcome::Created => report.created += 1,
            IngestOutcome::Updated => report.updated += 1,
            IngestOutcome::Rejected => report.rejected += 1,
        }
        report.results.push(result);
    }
    Ok(report)
}

/// The field errors of a refused entry; failures that are not the entry's fault end the call.
fn entry_errors(err: HubError) -> Result<Vec<FieldError>, HubError> {
    match err {
        HubError::Invalid(errors) => Ok(errors),
        HubError::DomainForbidden { domain } => Ok(vec![FieldError::new(
            "domain",
            format!("no access to domain {domain}"),
        )]),
        HubError::Conflict(message) => Ok(vec![FieldError::new("name", message)]),
        other => Err(other),
    }
}

async fn upsert(
    ctx: &Ctx,
    who: &Principal,
    new: NewService,
) -> Result<(IngestOutcome, String), HubError> {
    let fields = Fields::validate(new)?;
    let mut tx = ctx.begin().await?;
    domain::service::check_usable(&*tx, who, &fields.domain, "domain").await?;
    let existing = model::Entity::find()
        .filter(model::Column::Name.eq(fields.name.as_str()))
        .lock_exclusive()
        .one(&*tx)
        .await?;
    let (outcome, id) = match existing {
        Some(old) => {
            // Moving a service needs access to the domain it leaves as well.
            who.require_domain(&old.domain)?;
            let mut row: model::ActiveModel = old.into();
            fields.apply(&mut row);
            let row = row.update(&*tx).await?;
            tx.emit("tpsc_service", "updated", &row.id, &row).await?;
            (IngestOutcome::Updated, row.id)
        }
        None => (IngestOutcome::Created, insert(&mut tx, fields).await?.id),
    };
    tx.commit().await?;
    Ok((outcome, id))
}

/// One service, if it exists and the caller may see its domain.
pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<model::Model, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    model::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|s| who.may_use_domain(&s.domain))
        .ok_or_else(|| HubError::not_found("service", id))
}

/// Services by name, of one domain or of every domain the caller may see.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    domain: Option<&str>,
    page: &PageRequest,
) -> Result<Page<model::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = model::Entity::find()
        .order_by_asc(model::Column::Name)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Name.gt(after.as_str()));
    }
    if let Some(d) = domain {
        who.require_domain(d)?;
        q = q.filter(model::Column::Domain.eq(d));
    } else if let Some(allowed) = &who.domains {
        q = q.filter(model::Column::Domain.is_in(allowed.iter().cloned()));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |s| s.name.clone()))
}

/// The number of services, of one domain or of all.
pub async fn count(db: &impl ConnectionTrait, domain: Option<&str>) -> Result<u64, HubError> {
    let mut q = model::Entity::find();
    if let Some(d) = domain {
        q = q.filter(model::Column::Domain.eq(d));
    }
    Ok(q.count(db).await?)
}

/// The GDPR report of the whole hub, per domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct GdprReport {
    pub domains: Vec<DomainGdpr>,
}

/// The GDPR facts of one domain's services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DomainGdpr {
    pub domain: String,
    /// Number of services.
    pub services: u64,
    /// Number of services processing personal data.
    pub personal_data: u64,
    /// Names of the services without a data processing agreement.
    pub without_dpa: Vec<String>,
    /// Each data category (sorted) with the services using it.
    pub data_categories: Vec<CategoryUse>,
    /// Distinct regions, sorted.
    pub regions: Vec<String>,
    /// Distinct sub-processors, sorted.
    pub sub_processors: Vec<String>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CategoryUse {
    pub category: String,
    /// Service names, sorted.
    pub services: Vec<String>,
}

/// Something in a domain's processing that needs attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Finding {
    pub kind: FindingKind,
    pub service: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Personal data processed without a data processing agreement (GDPR art. 28).
    PersonalDataWithoutDpa,
    /// Personal data processed in a region outside the EU/EEA (GDPR chapter V transfer).
    PersonalDataOutsideEea,
    /// Personal data processed without a stated purpose (GDPR art. 5(1)(b)).
    PersonalDataWithoutPurpose,
}

/// ISO 3166-1 alpha-2 codes of the EEA: the 27 EU states (Greece also as `EL`) plus IS, LI, NO.
const EEA: [&str; 31] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "EL", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// The region rule of the report: a region is inside the EU/EEA when, ignoring case, it starts
/// with `EU` (`EU`, `eu-west-1`, `europe-north1`) or is an EEA country code alone or followed
/// by `-` (`DE`, `de-fra`). Anything else (`US`, `us-east-1`, `global`) counts as outside.
pub fn inside_eea(region: &str) -> bool {
    let r = region.trim().to_ascii_uppercase();
    r.starts_with("EU")
        || EEA
            .iter()
            .any(|c| r == *c || r.strip_prefix(c).is_some_and(|rest| rest.starts_with('-')))
}

/// Builds the report of `domains` (in the given order) from their service rows.
pub fn build_report(domains: &[String], services: &[model::Model]) -> GdprReport {
    let mut by_domain: BTreeMap<&str, Vec<&model::Model>> = BTreeMap::new();
    for s in services {
        by_domain.entry(s.domain.as_str()).or_default().push(s);
    }
    let domains = domains
        .iter()
        .map(|d| {
            let mut rows = by_domain.remove(d.as_str()).unwrap_or_default();
            rows.sort_by(|a, b| a.name.cmp(&b.name));
            domain_report(d, &rows)
        })
        .collect();
    GdprReport { domains }
}

fn domain_report(domain: &str, rows: &[&model::Model]) -> DomainGdpr {
    let mut categories: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut regions = BTreeSet::new();
    let mut sub_processors = BTreeSet::new();
    let mut findings = Vec::new();
    for s in rows {
        for c in s.data_categories() {
            categories.entry(c).or_default().push(s.name.clone());
        }
        regions.insert(s.region.clone());
        sub_processors.extend(s.sub_processors());
        if !s.personal_data {
            continue;
        }
        let mut find = |kind, message: String| {
            findings.push(Finding {
                kind,
                service: s.name.clone(),
                message,
            })
        };
        if !s.dpa_in_place {
            find(
                FindingKind::PersonalDataWithoutDpa,
                format!("{} processes personal data without a DPA", s.name),
            );
        }
        if !inside_eea(&s.region) {
            find(
                FindingKind::PersonalDataOutsideEea,
                format!(
                    "{} processes personal data outside the EU/EEA (region {})",
                    s.name, s.region
                ),
            );
        }
        if s.processing_purpose.trim().is_empty() {
            find(
                FindingKind::PersonalDataWithoutPurpose,
                format!(
                    "{} processes personal data without a stated purpose",
                    s.name
                ),
            );
        }
    }
    DomainGdpr {
        domain: domain.to_owned(),
        services: rows.len() as u64,
        personal_data: rows.iter().filter(|s| s.personal_data).count() as u64,
        without_dpa: rows
            .iter()
            .filter(|s| !s.dpa_in_place)
            .map(|s| s.name.clone())
            .collect(),
        data_categories: categories
            .into_iter()
            .map(|(category, services)| CategoryUse { category, services })
            .collect(),
        regions: regions.into_iter().collect(),
        sub_processors: sub_processors.into_iter().collect(),
        findings,
    }
}

/// The GDPR report of one domain, or of every domain the caller may see.
pub async fn gdpr_report(
    ctx: &Ctx,
    who: &Principal,
    domain: Option<&str>,
) -> Result<GdprReport, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let domains: Vec<String> = match domain {
        Some(d) => {
            domain::service::check_usable(&ctx.db, who, d, "domain").await?;
            vec![d.to_owned()]
        }
        None => {
            let mut q = domain::model::Entity::find().order_by_asc(domain::model::Column::Slug);
            if let Some(allowed) = &who.domains {
                q = q.filter(domain::model::Column::Slug.is_in(allowed.iter().cloned()));
            }
            q.all(&ctx.db).await?.into_iter().map(|d| d.slug).collect()
        }
    };
    let services = model::Entity::find()
        .filter(model::Column::Domain.is_in(domains.iter().cloned()))
        .all(&ctx.db)
        .await?;
    Ok(build_report(&domains, &services))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(
        name: &str,
        domain: &str,
        categories: &[&str],
        region: &str,
        dpa: bool,
        subs: &[&str],
    ) -> model::Model {
        model::Model {
            id: name.into(),
            name: name.into(),
            domain: domain.into(),
            vendor: None,
            description: String::new(),
            url: None,
            data_categories: Value::from(categories.to_vec()),
            processing_purpose: if name == "Nopurpose" { "" } else { "support" }.into(),
            region: region.into(),
            dpa_in_place: dpa,
            sub_processors: Value::from(subs.to_vec()),
            personal_data: !categories.is_empty(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn regions_inside_and_outside_the_eea() {
        for inside in [
            "EU",
            "eu-west-1",
            "europe-north1",
            "DE",
            "de-fra",
            "no",
            "EL",
        ] {
            assert!(inside_eea(inside), "{inside}");
        }
        for outside in [
            "US",
            "us-east-1",
            "global",
            "CH",
            "uk",
            "deu",
            "sa-east-1",
            "",
        ] {
            assert!(!inside_eea(outside), "{outside}");
        }
    }

    #[test]
    fn report_counts_and_findings_by_hand() {
        let rows = vec![
            svc(
                "Zendesk",
                "finance",
                &["contact", "support"],
                "US",
                true,
                &["AWS"],
            ),
            svc(
                "Stripe",
                "finance",
                &["financial", "contact"],
                "eu-west-1",
                false,
                &["AWS", "Visa"],
            ),
            svc("Grafana", "finance", &[], "US", false, &[]),
            svc("Nopurpose", "finance", &["health"], "DE", true, &[]),
            svc("Slack", "infotech", &["contact"], "EU", true, &["AWS"]),
        ];
        let report = build_report(
            &["finance".into(), "infotech".into(), "legal".into()],
            &rows,
        );
        let [fin, it, legal] = &report.domains[..] else {
            panic!("three domains")
        };
        assert_eq!(fin.domain, "finance");
        assert_eq!(fin.services, 4);
        assert_eq!(fin.personal_data, 3);
        assert_eq!(fin.without_dpa, ["Grafana", "Stripe"]);
        let cats: Vec<(&str, Vec<&str>)> = fin
            .data_categories
            .iter()
            .map(|c| {
                (
                    c.category.as_str(),
                    c.services.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            cats,
            [
                ("contact", vec!["Stripe", "Zendesk"]),
                ("financial", vec!["Stripe"]),
                ("health", vec!["Nopurpose"]),
                ("support", vec!["Zendesk"]),
            ]
        );
        assert_eq!(fin.regions, ["DE", "US", "eu-west-1"]);
        assert_eq!(fin.sub_processors, ["AWS", "Visa"]);
        // Grafana (no personal data) has no finding although it lacks a DPA and sits in the US.
        let findings: Vec<(&str, FindingKind)> = fin
            .findings
            .iter()
            .map(|f| (f.service.as_str(), f.kind))
            .collect();
        assert_eq!(
            findings,
            [
                ("Nopurpose", FindingKind::PersonalDataWithoutPurpose),
                ("Stripe", FindingKind::PersonalDataWithoutDpa),
                ("Zendesk", FindingKind::PersonalDataOutsideEea),
            ]
        );
        assert_eq!((it.services, it.personal_data), (1, 1));
        assert!(it.findings.is_empty() && it.without_dpa.is_empty());
        assert_eq!(legal.services, 0);
        assert!(legal.data_categories.is_empty() && legal.findings.is_empty());
    }
}
