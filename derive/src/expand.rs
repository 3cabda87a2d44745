//! Generating the `Record`, `AvroType` and `Keyed` impls.

use crate::attrs::{self, Container, valid_avro_name};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Type};

pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(Record)] does not support generic types: an Avro record has one fixed schema and name",
        ));
    }
    let c = attrs::container(&input.attrs)?;
    let krate = c
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::kcodec));
    let name = c
        .name
        .clone()
        .or_else(|| c.serde_rename.clone())
        .unwrap_or_else(|| input.ident.to_string());
    if !valid_avro_name(&name) {
        return Err(syn::Error::new(
            input.ident.span(),
            format!(
                "\"{name}\" is not a valid Avro name (letters, digits and '_', not starting with a digit)"
            ),
        ));
    }
    if let Some(ns) = &c.namespace
        && !ns.split('.').all(valid_avro_name)
    {
        return Err(syn::Error::new(
            input.ident.span(),
            format!("\"{ns}\" is not a valid Avro namespace"),
        ));
    }
    let full_name = match &c.namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.clone(),
    };
    let (body, keyed) = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(fields) => record_body(&c, &krate, &name, fields)?,
            _ => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "#[derive(Record)] needs a struct with named fields: tuple and unit structs have no Avro field names",
                ));
            }
        },
        Data::Enum(e) => (enum_body(&c, &name, e)?, None),
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span(),
                "#[derive(Record)] does not support unions",
            ));
        }
    };
    let ident = &input.ident;
    let topic = match &c.topic {
        Some(t) => quote!(::core::option::Option::Some(#t)),
        None => quote!(::core::option::Option::None),
    };
    let keyed = keyed.map(|(field, ty)| {
        let assert = quote_spanned! {ty.span()=>
            type Key = #ty;
        };
        quote! {
            impl #krate::record::Keyed for #ident {
                #assert
                fn key(&self) -> &Self::Key {
                    &self.#field
                }
            }
        }
    });
    Ok(quote! {
        const _: () = {
            use #krate::__private::serde_json;

            impl #krate::record::AvroType for #ident {
                fn avro_schema_in(names: &mut #krate::record::Names) -> serde_json::Value {
                    if !names.define(#full_name) {
                        return serde_json::Value::String(#full_name.to_owned());
                    }
                    #body
                }
            }

            impl #krate::record::Record for #ident {
                const FULL_NAME: &'static str = #full_name;
                const TOPIC: ::core::option::Option<&'static str> = #topic;

                fn avro_schema() -> &'static #krate::record::RecordSchema {
                    static CELL: #krate::record::SchemaCell = #krate::record::SchemaCell::new();
                    CELL.get::<Self>()
                }
            }

            #keyed
        };
    })
}

