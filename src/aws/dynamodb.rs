//! A small DynamoDB client: the JSON protocol (a POST with `X-Amz-Target:
//! DynamoDB_20120810.<Op>` and `Content-Type: application/x-amz-json-1.0`)
//! over the same transport as STS, EC2 and IAM: SigV4 signing (service
//! `dynamodb`), retries, the call's deadline, TLS, a cap on what is read
//! back, and the endpoint rules (`--endpoint-url`,
//! `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`).
//!
//! Only what the team ledger needs: CreateTable (on-demand capacity),
//! DescribeTable, PutItem, GetItem, UpdateItem, DeleteItem (each with a
//! [`Condition`]), and Query and Scan followed through every page
//! (`LastEvaluatedKey`). Items are [`Item`]s: attribute names and typed
//! [`Attr`] values, DynamoDB's own JSON.
//!
//! An AWS error is of kind [`crate::ErrorKind::Aws`] with DynamoDB's short code
//! (`ConditionalCheckFailedException`); [`is_condition_failed`] tells a
//! failed condition from every other error without reading messages.
//! Reads are sent again after a failure that may have reached DynamoDB;
//! writes only after one that proves they did not (a conditional write
//! sent twice would fail its own condition the second time).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::config::{ClientConfig, Service};
use super::transport::Transport;
use crate::{Error, ErrorKind, Result};

/// One attribute value, as DynamoDB's JSON writes it (`{"S": "text"}`,
/// `{"N": "42"}`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum Attr {
    /// A string.
    S(String),
    /// A number, as its decimal text.
    N(String),
    /// Binary, base64.
    B(String),
    /// A boolean.
    BOOL(bool),
    /// Null (always `true`).
    NULL(bool),
    /// A map.
    M(BTreeMap<String, Attr>),
    /// A list.
    L(Vec<Attr>),
    /// A set of strings.
    SS(Vec<String>),
    /// A set of numbers.
    NS(Vec<String>),
    /// A set of binaries.
    BS(Vec<String>),
}

impl Attr {
    /// A string value.
    pub fn s(v: impl Into<String>) -> Attr {
        Attr::S(v.into())
    }

    /// A number value.
    pub fn n(v: u64) -> Attr {
        Attr::N(v.to_string())
    }

    /// The text of a string value.
    pub fn as_s(&self) -> Option<&str> {
        match self {
            Attr::S(s) => Some(s),
            _ => None,
        }
    }

    /// A number value that is a whole number from 0 to 2^64 - 1.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Attr::N(n) => n.parse().ok(),
            _ => None,
        }
    }
}

/// An item, or a key: attribute names and values.
pub type Item = BTreeMap<String, Attr>;

/// A condition (or filter, or key condition) expression with its
/// placeholders: `#n` names and `:v` values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Condition {
    /// The expression: `attribute_not_exists(#id)`, `#rev = :rev`.
    pub expression: String,
    /// `#name` → attribute name.
    pub names: BTreeMap<String, String>,
    /// `:value` → value.
    pub values: BTreeMap<String, Attr>,
}

impl Condition {
    /// An expression with no placeholders yet.
    pub fn new(expression: impl Into<String>) -> Condition {
        Condition {
            expression: expression.into(),
            ..Condition::default()
        }
    }

    /// Adds a `#name` placeholder.
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Condition {
        self.names
            .insert(placeholder.to_string(), attribute.to_string());
        self
    }

    /// Adds a `:value` placeholder.
    pub fn value(mut self, placeholder: &str, value: Attr) -> Condition {
        self.values.insert(placeholder.to_string(), value);
        self
    }
}

/// Adds the placeholders of `conditions` to a request, merged.
fn put_placeholders(req: &mut Map<String, Value>, conditions: &[&Condition]) -> Result<()> {
    let mut names = Map::new();
    let mut values = Map::new();
    for c in conditions {
        for (k, v) in &c.names {
            names.insert(k.clone(), Value::String(v.clone()));
        }
        for (k, v) in &c.values {
            values.insert(k.clone(), to_value(v)?);
        }
    }
    if !names.is_empty() {
        req.insert("ExpressionAttributeNames".into(), Value::Object(names));
    }
    if !values.is_empty() {
        req.insert("ExpressionAttributeValues".into(), Value::Object(values));
    }
    Ok(())
}

