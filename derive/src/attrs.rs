//! Reading `#[record(...)]`, `#[serde(...)]` and doc attributes.

use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta};

/// `#[record(...)]` and the serde attributes that matter, on the type.
#[derive(Default)]
pub struct Container {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub topic: Option<String>,
    pub krate: Option<syn::Path>,
    pub rename_all: Option<(RenameRule, proc_macro2::Span)>,
    pub serde_rename: Option<String>,
    pub doc: Option<String>,
}

/// The same, on a field (or an enum variant).
#[derive(Default)]
pub struct Field {
    pub key: Option<proc_macro2::Span>,
    pub default_json: Option<(String, proc_macro2::Span)>,
    pub schema_json: Option<(String, proc_macro2::Span)>,
    pub rename: Option<String>,
    pub aliases: Vec<String>,
    /// Not written by serde: left out of the schema.
    pub skip: bool,
    /// `#[serde(skip_deserializing)]`: written, but serde fills it from its default when
    /// reading (so the generated Avro decoder is not used for the record).
    pub skip_deserializing: bool,
    /// `#[serde(default)]` (None) or `#[serde(default = "path")]` (Some).
    pub serde_default: Option<Option<syn::ExprPath>>,
    /// `with`, `serialize_with` or `deserialize_with`: a custom representation.
    pub custom_with: Option<proc_macro2::Span>,
    /// The module path of `#[serde(with = "...")]`, as written (spaces removed).
    pub with_path: Option<String>,
    /// `#[record(fixed_name = "...")]`: the Avro name of a `[u8; N]` field's fixed type.
    pub fixed_name: Option<(String, proc_macro2::Span)>,
    pub doc: Option<String>,
}

#[derive(Clone, Copy)]
pub enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
}

impl RenameRule {
    fn parse(s: &LitStr) -> syn::Result<Self> {
        Ok(match s.value().as_str() {
            "lowercase" => RenameRule::Lower,
            "UPPERCASE" => RenameRule::Upper,
            "PascalCase" => RenameRule::Pascal,
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            "kebab-case" | "SCREAMING-KEBAB-CASE" => {
                return Err(syn::Error::new(
                    s.span(),
                    "#[derive(Record)]: kebab-case names are not valid Avro names (letters, digits and '_' only)",
                ));
            }
            other => {
                return Err(syn::Error::new(
                    s.span(),
                    format!("unknown serde rename_all rule \"{other}\""),
                ));
            }
        })
    }

    /// Applies the rule to a field name (snake_case in Rust) or a variant name (PascalCase).
    pub fn apply(self, name: &str, is_variant: bool) -> String {
        let words: Vec<String> = if is_variant {
            let mut words = Vec::new();
            let mut cur = String::new();
            for c in name.chars() {
                if c.is_uppercase() && !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                cur.push(c);
            }
            if !cur.is_empty() {
                words.push(cur);
            }
            words.into_iter().map(|w| w.to_lowercase()).collect()
        } else {
            name.split('_').map(str::to_owned).collect()
        };
        let cap = |w: &str| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        };
        match self {
            RenameRule::Lower => words.concat().to_lowercase(),
            RenameRule::Upper => words.concat().to_uppercase(),
            RenameRule::Pascal => words.iter().map(|w| cap(w)).collect(),
            RenameRule::Camel => {
                let pascal: String = words.iter().map(|w| cap(w)).collect();
                let mut c = pascal.chars();
                c.next()
                    .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
            RenameRule::Snake => words.join("_").to_lowercase(),
            RenameRule::ScreamingSnake => words.join("_").to_uppercase(),
        }
    }
}

/// The doc comment of an item, lines joined, one leading space per line removed.
pub fn doc(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).trim_end().to_owned())
        .collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn unsupported(span: proc_macro2::Span, what: &str, why: &str) -> syn::Error {
    syn::Error::new(
        span,
        format!("#[derive(Record)] does not support #[serde({what})]: {why}"),
    )
}

pub fn container(attrs: &[Attribute]) -> syn::Result<Container> {
    let mut c = Container {
        doc: doc(attrs),
        ..Container::default()
    };
    for attr in attrs {
        if attr.path().is_ident("record") {
            attr.parse_nested_meta(|m| {
                let key = m.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
                match key.as_str() {
                    "namespace" => c.namespace = Some(m.value()?.parse::<LitStr>()?.value()),
                    "name" => c.name = Some(m.value()?.parse::<LitStr>()?.value()),
                    "topic" => c.topic = Some(m.value()?.parse::<LitStr>()?.value()),
                    "crate" => c.krate = Some(m.value()?.parse::<LitStr>()?.parse()?),
                    _ => {
                        return Err(m.error(
                            "unknown #[record] attribute on a type (expected namespace, name, topic or crate)",
                        ));
                    }
                }
                Ok(())
            })?;
        } else if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|m| {
                let key = m.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
                match key.as_str() {
                    "rename" => c.serde_rename = Some(single_name(&m)?),
                    "rename_all" => {
                        let s: LitStr = m.value()?.parse()?;
                        c.rename_all = Some((RenameRule::parse(&s)?, s.span()));
                    }
                    "deny_unknown_fields" | "crate" | "bound" | "expecting" => skip_value(&m)?,
                    "tag" | "content" | "untagged" => {
                        return Err(unsupported(
                            m.path.span(),
                            &key,
                            "Avro has no tagged representation of enums with data",
                        ));
                    }
                    "default" => {
                        return Err(unsupported(
                            m.path.span(),
                            &key,
                            "put #[serde(default)] on each field that has one, so its Avro default is known",
                        ));
                    }
                    other => {
                        return Err(unsupported(
                            m.path.span(),
                            other,
                            "it changes what serde writes in a way the Avro schema can't follow",
                        ));
                    }
                }
                Ok(())
            })?;
        }
    }
    Ok(c)
}