/// The `{"type": "record", …}` object, plus the key field if there is one.
fn record_body(
    c: &Container,
    krate: &syn::Path,
    name: &str,
    fields: &syn::FieldsNamed,
) -> syn::Result<(TokenStream, Option<(syn::Ident, Type)>)> {
    let mut key: Option<(syn::Ident, Type, Span)> = None;
    let mut pushes = Vec::new();
    for field in &fields.named {
        let ident = field.ident.clone().expect("named field");
        let f = attrs::field(&field.attrs)?;
        if let Some(span) = f.key {
            if let Some((first, _, _)) = &key {
                return Err(syn::Error::new(
                    span,
                    format!("a record has one key: `{first}` is already #[record(key)]"),
                ));
            }
            key = Some((ident.clone(), field.ty.clone(), span));
        }
        if f.skip {
            if f.key.is_some() {
                return Err(syn::Error::new(
                    ident.span(),
                    "the key field can't be skipped by serde",
                ));
            }
            continue;
        }
        let raw = ident.to_string();
        let raw = raw.strip_prefix("r#").unwrap_or(&raw).to_owned();
        let field_name = f.rename.clone().unwrap_or_else(|| match c.rename_all {
            Some((rule, _)) => rule.apply(&raw, false),
            None => raw.clone(),
        });
        if !valid_avro_name(&field_name) {
            return Err(syn::Error::new(
                ident.span(),
                format!("field name \"{field_name}\" is not a valid Avro name"),
            ));
        }
        let ty = &field.ty;
        let schema = match (&f.schema_json, f.custom_with) {
            (Some((json, span)), _) => quote_spanned! {*span=>
                serde_json::from_str::<serde_json::Value>(#json).expect("checked at compile time")
            },
            (None, Some(span)) => {
                return Err(syn::Error::new(
                    span,
                    "a field with serde `with`/`serialize_with` needs an explicit Avro schema: #[record(schema = \"...\")]",
                ));
            }
            (None, None) => quote_spanned! {ty.span()=>
                <#ty as #krate::record::AvroType>::avro_schema_in(names)
            },
        };
        let default = match (&f.default_json, &f.serde_default) {
            (Some((json, _)), _) => Some(quote! {
                serde_json::from_str::<serde_json::Value>(#json).expect("checked at compile time")
            }),
            (None, Some(None)) => Some(quote_spanned! {ty.span()=>
                serde_json::to_value(<#ty as ::core::default::Default>::default())
                    .expect("a field's default value serializes to JSON")
            }),
            (None, Some(Some(path))) => Some(quote! {
                serde_json::to_value(#path()).expect("a field's default value serializes to JSON")
            }),
            (None, None) if is_option(ty) => Some(quote!(serde_json::Value::Null)),
            (None, None) => None,
        };
        let default = default.map(|d| quote!(field.insert("default".to_owned(), #d);));
        let doc = f
            .doc
            .as_ref()
            .map(|d| quote!(field.insert("doc".to_owned(), serde_json::Value::from(#d));));
        let aliases = (!f.aliases.is_empty()).then(|| {
            let a = &f.aliases;
            quote!(field.insert("aliases".to_owned(), serde_json::json!([#(#a),*]));)
        });
        pushes.push(quote! {
            {
                let mut field = serde_json::Map::new();
                field.insert("name".to_owned(), serde_json::Value::from(#field_name));
                field.insert("type".to_owned(), #schema);
                #doc
                #default
                #aliases
                fields.push(serde_json::Value::Object(field));
            }
        });
    }
    let header = header(c, name, "record");
    let body = quote! {
        let mut fields = ::std::vec::Vec::new();
        #(#pushes)*
        let mut record = #header;
        record.insert("fields".to_owned(), serde_json::Value::Array(fields));
        serde_json::Value::Object(record)
    };
    Ok((body, key.map(|(i, t, _)| (i, t))))
}

/// The name, namespace and doc of a named type.
fn header(c: &Container, name: &str, kind: &str) -> TokenStream {
    let ns = c
        .namespace
        .as_ref()
        .map(|ns| quote!(m.insert("namespace".to_owned(), serde_json::Value::from(#ns));));
    let doc = c
        .doc
        .as_ref()
        .map(|d| quote!(m.insert("doc".to_owned(), serde_json::Value::from(#d));));
    quote! {{
        let mut m = serde_json::Map::new();
        m.insert("type".to_owned(), serde_json::Value::from(#kind));
        m.insert("name".to_owned(), serde_json::Value::from(#name));
        #ns
        #doc
        m
    }}
}

fn enum_body(c: &Container, name: &str, e: &syn::DataEnum) -> syn::Result<TokenStream> {
    let mut symbols = Vec::new();
    for v in &e.variants {
        if !matches!(v.fields, Fields::Unit) {
            return Err(syn::Error::new(
                v.ident.span(),
                "#[derive(Record)] maps only enums of unit variants (to an Avro enum); a variant with data has no clean Avro form",
            ));
        }
        let f = attrs::field(&v.attrs)?;
        if f.skip {
            continue;
        }
        let symbol = f.rename.unwrap_or_else(|| match c.rename_all {
            Some((rule, _)) => rule.apply(&v.ident.to_string(), true),
            None => v.ident.to_string(),
        });
        if !valid_avro_name(&symbol) {
            return Err(syn::Error::new(
                v.ident.span(),
                format!("enum symbol \"{symbol}\" is not a valid Avro name"),
            ));
        }
        symbols.push(symbol);
    }
    if symbols.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "an Avro enum needs at least one symbol",
        ));
    }
    let header = header(c, name, "enum");
    Ok(quote! {
        let mut m = #header;
        m.insert("symbols".to_owned(), serde_json::json!([#(#symbols),*]));
        serde_json::Value::Object(m)
    })
}

fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        _ => false,
    }
}