fn to_value<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| table_error(format!("cannot write the request: {e}")))
}

/// The one place this module makes an error of its own.
fn table_error(message: String) -> Error {
    Error::other(message)
}

/// Whether `e` is DynamoDB's answer that a condition did not hold
/// (`ConditionalCheckFailedException`): the item was there (or not), or
/// its revision had moved on.
pub fn is_condition_failed(e: &Error) -> bool {
    e.is_aws("ConditionalCheckFailedException")
}

/// Whether `e` is DynamoDB's answer that the table (or index) does not
/// exist (`ResourceNotFoundException`).
pub fn is_not_found(e: &Error) -> bool {
    e.is_aws("ResourceNotFoundException")
}

/// Whether `e` is a refusal for want of permission
/// (`AccessDeniedException`, moto's `AccessDenied`, ...).
pub fn is_access_denied(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Aws { code, .. } if code.starts_with("AccessDenied")
        || code == "UnrecognizedClientException"
        || code == "InvalidClientTokenId")
}

/// A table as DescribeTable (or CreateTable) describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableDescription {
    /// The table's name.
    pub name: String,
    /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, ...
    pub status: String,
    /// The key: attribute name and `HASH` or `RANGE`.
    pub key_schema: Vec<(String, String)>,
    /// The attributes the key and indexes use: name and type (`S`, `N`, `B`).
    pub attributes: Vec<(String, String)>,
    /// `PAY_PER_REQUEST` or `PROVISIONED`, when said.
    pub billing_mode: Option<String>,
    /// The names of the global secondary indexes.
    pub indexes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTable {
    table_name: String,
    #[serde(default)]
    table_status: String,
    #[serde(default)]
    key_schema: Vec<RawKey>,
    #[serde(default)]
    attribute_definitions: Vec<RawAttrDef>,
    #[serde(default)]
    billing_mode_summary: Option<RawBilling>,
    #[serde(default)]
    global_secondary_indexes: Vec<RawIndex>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawKey {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAttrDef {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawBilling {
    #[serde(default)]
    billing_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawIndex {
    index_name: String,
}

impl From<RawTable> for TableDescription {
    fn from(t: RawTable) -> Self {
        TableDescription {
            name: t.table_name,
            status: t.table_status,
            key_schema: t
                .key_schema
                .into_iter()
                .map(|k| (k.attribute_name, k.key_type))
                .collect(),
            attributes: t
                .attribute_definitions
                .into_iter()
                .map(|a| (a.attribute_name, a.attribute_type))
                .collect(),
            billing_mode: t.billing_mode_summary.and_then(|b| b.billing_mode),
            indexes: t
                .global_secondary_indexes
                .into_iter()
                .map(|i| i.index_name)
                .collect(),
        }
    }
}

/// A global secondary index to create with a table: its name, its hash
/// key (a string attribute) and optional range key (a string attribute),
/// projecting every attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexSpec {
    /// The index's name.
    pub name: String,
    /// Its partition key.
    pub hash_key: String,
    /// Its sort key.
    pub range_key: Option<String>,
}

/// What Query or Scan asks for. Both follow `LastEvaluatedKey` to the last
/// page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Read {
    /// The table.
    pub table: String,
    /// A secondary index to read instead of the table.
    pub index: Option<String>,
    /// Query's key condition (required for Query, ignored by Scan).
    pub key_condition: Option<Condition>,
    /// A filter applied after reading.
    pub filter: Option<Condition>,
    /// Strongly consistent reads (not on global secondary indexes).
    pub consistent: bool,
    /// At most this many items read per page (`Limit`).
    pub page_limit: Option<u32>,
    /// Only these attributes of each item (`ProjectionExpression`: `#a, #b`
    /// with its names).
    pub projection: Option<Condition>,
}

/// One page of a Query or Scan answer.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Page {
    /// The page's items.
    #[serde(default)]
    pub items: Vec<Item>,
    /// Where the next page starts, if there is one.
    #[serde(default)]
    pub last_evaluated_key: Option<Item>,
}

/// A DynamoDB client.
pub struct Dynamodb {
    transport: Transport,
}

impl fmt::Debug for Dynamodb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dynamodb")
            .field("config", self.transport.config())
            .finish()
    }
}

