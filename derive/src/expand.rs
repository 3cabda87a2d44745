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
    let mut checks = Vec::new();
    // The generated Avro code (`AvroType::avro_encode_raw`/`avro_decode_raw`), when the type's
    // shape has it.
    let mut raw = TokenStream::new();
    let (body, keyed) = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(fields) => record_body(&c, &krate, &name, fields, &mut checks, &mut raw)?,
            _ => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "#[derive(Record)] needs a struct with named fields: tuple and unit structs have no Avro field names",
                ));
            }
        },
        Data::Enum(e) if e.variants.iter().any(|v| !matches!(v.fields, Fields::Unit)) => (
            union_body(&krate, &input.ident, &full_name, e, &mut checks, &mut raw)?,
            None,
        ),
        Data::Enum(e) => (enum_body(&c, &krate, &name, &full_name, e, &mut raw)?, None),
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span(),
                "#[derive(Record)] does not support unions",
            ));
        }
    };
    let ident = &input.ident;
    // An Avro union has no name: it is written out at each use.
    let named = match &input.data {
        Data::Enum(e) => e.variants.iter().all(|v| matches!(v.fields, Fields::Unit)),
        _ => true,
    };
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
    let branch = if named { full_name.as_str() } else { "union" };
    Ok(quote! {
        const _: () = {
            use #krate::__private::serde_json;

            #(#checks)*

            impl #krate::record::AvroType for #ident {
                const AVRO_BRANCH: &'static str = #branch;

                #raw

                fn avro_schema_in(names: &mut #krate::record::Names) -> serde_json::Value {
                    if #named && !names.define(#full_name) {
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
    checks: &mut Vec<TokenStream>,
    raw: &mut TokenStream,
) -> syn::Result<(TokenStream, Option<(syn::Ident, Type)>)> {
    let mut key: Option<(syn::Ident, Type, Span)> = None;
    let mut pushes = Vec::new();
    // The fields in order, while every one of them is written and read by its type alone.
    let mut raw_fields: Option<Vec<(syn::Ident, &Type)>> = Some(Vec::new());
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
        if f.skip || f.skip_deserializing || f.custom_with.is_some() || f.schema_json.is_some() {
            // serde's encoding of the field is not its type's alone: the record keeps to the
            // compiled plan.
            raw_fields = None;
        }
        if let Some(raw_fields) = &mut raw_fields {
            raw_fields.push((ident.clone(), &field.ty));
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
        let special = match (&f.schema_json, &f.with_path) {
            (None, Some(path)) => {
                special_with(path, f.custom_with.unwrap_or_else(Span::call_site))?
            }
            _ => None,
        };
        if let (Some((_, span)), false) = (
            &f.fixed_name,
            matches!(special, Some(Special::Bytes)) && byte_array_len(ty).is_some(),
        ) {
            return Err(syn::Error::new(
                *span,
                "#[record(fixed_name)] names the Avro fixed of a [u8; N] field with #[serde(with = \"kcodec::record::avro_bytes\")]",
            ));
        }
        let schema = match (&f.schema_json, &special, f.custom_with) {
            (Some((json, span)), _, _) => quote_spanned! {*span=>
                serde_json::from_str::<serde_json::Value>(#json).expect("checked at compile time")
            },
            (None, Some(special), _) => {
                let inner = match special {
                    Special::Bytes => match byte_array_len(ty) {
                        Some(len) => {
                            let fixed_name = match &f.fixed_name {
                                Some((n, _)) => n.clone(),
                                None => format!("{}{}", pascal(name), pascal(&field_name)),
                            };
                            quote! {
                                serde_json::json!({"type": "fixed", "name": #fixed_name, "size": (#len) as u64})
                            }
                        }
                        None => quote!(serde_json::Value::from("bytes")),
                    },
                    Special::Time { avro, logical } => quote! {
                        serde_json::json!({"type": #avro, "logicalType": #logical})
                    },
                };
                if is_option(ty) {
                    quote!(serde_json::Value::Array(
                        ::std::vec![serde_json::Value::from("null"), #inner]
                    ))
                } else {
                    inner
                }
            }
            (None, None, Some(span)) => {
                return Err(syn::Error::new(
                    span,
                    "a field with serde `with`/`serialize_with` needs an explicit Avro schema: #[record(schema = \"...\")] \
                     (kcodec::record::avro_bytes, serde_bytes, kcodec::record::avro_time::* and chrono::serde::ts_milli/microseconds are recognised)",
                ));
            }
            (None, None, None) => {
                check_plain_type(ty)?;
                if let Some(inner) = option_inner(ty) {
                    checks.push(refuse_same_branch(
                        krate,
                        inner,
                        quote!("union"),
                        "an Option of a union is a union in a union, which Avro can't express: \
                         give the union enum a unit variant for null instead of wrapping it in Option",
                    ));
                }
                quote_spanned! {ty.span()=>
                    <#ty as #krate::record::AvroType>::avro_schema_in(names)
                }
            }
        };
        let default = match (&f.default_json, &f.serde_default, &special) {
            (Some((json, _)), _, _) => Some(quote! {
                serde_json::from_str::<serde_json::Value>(#json).expect("checked at compile time")
            }),
            (None, Some(None), Some(_)) if is_option(ty) => Some(quote!(serde_json::Value::Null)),
            (None, Some(Some(path)), Some(_)) if is_option(ty) => {
                return Err(syn::Error::new(
                    path.span(),
                    "the Avro default of an optional field is null: give it with #[record(default = \"null\")] and #[serde(default)]",
                ));
            }
            (None, Some(d), Some(special)) => {
                let value = match d {
                    None => {
                        quote_spanned! {ty.span()=> <#ty as ::core::default::Default>::default() }
                    }
                    Some(path) => quote!(#path()),
                };
                Some(match special {
                    // Avro's JSON form of bytes and fixed: one char per byte (U+0000..U+00FF).
                    Special::Bytes => quote! {{
                        let value: #ty = #value;
                        serde_json::Value::String(
                            ::core::convert::AsRef::<[u8]>::as_ref(&value).iter().map(|&b| char::from(b)).collect(),
                        )
                    }},
                    Special::Time { .. } => {
                        let with: syn::Path =
                            syn::parse_str(f.with_path.as_deref().unwrap_or_default())?;
                        quote! {{
                            let value: #ty = #value;
                            #with::serialize(&value, serde_json::value::Serializer)
                                .expect("a field's default value serializes to JSON")
                        }}
                    }
                })
            }
            (None, Some(None), None) => Some(quote_spanned! {ty.span()=>
                serde_json::to_value(<#ty as ::core::default::Default>::default())
                    .expect("a field's default value serializes to JSON")
            }),
            (None, Some(Some(path)), None) => Some(quote! {
                serde_json::to_value(#path()).expect("a field's default value serializes to JSON")
            }),
            (None, None, _) if is_option(ty) => Some(quote!(serde_json::Value::Null)),
            (None, None, _) => None,
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
    if let Some(raw_fields) = raw_fields {
        *raw = record_raw(krate, &raw_fields);
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

/// An enum with newtype variants (and at most one unit variant): an Avro union whose branches
/// are the variants' types (`"null"` for the unit variant), in declaration order, so that serde's
/// variant index is the union's branch index.
fn union_body(
    krate: &syn::Path,
    ident: &syn::Ident,
    full_name: &str,
    e: &syn::DataEnum,
    checks: &mut Vec<TokenStream>,
    raw: &mut TokenStream,
) -> syn::Result<TokenStream> {
    let mut branches = Vec::new();
    // Each variant's branch: `None` for the unit variant (null), else its type.
    let mut raw_variants: Vec<(&syn::Ident, Option<&Type>)> = Vec::new();
    let mut types: Vec<&Type> = Vec::new();
    let mut unit: Option<&syn::Ident> = None;
    let mut seen: Vec<(String, &syn::Ident)> = Vec::new();
    for v in &e.variants {
        let f = attrs::field(&v.attrs)?;
        if f.skip || f.custom_with.is_some() || f.schema_json.is_some() || f.key.is_some() {
            return Err(syn::Error::new(
                v.ident.span(),
                "#[derive(Record)] maps every variant of an enum with data to one Avro union branch: \
                 skipped variants, `with` and #[record] attributes on variants are not supported",
            ));
        }
        match &v.fields {
            Fields::Unit => {
                if let Some(first) = unit {
                    return Err(syn::Error::new(
                        v.ident.span(),
                        format!(
                            "an Avro union holds one \"null\": `{first}` is already the unit variant of this enum"
                        ),
                    ));
                }
                unit = Some(&v.ident);
                raw_variants.push((&v.ident, None));
                branches.push(quote!(serde_json::Value::from("null")));
            }
            Fields::Unnamed(u) if u.unnamed.len() == 1 => {
                let field = &u.unnamed[0];
                attrs::field(&field.attrs)?;
                let ty = &field.ty;
                if is_option(ty) {
                    return Err(syn::Error::new_spanned(
                        ty,
                        "an Avro union can't hold an Option (a union in a union): add a unit variant for null instead",
                    ));
                }
                if mentions(ty, ident) {
                    return Err(syn::Error::new_spanned(
                        ty,
                        "an Avro union can't contain itself: recursion in Avro goes through a named record",
                    ));
                }
                let key = quote!(#ty).to_string();
                if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                    return Err(syn::Error::new_spanned(
                        ty,
                        format!(
                            "`{first}` already holds this type: an Avro union has one branch per type"
                        ),
                    ));
                }
                seen.push((key, &v.ident));
                // What the derive can't see from the tokens (`A(i32), B(u16)` are both "int";
                // a variant that is itself a union) is refused at compile time.
                checks.push(refuse_same_branch(
                    krate,
                    ty,
                    quote!("union"),
                    "an Avro union can't hold a union (a union in a union): make the variant's type a record",
                ));
                for earlier in &types {
                    checks.push(refuse_same_branch(
                        krate,
                        ty,
                        quote!(<#earlier as #krate::record::AvroType>::AVRO_BRANCH),
                        "two variants of this enum have the same Avro type (as `i32` and `u16` are both \
                         \"int\"): an Avro union has one branch per type",
                    ));
                }
                types.push(ty);
                raw_variants.push((&v.ident, Some(ty)));
                branches.push(quote_spanned! {ty.span()=>
                    <#ty as #krate::record::AvroType>::avro_schema_in(names)
                });
            }
            _ => {
                return Err(syn::Error::new(
                    v.ident.span(),
                    "#[derive(Record)] maps an enum with data to an Avro union of its newtype variants' types \
                     (and \"null\" for one unit variant); a struct or tuple variant has no Avro form: \
                     make it a newtype variant around a #[derive(Record)] struct",
                ));
            }
        }
    }
    if unit.is_some() {
        for ty in &types {
            checks.push(refuse_same_branch(
                krate,
                ty,
                quote!("null"),
                "an Avro union holds one \"null\": this variant's type is null, as the unit variant is",
            ));
        }
    }
    *raw = union_raw(krate, &raw_variants);
    Ok(quote! {
        names.begin_union(#full_name);
        let branches = ::std::vec![#(#branches),*];
        names.end_union(#full_name);
        serde_json::Value::Array(branches)
    })
}

/// A compile-time assertion, spanned at `ty`, that `ty`'s Avro branch is not `other`.
fn refuse_same_branch(
    krate: &syn::Path,
    ty: &Type,
    other: TokenStream,
    message: &str,
) -> TokenStream {
    quote_spanned! {ty.span()=>
        const _: () = ::core::assert!(
            !#krate::record::__same_branch(
                <#ty as #krate::record::AvroType>::AVRO_BRANCH,
                #other,
            ),
            #message,
        );
    }
}

/// Whether `ty` names `ident` or `Self` anywhere.
fn mentions(ty: &Type, ident: &syn::Ident) -> bool {
    fn walk(tokens: TokenStream, ident: &syn::Ident) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == *ident || i == "Self",
            proc_macro2::TokenTree::Group(g) => walk(g.stream(), ident),
            _ => false,
        })
    }
    walk(quote!(#ty), ident)
}

fn enum_body(
    c: &Container,
    krate: &syn::Path,
    name: &str,
    full_name: &str,
    e: &syn::DataEnum,
    raw: &mut TokenStream,
) -> syn::Result<TokenStream> {
    let mut symbols = Vec::new();
    // The variants in symbol order, unless serde skips one (then the enum keeps to the plan).
    let mut raw_variants = Some(Vec::new());
    for v in &e.variants {
        if !matches!(v.fields, Fields::Unit) {
            return Err(syn::Error::new(
                v.ident.span(),
                "#[derive(Record)] maps only enums of unit variants (to an Avro enum); a variant with data has no clean Avro form",
            ));
        }
        let f = attrs::field(&v.attrs)?;
        if f.skip || f.skip_deserializing {
            raw_variants = None;
        }
        if let Some(raw_variants) = &mut raw_variants {
            raw_variants.push(&v.ident);
        }
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
    if let Some(raw_variants) = raw_variants {
        *raw = enum_raw(krate, full_name, &raw_variants);
    }
    let header = header(c, name, "enum");
    Ok(quote! {
        let mut m = #header;
        m.insert("symbols".to_owned(), serde_json::json!([#(#symbols),*]));
        serde_json::Value::Object(m)
    })
}

/// `AvroType::avro_raw_in` of a record or union over `tys`: a type met again (recursion) answers
/// for itself.
fn raw_in(raw: &TokenStream, avro: &TokenStream, tys: &[&Type]) -> TokenStream {
    quote! {
        fn avro_raw_in(seen: &mut #raw::Seen) -> bool {
            !seen.first::<Self>() || (true #(&& <#tys as #avro>::avro_raw_in(seen))*)
        }
    }
}

/// The generated Avro code of a record: its fields in schema order, straight-line.
fn record_raw(krate: &syn::Path, fields: &[(syn::Ident, &Type)]) -> TokenStream {
    let avro = quote!(#krate::record::AvroType);
    let raw = quote!(#krate::record::avro_raw);
    let tys: Vec<&Type> = fields.iter().map(|(_, t)| *t).collect();
    let idents: Vec<&syn::Ident> = fields.iter().map(|(i, _)| i).collect();
    let raw_in = raw_in(&raw, &avro, &tys);
    quote! {
        #raw_in

        #[inline]
        fn avro_encode_raw(
            &self,
            w: &mut #raw::Writer<'_>,
        ) -> ::core::result::Result<(), #raw::AvroError> {
            w.enter()?;
            #(<#tys as #avro>::avro_encode_raw(&self.#idents, w)?;)*
            w.leave();
            ::core::result::Result::Ok(())
        }

        #[inline]
        fn avro_decode_raw(
            r: &mut #raw::Reader<'_>,
        ) -> ::core::result::Result<Self, #raw::AvroError> {
            r.enter()?;
            let value = Self {
                #(#idents: <#tys as #avro>::avro_decode_raw(r)?,)*
            };
            r.leave();
            ::core::result::Result::Ok(value)
        }
    }
}

/// The generated Avro code of a union enum: branch `i` is variant `i`.
fn union_raw(krate: &syn::Path, variants: &[(&syn::Ident, Option<&Type>)]) -> TokenStream {
    let avro = quote!(#krate::record::AvroType);
    let raw = quote!(#krate::record::avro_raw);
    let count = variants.len();
    let tys: Vec<&Type> = variants.iter().filter_map(|(_, t)| *t).collect();
    let raw_in = raw_in(&raw, &avro, &tys);
    let encode = variants.iter().enumerate().map(|(i, (v, ty))| {
        let i = i as i64;
        match ty {
            None => quote!(Self::#v => w.long(#i),),
            Some(ty) => quote!(Self::#v(v) => {
                w.long(#i);
                <#ty as #avro>::avro_encode_raw(v, w)?;
            }),
        }
    });
    let decode = variants.iter().enumerate().map(|(i, (v, ty))| {
        let pattern = if i + 1 == count {
            quote!(_)
        } else {
            quote!(#i)
        };
        match ty {
            None => quote!(#pattern => Self::#v,),
            Some(ty) => quote!(#pattern => Self::#v(<#ty as #avro>::avro_decode_raw(r)?),),
        }
    });
    quote! {
        #raw_in

        #[inline]
        fn avro_encode_raw(
            &self,
            w: &mut #raw::Writer<'_>,
        ) -> ::core::result::Result<(), #raw::AvroError> {
            match self {
                #(#encode)*
            }
            ::core::result::Result::Ok(())
        }

        #[inline]
        fn avro_decode_raw(
            r: &mut #raw::Reader<'_>,
        ) -> ::core::result::Result<Self, #raw::AvroError> {
            ::core::result::Result::Ok(match r.branch(#count)? {
                #(#decode)*
            })
        }
    }
}

/// The generated Avro code of an enum of unit variants: symbol `i` is variant `i`.
fn enum_raw(krate: &syn::Path, full_name: &str, variants: &[&syn::Ident]) -> TokenStream {
    let raw = quote!(#krate::record::avro_raw);
    let count = variants.len();
    let indexes = (0..count).map(|i| i as i64);
    let decode = variants.iter().enumerate().map(|(i, v)| {
        if i + 1 == count {
            quote!(_ => Self::#v,)
        } else {
            quote!(#i => Self::#v,)
        }
    });
    quote! {
        fn avro_raw_in(_: &mut #raw::Seen) -> bool {
            true
        }

        #[inline]
        fn avro_encode_raw(
            &self,
            w: &mut #raw::Writer<'_>,
        ) -> ::core::result::Result<(), #raw::AvroError> {
            w.long(match self {
                #(Self::#variants => #indexes,)*
            });
            ::core::result::Result::Ok(())
        }

        #[inline]
        fn avro_decode_raw(
            r: &mut #raw::Reader<'_>,
        ) -> ::core::result::Result<Self, #raw::AvroError> {
            ::core::result::Result::Ok(match r.symbol(#full_name, #count)? {
                #(#decode)*
            })
        }
    }
}

fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        _ => false,
    }
}

/// A field whose serde `with` module the derive knows: its Avro schema follows from it.
enum Special {
    /// `avro_bytes` or `serde_bytes`: `"bytes"`, or a `fixed` for `[u8; N]`.
    Bytes,
    /// A date/time module: the Avro type and its logical type.
    Time {
        avro: &'static str,
        logical: &'static str,
    },
}

/// The `avro_time` modules and the schemas they write.
const AVRO_TIME: &[(&str, &str, &str)] = &[
    ("timestamp_millis", "long", "timestamp-millis"),
    ("timestamp_micros", "long", "timestamp-micros"),
    ("local_timestamp_millis", "long", "local-timestamp-millis"),
    ("local_timestamp_micros", "long", "local-timestamp-micros"),
    ("date", "int", "date"),
    ("time_millis", "int", "time-millis"),
    ("time_micros", "long", "time-micros"),
];

/// Recognises `with = "..."` paths whose Avro form is known.
fn special_with(path: &str, span: Span) -> syn::Result<Option<Special>> {
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let Some(&last) = segments.last() else {
        return Ok(None);
    };
    let parent = segments.len().checked_sub(2).map(|i| segments[i]);
    if last == "avro_bytes" || last == "serde_bytes" {
        return Ok(Some(Special::Bytes));
    }
    if parent == Some("avro_time") {
        return match AVRO_TIME.iter().find(|(m, _, _)| *m == last) {
            Some(&(_, avro, logical)) => Ok(Some(Special::Time { avro, logical })),
            None => Err(syn::Error::new(
                span,
                format!(
                    "unknown avro_time module `{last}` (expected one of {})",
                    AVRO_TIME
                        .iter()
                        .map(|(m, _, _)| *m)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        };
    }
    if parent == Some("serde") {
        // chrono's own modules write the same numbers.
        let logical = match last.strip_suffix("_option").unwrap_or(last) {
            "ts_milliseconds" => "timestamp-millis",
            "ts_microseconds" => "timestamp-micros",
            _ => return Ok(None),
        };
        return Ok(Some(Special::Time {
            avro: "long",
            logical,
        }));
    }
    Ok(None)
}

/// Refuses field types whose serde form is not what their Avro type would be.
fn check_plain_type(ty: &Type) -> syn::Result<()> {
    let base = option_inner(ty).unwrap_or(ty);
    if byte_array_len(ty).is_some() {
        return Err(syn::Error::new_spanned(
            base,
            "serde writes [u8; N] as a tuple of N ints, which no Avro fixed holds: add \
             #[serde(with = \"kcodec::record::avro_bytes\")] to write it as Avro fixed (size N), \
             or give the schema with #[record(schema = \"...\")]",
        ));
    }
    if is_byte_buf(base) {
        return Err(syn::Error::new_spanned(
            base,
            "serde writes Vec<u8> as a sequence of ints, not Avro bytes: add \
             #[serde(with = \"kcodec::record::avro_bytes\")] to write it as Avro bytes, or keep the \
             array of ints with #[record(schema = \"{\\\"type\\\":\\\"array\\\",\\\"items\\\":\\\"int\\\"}\")]",
        ));
    }
    if let Some(name) = time_type(base) {
        return Err(syn::Error::new_spanned(
            base,
            format!(
                "serde's default form of {name} is not an Avro date/time number: add \
                 #[serde(with = \"kcodec::record::avro_time::<kind>\")] with <kind> one of {} \
                 (kcodec features `chrono` / `time`), or give the schema with #[record(schema = \"...\")]",
                AVRO_TIME
                    .iter()
                    .map(|(m, _, _)| *m)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(())
}

/// `T` of `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

fn is_u8(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident("u8"))
}

/// `N` of a `[u8; N]` field (or `Option<[u8; N]>`).
fn byte_array_len(ty: &Type) -> Option<&syn::Expr> {
    match option_inner(ty).unwrap_or(ty) {
        Type::Array(a) if is_u8(&a.elem) => Some(&a.len),
        _ => None,
    }
}

/// `Vec<u8>` or `Box<[u8]>`.
fn is_byte_buf(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
        return false;
    };
    let Some(syn::GenericArgument::Type(arg)) = a.args.first() else {
        return false;
    };
    (last.ident == "Vec" && is_u8(arg))
        || (last.ident == "Box" && matches!(arg, Type::Slice(s) if is_u8(&s.elem)))
}

/// The name of a well-known date/time type (chrono, time, std), whose serde form is a string.
fn time_type(ty: &Type) -> Option<String> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?.ident.to_string();
    let first = p.path.segments.first()?.ident.to_string();
    let always = [
        "DateTime",
        "NaiveDate",
        "NaiveTime",
        "NaiveDateTime",
        "OffsetDateTime",
        "PrimitiveDateTime",
        "UtcDateTime",
        "SystemTime",
    ];
    let qualified = (first == "chrono" || first == "time") && (last == "Date" || last == "Time");
    (always.contains(&last.as_str()) || qualified).then_some(last)
}

/// `snake_case` or `camelCase` to `PascalCase`.
fn pascal(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! The derive's refusals, message by message (the trybuild UI tests in the facade check a few
    //! of them with their spans, through rustc).

    fn error(input: syn::DeriveInput) -> String {
        match super::expand(&input) {
            Ok(_) => panic!("expected a compile error"),
            Err(e) => e.to_string(),
        }
    }

    fn assert_error(input: syn::DeriveInput, expected: &str) {
        let message = error(input);
        assert!(message.contains(expected), "{message}");
    }

    #[test]
    fn byte_vectors_and_arrays_need_a_bytes_module() {
        assert_error(
            syn::parse_quote! { struct A { b: Vec<u8> } },
            "serde writes Vec<u8> as a sequence of ints",
        );
        assert_error(
            syn::parse_quote! { struct A { b: Option<Box<[u8]>> } },
            "serde writes Vec<u8> as a sequence of ints",
        );
        assert_error(
            syn::parse_quote! { struct A { b: [u8; 16] } },
            "serde writes [u8; N] as a tuple of N ints",
        );
        // With the module, or an explicit schema, they are accepted.
        for input in [
            syn::parse_quote! { struct A { #[serde(with = "kcodec::record::avro_bytes")] b: Vec<u8> } },
            syn::parse_quote! { struct A { #[serde(with = "serde_bytes")] b: [u8; 4] } },
            syn::parse_quote! { struct A { #[record(schema = "\"bytes\"")] #[serde(with = "x")] b: Vec<u8> } },
        ] {
            assert!(super::expand(&input).is_ok());
        }
    }

    #[test]
    fn fixed_name_only_on_a_fixed_field() {
        assert_error(
            syn::parse_quote! {
                struct A { #[serde(with = "avro_bytes")] #[record(fixed_name = "F")] b: Vec<u8> }
            },
            "#[record(fixed_name)] names the Avro fixed of a [u8; N] field",
        );
        assert_error(
            syn::parse_quote! {
                struct A { #[serde(with = "avro_bytes")] #[record(fixed_name = "1F")] b: [u8; 2] }
            },
            "\"1F\" is not a valid Avro name or full name",
        );
    }

    #[test]
    fn dates_and_times_need_an_avro_time_module() {
        for ty in [
            quote::quote!(chrono::DateTime<chrono::Utc>),
            quote::quote!(NaiveDate),
            quote::quote!(Option<time::OffsetDateTime>),
            quote::quote!(time::Date),
            quote::quote!(std::time::SystemTime),
        ] {
            assert_error(
                syn::parse_quote! { struct A { t: #ty } },
                "is not an Avro date/time number",
            );
        }
        assert_error(
            syn::parse_quote! {
                struct A { #[serde(with = "kcodec::record::avro_time::timestamp_nanos")] t: X }
            },
            "unknown avro_time module `timestamp_nanos`",
        );
        // Other `with` modules still need an explicit schema.
        assert_error(
            syn::parse_quote! { struct A { #[serde(with = "chrono::serde::ts_seconds")] t: X } },
            "needs an explicit Avro schema",
        );
    }

    #[test]
    fn unions_refuse_what_avro_cannot_express() {
        assert_error(
            syn::parse_quote! { enum E { A(String), B { x: i32 } } },
            "a struct or tuple variant has no Avro form",
        );
        assert_error(
            syn::parse_quote! { enum E { A(String, i32) } },
            "a struct or tuple variant has no Avro form",
        );
        assert_error(
            syn::parse_quote! { enum E { A(String), N, M } },
            "`N` is already the unit variant",
        );
        assert_error(
            syn::parse_quote! { enum E { A(String), B(String) } },
            "`A` already holds this type",
        );
        assert_error(
            syn::parse_quote! { enum E { A(Option<String>) } },
            "a union in a union",
        );
        assert_error(
            syn::parse_quote! { enum E { A(String), B(Box<E>) } },
            "an Avro union can't contain itself",
        );
        assert_error(
            syn::parse_quote! { enum E { A(String), #[serde(skip)] B(i32) } },
            "skipped variants",
        );
    }
}
