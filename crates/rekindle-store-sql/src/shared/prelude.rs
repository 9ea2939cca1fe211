// Imports and aliases for the shared repository code. This file is compiled into
// each backend with `include!`, inside a module that defines `Db` (the sqlx
// database type) and has a sibling `dialect` module.

#[allow(unused_imports)]
use async_trait::async_trait;
#[allow(unused_imports)]
use chrono::{DateTime, NaiveDate, Utc};
#[allow(unused_imports)]
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
#[allow(unused_imports)]
use rekindle_domain::lead::{LeadFields, SignalInput};
#[allow(unused_imports)]
use rekindle_domain::*;
#[allow(unused_imports)]
use rekindle_store::*;
#[allow(unused_imports)]
use rekindle_store::audit::{entry_hash, GENESIS_HASH};
#[allow(unused_imports)]
use rekindle_store_sql::{map_error, micros, parse_enum, parse_opt_enum, placeholders};

/// Placeholders for a statement built at run time, in this backend's style.
#[allow(dead_code)]
fn params(first: usize, count: usize) -> String {
    rekindle_store_sql::params(dialect::PARAM_STYLE, first, count)
}
#[allow(unused_imports)]
use serde_json::Value;
#[allow(unused_imports)]
use sqlx::types::Json;
#[allow(unused_imports)]
use sqlx::{AssertSqlSafe, Row};
#[allow(unused_imports)]
use uuid::Uuid;

#[allow(unused_imports)]
use super::dialect;

pub type DbRow = <Db as sqlx::Database>::Row;
pub type Conn = <Db as sqlx::Database>::Connection;
pub type DbTx = sqlx::Transaction<'static, Db>;