/// The `X-Amz-Target` of each operation.
#[derive(Clone, Copy, Debug)]
enum Op {
    CreateTable,
    DescribeTable,
    PutItem,
    GetItem,
    UpdateItem,
    DeleteItem,
    Query,
    Scan,
}

impl Op {
    fn target(self) -> &'static str {
        match self {
            Op::CreateTable => "DynamoDB_20120810.CreateTable",
            Op::DescribeTable => "DynamoDB_20120810.DescribeTable",
            Op::PutItem => "DynamoDB_20120810.PutItem",
            Op::GetItem => "DynamoDB_20120810.GetItem",
            Op::UpdateItem => "DynamoDB_20120810.UpdateItem",
            Op::DeleteItem => "DynamoDB_20120810.DeleteItem",
            Op::Query => "DynamoDB_20120810.Query",
            Op::Scan => "DynamoDB_20120810.Scan",
        }
    }

    /// Whether sending it again after a failure that may have reached
    /// DynamoDB is harmless.
    fn may_repeat(self) -> bool {
        matches!(self, Op::DescribeTable | Op::GetItem | Op::Query | Op::Scan)
    }
}

impl Dynamodb {
    /// A client for the endpoint, region and credentials in `config`
    /// (which must have been resolved for [`Service::Dynamodb`]).
    pub fn new(config: ClientConfig) -> Result<Dynamodb> {
        if config.service() != Service::Dynamodb {
            return Err(Error::usage(format!(
                "a DynamoDB client needs a configuration resolved for dynamodb, not {}",
                config.service()
            )));
        }
        Ok(Dynamodb {
            transport: Transport::new(config)?,
        })
    }

    /// The configuration the client uses.
    pub fn config(&self) -> &ClientConfig {
        self.transport.config()
    }

    fn call(&self, op: Op, request: Value) -> Result<Value> {
        let body = serde_json::to_vec(&request)
            .map_err(|e| table_error(format!("cannot write the request: {e}")))?;
        let answer = self
            .transport
            .call_json(op.target(), body, op.may_repeat())?;
        answer_value(&answer).map_err(|why| self.malformed(op, why))
    }

    fn malformed(&self, op: Op, why: String) -> Error {
        self.transport.malformed(op.target(), why)
    }

    /// CreateTable with on-demand capacity (`PAY_PER_REQUEST`), its key a
    /// string attribute `hash_key`, with `indexes` (string keys, every
    /// attribute projected). Returns the table as DynamoDB describes it
    /// (status `CREATING`, usually). A table already there is
    /// `ResourceInUseException`.
    pub fn create_table(
        &self,
        table: &str,
        hash_key: &str,
        indexes: &[IndexSpec],
    ) -> Result<TableDescription> {
        let mut attrs = vec![hash_key.to_string()];
        for i in indexes {
            attrs.push(i.hash_key.clone());
            attrs.extend(i.range_key.clone());
        }
        attrs.sort();
        attrs.dedup();
        let mut req = json!({
            "TableName": table,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"}],
            "AttributeDefinitions": attrs
                .iter()
                .map(|a| json!({"AttributeName": a, "AttributeType": "S"}))
                .collect::<Vec<_>>(),
        });
        if !indexes.is_empty() {
            req["GlobalSecondaryIndexes"] = indexes
                .iter()
                .map(|i| {
                    let mut keys = vec![json!({"AttributeName": i.hash_key, "KeyType": "HASH"})];
                    if let Some(r) = &i.range_key {
                        keys.push(json!({"AttributeName": r, "KeyType": "RANGE"}));
                    }
                    json!({
                        "IndexName": i.name,
                        "KeySchema": keys,
                        "Projection": {"ProjectionType": "ALL"},
                    })
                })
                .collect();
        }
        let v = self.call(Op::CreateTable, req)?;
        self.table_of(Op::CreateTable, v)
    }

