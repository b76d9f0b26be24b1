//! The shop catalog's records (products, orders with their lines) as the shop sends them, validated.

use serde_json::Value;

/// A product as the shop sends it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Product {
    pub r#ref: String,
    pub title: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub price: String,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrderLine {
    pub r#ref: String,
    #[serde(default)]
    pub product_ref: String,
    #[serde(default)]
    pub title: String,
    #[serde(default = "one")]
    pub quantity: i64,
    #[serde(default)]
    pub status: String,
}

fn one() -> i64 {
    1
}

/// An order with its lines, as the shop sends it (validated by the caller).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    pub number: String,
    pub customer_email: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub total: String,
    #[serde(default)]
    pub currency: String,
    pub placed_at: Option<i64>,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub lines: Vec<OrderLine>,
}

/// One validated NDJSON record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Product(Product),
    Order(Order),
}

/// Parses one NDJSON line.
pub fn parse_record(line: &str) -> Result<Record, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    match v.get("type").and_then(Value::as_str) {
        Some("product") => parse_product(&v, None).map(Record::Product),
        Some("order") => parse_order(&v, None).map(Record::Order),
        Some(other) => Err(format!("type: {other:?} is neither \"product\" nor \"order\"")),
        None => Err("type: missing (\"product\" or \"order\")".into()),
    }
}

fn text(v: &Value, key: &str) -> Result<String, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(format!("{key}: expected text")),
    }
}

fn required(v: &Value, key: &str, given: Option<&str>) -> Result<String, String> {
    let s = match given {
        Some(g) => g.trim().to_string(),
        None => text(v, key)?,
    };
    if s.is_empty() {
        return Err(format!("{key}: missing"));
    }
    if s.len() > 200 || s.chars().any(char::is_control) {
        return Err(format!("{key}: at most 200 printable characters"));
    }
    Ok(s)
}

/// A reference or number: letters, digits and `-_.:#`, no `/` (it separates an order from its line).
fn reference(v: &Value, key: &str, given: Option<&str>) -> Result<String, String> {
    let s = required(v, key, given)?;
    if s.len() > 64 || !s.chars().all(|c| c.is_alphanumeric() || "-_.:#".contains(c)) {
        return Err(format!("{key}: {s:?} must be at most 64 letters, digits or -_.:#"));
    }
    Ok(s)
}

fn decimal(v: &Value, key: &str) -> Result<String, String> {
    let s = text(v, key)?;
    let ok = s.is_empty() || {
        let digits = s.strip_prefix('-').unwrap_or(&s);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        !int.is_empty()
            && int.len() <= 15
            && frac.len() <= 4
            && int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    };
    if ok { Ok(s) } else { Err(format!("{key}: {s:?} is not a decimal amount like 19.99")) }
}

fn url(v: &Value, key: &str) -> Result<String, String> {
    let s = text(v, key)?;
    if s.is_empty() || s.starts_with("https://") || s.starts_with("http://") {
        Ok(s)
    } else {
        Err(format!("{key}: {s:?} must be an http(s) URL"))
    }
}

fn timestamp(v: &Value, key: &str) -> Result<Option<i64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| format!("{key}: expected seconds since 1970")),
        Some(Value::String(s)) => time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(|t| Some(t.unix_timestamp()))
            .map_err(|_| format!("{key}: {s:?} is not an RFC 3339 time like 2026-11-01T10:00:00Z")),
        Some(_) => Err(format!("{key}: expected an RFC 3339 time")),
    }
}