pub fn field(attrs: &[Attribute]) -> syn::Result<Field> {
    let mut f = Field {
        doc: doc(attrs),
        ..Field::default()
    };
    for attr in attrs {
        if attr.path().is_ident("record") {
            attr.parse_nested_meta(|m| {
                let key = m.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
                match key.as_str() {
                    "key" => {
                        if f.key.is_some() {
                            return Err(m.error("duplicate #[record(key)]"));
                        }
                        f.key = Some(m.path.span());
                    }
                    "default" => {
                        let s: LitStr = m.value()?.parse()?;
                        check_json(&s, "default")?;
                        f.default_json = Some((s.value(), s.span()));
                    }
                    "schema" => {
                        let s: LitStr = m.value()?.parse()?;
                        check_json(&s, "schema")?;
                        f.schema_json = Some((s.value(), s.span()));
                    }
                    "fixed_name" => {
                        let s: LitStr = m.value()?.parse()?;
                        let name = s.value();
                        if name.is_empty() || !name.split('.').all(valid_avro_name) {
                            return Err(syn::Error::new(
                                s.span(),
                                format!("\"{name}\" is not a valid Avro name or full name"),
                            ));
                        }
                        f.fixed_name = Some((name, s.span()));
                    }
                    _ => {
                        return Err(m.error(
                            "unknown #[record] attribute on a field (expected key, default, schema or fixed_name)",
                        ));
                    }
                }
                Ok(())
            })?;
        } else if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|m| {
                let key = m
                    .path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                match key.as_str() {
                    "rename" => f.rename = Some(single_name(&m)?),
                    "alias" => f.aliases.push(m.value()?.parse::<LitStr>()?.value()),
                    "skip" | "skip_serializing" => f.skip = true,
                    "skip_deserializing" => f.skip_deserializing = true,
                    "borrow" | "bound" => skip_value(&m)?,
                    "default" => {
                        if m.input.peek(syn::Token![=]) {
                            let s: LitStr = m.value()?.parse()?;
                            f.serde_default = Some(Some(s.parse()?));
                        } else {
                            f.serde_default = Some(None);
                        }
                    }
                    "with" => {
                        f.custom_with = Some(m.path.span());
                        let s: LitStr = m.value()?.parse()?;
                        f.with_path =
                            Some(s.value().chars().filter(|c| !c.is_whitespace()).collect());
                    }
                    "serialize_with" | "deserialize_with" => {
                        f.custom_with = Some(m.path.span());
                        skip_value(&m)?;
                    }
                    "flatten" => {
                        return Err(unsupported(
                            m.path.span(),
                            "flatten",
                            "an Avro record's fields are fixed; nest the record instead",
                        ));
                    }
                    "skip_serializing_if" => {
                        return Err(unsupported(
                            m.path.span(),
                            "skip_serializing_if",
                            "an Avro record always writes every field",
                        ));
                    }
                    other => {
                        return Err(unsupported(
                            m.path.span(),
                            other,
                            "it changes what serde writes in a way the Avro schema can't follow",
                        ));
                    }
                }
                Ok(())
            })?;
        }
    }
    Ok(f)
}

/// `rename = "x"`, or `rename(serialize = "x", deserialize = "x")` with both the same.
fn single_name(m: &syn::meta::ParseNestedMeta) -> syn::Result<String> {
    if m.input.peek(syn::Token![=]) {
        return Ok(m.value()?.parse::<LitStr>()?.value());
    }
    let mut ser = None;
    let mut de = None;
    m.parse_nested_meta(|inner| {
        let v = inner.value()?.parse::<LitStr>()?.value();
        if inner.path.is_ident("serialize") {
            ser = Some(v);
        } else if inner.path.is_ident("deserialize") {
            de = Some(v);
        }
        Ok(())
    })?;
    match (ser, de) {
        (Some(s), Some(d)) if s == d => Ok(s),
        (Some(s), None) => Ok(s),
        _ => Err(m.error(
            "#[derive(Record)] needs the serialized name: different serialize and deserialize names can't share one Avro schema",
        )),
    }
}

fn skip_value(m: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if m.input.peek(syn::Token![=]) {
        let _: Expr = m.value()?.parse()?;
    }
    Ok(())
}

fn check_json(s: &LitStr, what: &str) -> syn::Result<()> {
    serde_json::from_str::<serde_json::Value>(&s.value())
        .map(drop)
        .map_err(|e| syn::Error::new(s.span(), format!("#[record({what})] is not JSON: {e}")))
}

/// Whether `name` is a valid Avro name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn valid_avro_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