    fn table_of(&self, op: Op, v: Value) -> Result<TableDescription> {
        table_in(v, "TableDescription").map_err(|why| self.malformed(op, why))
    }

    /// DescribeTable; `None` when there is no such table.
    pub fn describe_table(&self, table: &str) -> Result<Option<TableDescription>> {
        match self.call(Op::DescribeTable, json!({ "TableName": table })) {
            Ok(v) => table_in(v, "Table")
                .map(Some)
                .map_err(|why| self.malformed(Op::DescribeTable, why)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// PutItem of `item`, only if `condition` holds (when given).
    pub fn put_item(&self, table: &str, item: &Item, condition: Option<&Condition>) -> Result<()> {
        let mut req = Map::new();
        req.insert("TableName".into(), json!(table));
        req.insert("Item".into(), to_value(item)?);
        if let Some(c) = condition {
            req.insert("ConditionExpression".into(), json!(c.expression));
            put_placeholders(&mut req, &[c])?;
        }
        self.call(Op::PutItem, Value::Object(req)).map(drop)
    }

    /// GetItem of the item with `key` (strongly consistent when
    /// `consistent`); `None` when there is none.
    pub fn get_item(&self, table: &str, key: &Item, consistent: bool) -> Result<Option<Item>> {
        let req = json!({
            "TableName": table,
            "Key": to_value(key)?,
            "ConsistentRead": consistent,
        });
        let v = self.call(Op::GetItem, req)?;
        item_in(v, "Item").map_err(|why| self.malformed(Op::GetItem, why))
    }

    /// UpdateItem of the item with `key`: `update` is the update expression
    /// (`SET #r = :r`) with its placeholders, applied only if `condition`
    /// holds (when given). Returns the item as it is afterwards.
    pub fn update_item(
        &self,
        table: &str,
        key: &Item,
        update: &Condition,
        condition: Option<&Condition>,
    ) -> Result<Item> {
        let mut req = Map::new();
        req.insert("TableName".into(), json!(table));
        req.insert("Key".into(), to_value(key)?);
        req.insert("UpdateExpression".into(), json!(update.expression));
        req.insert("ReturnValues".into(), json!("ALL_NEW"));
        let mut all = vec![update];
        if let Some(c) = condition {
            req.insert("ConditionExpression".into(), json!(c.expression));
            all.push(c);
        }
        put_placeholders(&mut req, &all)?;
        let v = self.call(Op::UpdateItem, Value::Object(req))?;
        item_in(v, "Attributes")
            .map(Option::unwrap_or_default)
            .map_err(|why| self.malformed(Op::UpdateItem, why))
    }

    /// DeleteItem of the item with `key`, only if `condition` holds (when
    /// given). Deleting an item that is not there is no error.
    pub fn delete_item(
        &self,
        table: &str,
        key: &Item,
        condition: Option<&Condition>,
    ) -> Result<()> {
        let mut req = Map::new();
        req.insert("TableName".into(), json!(table));
        req.insert("Key".into(), to_value(key)?);
        if let Some(c) = condition {
            req.insert("ConditionExpression".into(), json!(c.expression));
            put_placeholders(&mut req, &[c])?;
        }
        self.call(Op::DeleteItem, Value::Object(req)).map(drop)
    }

    /// Query, every page: the items whose key matches `read.key_condition`
    /// (required) and, when given, `read.filter`.
    pub fn query(&self, read: &Read) -> Result<Vec<Item>> {
        if read.key_condition.is_none() {
            return Err(Error::usage("a DynamoDB Query needs a key condition"));
        }
        self.pages(Op::Query, read, &mut |_| Ok(()))
    }

    /// Scan, every page: every item (of the index, when given) that passes
    /// `read.filter`, when given.
    pub fn scan(&self, read: &Read) -> Result<Vec<Item>> {
        self.pages(Op::Scan, read, &mut |_| Ok(()))
    }

    /// Scan, every page, each page's items given to `each` as it comes
    /// (nothing is kept).
    pub fn scan_each(
        &self,
        read: &Read,
        each: &mut dyn FnMut(Vec<Item>) -> Result<()>,
    ) -> Result<()> {
        let mut page = |items: &mut Vec<Item>| each(std::mem::take(items));
        self.pages(Op::Scan, read, &mut page).map(drop)
    }

    fn pages(
        &self,
        op: Op,
        read: &Read,
        each: &mut dyn FnMut(&mut Vec<Item>) -> Result<()>,
    ) -> Result<Vec<Item>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut req = Map::new();
            req.insert("TableName".into(), json!(read.table));
            if let Some(i) = &read.index {
                req.insert("IndexName".into(), json!(i));
            }
            if read.consistent {
                req.insert("ConsistentRead".into(), json!(true));
            }
            if let Some(n) = read.page_limit {
                req.insert("Limit".into(), json!(n));
            }
            let mut all = Vec::new();
            if let (Op::Query, Some(k)) = (op, &read.key_condition) {
                req.insert("KeyConditionExpression".into(), json!(k.expression));
                all.push(k);
            }
            if let Some(f) = &read.filter {
                req.insert("FilterExpression".into(), json!(f.expression));
                all.push(f);
            }
            if let Some(p) = &read.projection {
                req.insert("ProjectionExpression".into(), json!(p.expression));
                all.push(p);
            }
            put_placeholders(&mut req, &all)?;
            if let Some(k) = &start {
                req.insert("ExclusiveStartKey".into(), to_value(k)?);
            }
            let v = self.call(op, Value::Object(req))?;
            let mut page = page_of(v).map_err(|why| self.malformed(op, why))?;
            each(&mut page.items)?;
            out.append(&mut page.items);
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => {
                    if start.as_ref() == Some(&k) {
                        return Err(self.transport.malformed(
                            op.target(),
                            "the same LastEvaluatedKey twice; stopped".into(),
                        ));
                    }
                    start = Some(k);
                }
                _ => return Ok(out),
            }
        }
    }
}