/// A product; `ref_from_path` is the reference from `PUT /products/{ref}` (then `ref` in the body may be absent).
pub fn parse_product(v: &Value, ref_from_path: Option<&str>) -> Result<Product, String> {
    if !v.is_object() {
        return Err("expected a JSON object".into());
    }
    let r = reference(v, "ref", ref_from_path)?;
    if let Some(path) = ref_from_path
        && !text(v, "ref")?.is_empty()
        && text(v, "ref")? != path
    {
        return Err(format!("ref: the body says {:?}, the URL {path:?}", text(v, "ref")?));
    }
    Ok(Product { r#ref: r, title: required(v, "title", None)?, url: url(v, "url")?, price: decimal(v, "price")? })
}

/// An order with its lines; `number_from_path` as for products.
pub fn parse_order(v: &Value, number_from_path: Option<&str>) -> Result<Order, String> {
    if !v.is_object() {
        return Err("expected a JSON object".into());
    }
    let number = reference(v, "number", number_from_path)?;
    let email = required(v, "customer_email", None)?;
    let email = crate::domain::EmailAddress::parse(&email)
        .map_err(|_| format!("customer_email: {email:?} is not an e-mail address"))?;
    let currency = text(v, "currency")?.to_uppercase();
    if !currency.is_empty() && (currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic())) {
        return Err(format!("currency: {currency:?} is not a three-letter code like EUR"));
    }
    let lines = match v.get("lines") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, l)| parse_line(l).map_err(|e| format!("lines[{i}].{e}")))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("lines: expected a list".into()),
    };
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = lines.iter().find(|l: &&OrderLine| !seen.insert(l.r#ref.clone())) {
        return Err(format!("lines: the line reference {:?} appears twice", dup.r#ref));
    }
    Ok(Order {
        number,
        customer_email: email.to_string(),
        status: text(v, "status")?,
        total: decimal(v, "total")?,
        currency,
        placed_at: timestamp(v, "placed_at")?,
        url: url(v, "url")?,
        lines,
    })
}

fn parse_line(v: &Value) -> Result<OrderLine, String> {
    if !v.is_object() {
        return Err("expected an object".into());
    }
    let quantity = match v.get("quantity") {
        None | Some(Value::Null) => 1,
        Some(q) => {
            q.as_i64().filter(|q| (0..=1_000_000).contains(q)).ok_or("quantity: expected a whole number from 0")?
        }
    };
    Ok(OrderLine {
        r#ref: reference(v, "ref", None)?,
        product_ref: text(v, "product_ref")?,
        title: text(v, "title")?,
        quantity,
        status: text(v, "status")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_order_is_accepted() {
        let r = parse_record(r#"{"type":"order","number":"100023","customer_email":"Jose@Example.com","status":"shipped","total":"59.90","currency":"eur","placed_at":"2026-11-01T10:00:00Z","lines":[{"ref":"1","product_ref":"LAMP-1","title":"Desk lamp","quantity":2}]}"#).unwrap();
        let Record::Order(o) = r else { panic!("not an order") };
        assert_eq!(
            (o.customer_email.as_str(), o.currency.as_str(), o.lines[0].quantity),
            ("jose@example.com", "EUR", 2)
        );
        assert_eq!(o.placed_at, Some(1_793_527_200));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{"type":"order","number":"1","customer_email":"nope"}"#, "customer_email"),
            (r#"{"type":"order","number":"a/b","customer_email":"a@b.test"}"#, "number"),
            (r#"{"type":"order","number":"1","customer_email":"a@b.test","total":"12,50"}"#, "total"),
            (
                r#"{"type":"order","number":"1","customer_email":"a@b.test","lines":[{"ref":"1","quantity":-1}]}"#,
                "lines[0].quantity",
            ),
            (
                r#"{"type":"order","number":"1","customer_email":"a@b.test","lines":[{"ref":"1"},{"ref":"1"}]}"#,
                "appears twice",
            ),
            (r#"{"type":"product","ref":"X"}"#, "title"),
            (r#"{"type":"product","ref":"X","title":"t","url":"javascript:alert(1)"}"#, "url"),
            (r#"{"type":"coupon"}"#, "type"),
            ("{broken", "not JSON"),
        ];
        for (line, field) in cases {
            let err = parse_record(line).unwrap_err();
            assert!(err.contains(field), "{line}: {err}");
        }
    }

    #[test]
    fn the_url_path_supplies_the_reference() {
        let p = parse_product(&serde_json::json!({"title": "Lamp", "price": 19.9}), Some("LAMP-1")).unwrap();
        assert_eq!((p.r#ref.as_str(), p.price.as_str()), ("LAMP-1", "19.9"));
        assert!(parse_product(&serde_json::json!({"ref": "OTHER", "title": "x"}), Some("LAMP-1")).is_err());
    }
}