// What DynamoDB answers, read: each a refusal in handoff's own words
// (nothing of the answer quoted: it may be long, or hold escape
// sequences), made an error of kind Malformed by the client.

/// An answer's body as JSON: an object (an empty body is an empty one).
pub(super) fn answer_value(body: &[u8]) -> std::result::Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("JSON, but not an object".into()),
        Err(e) => Err(refusal("an answer", &e)),
    }
}

/// The table description under `field` (`Table`, `TableDescription`) of
/// an answer.
pub(super) fn table_in(v: Value, field: &str) -> std::result::Result<TableDescription, String> {
    let raw: RawTable =
        serde_json::from_value(taken(v, field)).map_err(|e| refusal("a table description", &e))?;
    Ok(raw.into())
}

/// The item under `field` (`Item`, `Attributes`) of an answer; `None`
/// when there is none.
pub(super) fn item_in(v: Value, field: &str) -> std::result::Result<Option<Item>, String> {
    match taken(v, field) {
        Value::Null => Ok(None),
        item => serde_json::from_value(item)
            .map(Some)
            .map_err(|e| refusal("an item", &e)),
    }
}

/// One page of a Query or Scan answer: its items and the key to go on
/// from, if any.
pub(super) fn page_of(v: Value) -> std::result::Result<Page, String> {
    serde_json::from_value(v).map_err(|e| refusal("a page of items", &e))
}

/// `v[field]`, taken out; null when `v` is not an object or has no
/// `field` (where `v[field]` would panic on a value that is not an
/// object).
fn taken(v: Value, field: &str) -> Value {
    match v {
        Value::Object(mut m) => m.remove(field).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// Why an answer was not `what`, in words; nothing of the answer quoted.
fn refusal(what: &str, e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Data => format!("JSON, but not {what} as DynamoDB writes it"),
        serde_json::error::Category::Eof => "JSON cut short".into(),
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
            format!("not JSON (line {}, column {})", e.line(), e.column())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_dynamodb_json() {
        let mut item = Item::new();
        item.insert("id".into(), Attr::s("token#ab"));
        item.insert("rev".into(), Attr::n(3));
        item.insert("ok".into(), Attr::BOOL(true));
        let text = serde_json::to_string(&item).unwrap();
        assert_eq!(
            text,
            r#"{"id":{"S":"token#ab"},"ok":{"BOOL":true},"rev":{"N":"3"}}"#
        );
        let back: Item = serde_json::from_str(&text).unwrap();
        assert_eq!(back, item);
        assert_eq!(back["rev"].as_u64(), Some(3));
        assert_eq!(back["id"].as_s(), Some("token#ab"));
        assert_eq!(back["ok"].as_s(), None);
    }

    #[test]
    fn placeholders_of_several_expressions_are_merged() {
        let a = Condition::new("#r = :r")
            .name("#r", "revision")
            .value(":r", Attr::n(1));
        let b = Condition::new("SET #s = :s")
            .name("#s", "state")
            .value(":s", Attr::s("x"));
        let mut req = Map::new();
        put_placeholders(&mut req, &[&a, &b]).unwrap();
        assert_eq!(
            Value::Object(req),
            json!({
                "ExpressionAttributeNames": {"#r": "revision", "#s": "state"},
                "ExpressionAttributeValues": {":r": {"N": "1"}, ":s": {"S": "x"}},
            })
        );
    }

    #[test]
    fn answers_are_read_or_refused_in_few_words() {
        assert_eq!(answer_value(b" \n").unwrap(), json!({}));
        // Answers that are JSON but not objects: `v["Table"]` panicked on
        // them; now each is refused.
        for body in [&b"[1]"[..], b"7", b"\"Table\"", b"null", b"true"] {
            assert_eq!(answer_value(body).unwrap_err(), "JSON, but not an object");
            let v: Value = serde_json::from_slice(body).unwrap();
            assert!(table_in(v.clone(), "Table").is_err());
            assert!(table_in(v.clone(), "TableDescription").is_err());
            assert_eq!(item_in(v.clone(), "Item"), Ok(None));
            assert!(page_of(v).is_err());
        }
        // Nothing of the answer is quoted: not its escape sequences, not
        // its length.
        let hostile = format!("\u{1b}[2J{}", "x".repeat(100_000));
        for v in [
            json!({"Table": {"TableName": "t", "KeySchema": hostile}}),
            json!({"Item": {"id": {hostile.clone(): "x"}}}),
            json!({"Items": [{"id": {"S": 1}}], "LastEvaluatedKey": hostile}),
        ] {
            let e = table_in(v.clone(), "Table")
                .err()
                .or(item_in(v.clone(), "Item").err())
                .or(page_of(v).err())
                .unwrap();
            assert!(e.len() < 100 && !e.contains('\u{1b}'), "{e}");
        }
        let e = answer_value(b"{\"Item\": {\"id\": \x1b").unwrap_err();
        assert_eq!(e, "not JSON (line 1, column 17)");
        let t = table_in(
            json!({"Table": {"TableName": "t", "TableStatus": "ACTIVE",
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}),
            "Table",
        )
        .unwrap();
        assert_eq!((t.name.as_str(), t.status.as_str()), ("t", "ACTIVE"));
        assert_eq!(t.key_schema, [("id".to_string(), "HASH".to_string())]);
    }

    #[test]
    fn condition_failures_are_told_by_code() {
        let e = |code: &str| Error::aws(code, "The conditional request failed", Some("R".into()));
        assert!(is_condition_failed(&e("ConditionalCheckFailedException")));
        assert!(!is_condition_failed(&e("ResourceNotFoundException")));
        assert!(!is_condition_failed(&Error::other(
            "ConditionalCheckFailedException"
        )));
        assert!(is_not_found(&e("ResourceNotFoundException")));
        assert!(is_access_denied(&e("AccessDeniedException")));
    }
}
