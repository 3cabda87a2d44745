//! Generating the `Record`, `AvroType` and `Keyed` impls.

use crate::attrs::{self, Container, valid_avro_name};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Type};

pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    // Lifetimes are fine (a record borrowing from the frame); a type or const parameter would
    // give the record one schema per instance, under one name.
    if let Some(param) = input
        .generics
        .params
        .iter()
        .find(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
    {
        return Err(syn::Error::new(
            param.span(),
            "#[derive(Record)] does not support type or const parameters: an Avro record has one \
             fixed schema and name (lifetime parameters are fine)",
        ));
    }
    let generics = &input.generics;
    let (impl_g, ty_g, where_c) = generics.split_for_impl();
    let ident = &input.ident;
    // `Self` with every lifetime `'static`: a `TypeId` key, nameable outside the impls.
    let static_self = {
        let lifetimes = generics.lifetimes().map(|_| quote!('static));
        if generics.params.is_empty() {
            quote!(#ident)
        } else {
            quote!(#ident<#(#lifetimes),*>)
        }
    };
    // `impl<'__de: 'a + …, 'a, …> AvroDecode<'__de> for Ident<'a, …>`.
    let de_generics = {
        let mut g = generics.clone();
        let bounds = generics.lifetimes().map(|l| l.lifetime.clone());
        g.params.insert(0, syn::parse_quote!('__de: #(#bounds)+*));
        g
    };
    let (de_impl_g, _, _) = de_generics.split_for_impl();
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
    // The generated Avro code (`AvroType::avro_encode_raw`, `AvroDecode::avro_decode_raw`), when
    // the type's shape has it.
    let mut raw = Raw {
        krate: Some(krate.clone()),
        static_self,
        ..Raw::default()
    };
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
        Data::Enum(e) => (enum_body(&c, &name, &full_name, e, &mut raw)?, None),
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span(),
                "#[derive(Record)] does not support unions",
            ));
        }
    };
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
            impl #impl_g #krate::record::Keyed for #ident #ty_g #where_c {
                #assert
                fn key(&self) -> &Self::Key {
                    &self.#field
                }
            }
        }
    });
    let branch = if named { full_name.as_str() } else { "union" };
    let (raw_items, raw_decode) = (raw.items, raw.decode);
    Ok(quote! {
        const _: () = {
            use #krate::__private::serde_json;

            #(#checks)*

            impl #impl_g #krate::record::AvroType for #ident #ty_g #where_c {
                const AVRO_BRANCH: &'static str = #branch;

                #raw_items

                fn avro_schema_in(names: &mut #krate::record::Names) -> serde_json::Value {
                    if #named && !names.define(#full_name) {
                        return serde_json::Value::String(#full_name.to_owned());
                    }
                    #body
                }
            }

            impl #de_impl_g #krate::record::AvroDecode<'__de> for #ident #ty_g #where_c {
                #raw_decode
            }

            static CELL: #krate::record::SchemaCell = #krate::record::SchemaCell::new();

            impl #impl_g #krate::record::Record for #ident #ty_g #where_c {
                const FULL_NAME: &'static str = #full_name;
                const TOPIC: ::core::option::Option<&'static str> = #topic;

                fn avro_schema() -> &'static #krate::record::RecordSchema {
                    CELL.get::<Self>()
                }

                fn try_avro_schema() -> ::core::result::Result<
                    &'static #krate::record::RecordSchema,
                    #krate::record::avro_raw::AvroError,
                > {
                    CELL.try_get::<Self>()
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
    raw: &mut Raw,
) -> syn::Result<(TokenStream, Option<(syn::Ident, Type)>)> {
    let mut key: Option<(syn::Ident, Type, Span)> = None;
    let mut pushes = Vec::new();
    // The fields in order, while every one of them is written and read by its type alone (or is
    // a bytes field of a known type).
    let mut raw_fields: Option<Vec<RawField>> = Some(Vec::new());
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
        // `avro_bytes`/`serde_bytes` on a byte buffer or array the generated code knows.
        let bytes_field = f.schema_json.is_none()
            && matches!(
                f.with_path
                    .as_deref()
                    .map(|p| special_with(p, Span::call_site())),
                Some(Ok(Some(Special::Bytes)))
            )
            && is_bytes_field(&field.ty);
        if f.skip
            || f.skip_deserializing
            || (f.custom_with.is_some() && !bytes_field)
            || f.schema_json.is_some()
        {
            // serde's encoding of the field is not its type's alone: the record keeps to the
            // compiled plan.
            raw_fields = None;
        }
        if let Some(raw_fields) = &mut raw_fields {
            raw_fields.push(RawField {
                ident: ident.clone(),
                ty: &field.ty,
                bytes: bytes_field,
            });
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
                        &static_lifetimes(inner),
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
                            names.default_value(
                                #field_name,
                                #with::serialize(&value, serde_json::value::Serializer),
                            )
                        }}
                    }
                })
            }
            (None, Some(None), None) => Some(quote_spanned! {ty.span()=>
                names.default_value(
                    #field_name,
                    serde_json::to_value(<#ty as ::core::default::Default>::default()),
                )
            }),
            (None, Some(Some(path)), None) => Some(quote! {
                names.default_value(#field_name, serde_json::to_value(#path()))
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
        raw.record(&raw_fields);
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
    raw: &mut Raw,
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
                let static_ty = static_lifetimes(ty);
                checks.push(refuse_same_branch(
                    krate,
                    &static_ty,
                    quote!("union"),
                    "an Avro union can't hold a union (a union in a union): make the variant's type a record",
                ));
                for earlier in &types {
                    let earlier = static_lifetimes(earlier);
                    checks.push(refuse_same_branch(
                        krate,
                        &static_ty,
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
                &static_lifetimes(ty),
                quote!("null"),
                "an Avro union holds one \"null\": this variant's type is null, as the unit variant is",
            ));
        }
    }
    raw.union(&raw_variants);
    Ok(quote! {
        if !names.begin_union(#full_name) {
            return serde_json::Value::Null;
        }
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
    name: &str,
    full_name: &str,
    e: &syn::DataEnum,
    raw: &mut Raw,
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
        raw.enumeration(full_name, &raw_variants);
    }
    let header = header(c, name, "enum");
    Ok(quote! {
        let mut m = #header;
        m.insert("symbols".to_owned(), serde_json::json!([#(#symbols),*]));
        serde_json::Value::Object(m)
    })
}

/// A record field the generated code reads and writes.
struct RawField<'t> {
    ident: syn::Ident,
    ty: &'t Type,
    /// Written as Avro bytes or fixed through `avro_raw::BytesField` (its `with` module says
    /// so), not through its `AvroType`.
    bytes: bool,
}

/// The generated Avro code of a type: the items of its `AvroType` impl (`avro_raw_in`,
/// `avro_encode_raw`) and of its `AvroDecode<'__de>` impl (`avro_decode_raw`); both empty (the
/// traits' defaults: no generated code) when the type's shape has none.
#[derive(Default)]
struct Raw {
    krate: Option<syn::Path>,
    /// `Self` with `'static` lifetimes (a `TypeId` key).
    static_self: TokenStream,
    items: TokenStream,
    decode: TokenStream,
}

impl Raw {
    fn paths(&self) -> (TokenStream, TokenStream, TokenStream) {
        let krate = &self.krate;
        (
            quote!(#krate::record::AvroType),
            quote!(#krate::record::AvroDecode<'__de>),
            quote!(#krate::record::avro_raw),
        )
    }

    /// `AvroType::avro_raw_in` of a record or union over `tys`: a type met again (recursion)
    /// answers for itself.
    fn raw_in(&self, tys: &[&Type]) -> TokenStream {
        let (avro, _, raw) = self.paths();
        let static_self = &self.static_self;
        quote! {
            fn avro_raw_in(seen: &mut #raw::Seen) -> bool {
                !seen.first::<#static_self>() || (true #(&& <#tys as #avro>::avro_raw_in(seen))*)
            }
        }
    }

    /// Sets the generated functions from their bodies: `encode` writes `self` to `w`, `decode`
    /// is an expression reading `Self` from `r`.
    fn set(&mut self, raw_in: TokenStream, encode: TokenStream, decode: TokenStream) {
        let (_, _, raw) = self.paths();
        self.items = quote! {
            #raw_in

            #[inline]
            fn avro_encode_raw(
                &self,
                w: &mut #raw::Writer<'_>,
            ) -> ::core::result::Result<(), #raw::AvroError> {
                #encode
                ::core::result::Result::Ok(())
            }
        };
        self.decode = quote! {
            #[inline]
            fn avro_decode_raw(
                r: &mut #raw::Reader<'__de>,
            ) -> ::core::result::Result<Self, #raw::AvroError> {
                ::core::result::Result::Ok(#decode)
            }
        };
    }

    /// A record: its fields in schema order, straight-line.
    fn record(&mut self, fields: &[RawField<'_>]) {
        let (avro, decode, raw) = self.paths();
        let tys: Vec<&Type> = fields.iter().filter(|f| !f.bytes).map(|f| f.ty).collect();
        let raw_in = self.raw_in(&tys);
        let encode = fields.iter().map(|RawField { ident, ty, bytes }| {
            if *bytes {
                quote!(<#ty as #raw::BytesField<'_>>::encode_bytes(&self.#ident, w)?;)
            } else {
                quote!(<#ty as #avro>::avro_encode_raw(&self.#ident, w)?;)
            }
        });
        let read = fields.iter().map(|RawField { ident, ty, bytes }| {
            if *bytes {
                quote!(#ident: <#ty as #raw::BytesField<'__de>>::decode_bytes(r)?,)
            } else {
                quote!(#ident: <#ty as #decode>::avro_decode_raw(r)?,)
            }
        });
        self.set(
            raw_in,
            quote! {
                w.enter()?;
                #(#encode)*
                w.leave();
            },
            quote! {{
                r.enter()?;
                let value = Self {
                    #(#read)*
                };
                r.leave();
                value
            }},
        );
    }

    /// A union enum: branch `i` is variant `i`.
    fn union(&mut self, variants: &[(&syn::Ident, Option<&Type>)]) {
        let (avro, decode, _) = self.paths();
        let count = variants.len();
        let tys: Vec<&Type> = variants.iter().filter_map(|(_, t)| *t).collect();
        let raw_in = self.raw_in(&tys);
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
        let read = variants.iter().enumerate().map(|(i, (v, ty))| {
            let pattern = if i + 1 == count {
                quote!(_)
            } else {
                quote!(#i)
            };
            match ty {
                None => quote!(#pattern => Self::#v,),
                Some(ty) => quote!(#pattern => Self::#v(<#ty as #decode>::avro_decode_raw(r)?),),
            }
        });
        self.set(
            raw_in,
            quote! {
                match self {
                    #(#encode)*
                }
            },
            quote! {
                match r.branch(#count)? {
                    #(#read)*
                }
            },
        );
    }

    /// An enum of unit variants: symbol `i` is variant `i`.
    fn enumeration(&mut self, full_name: &str, variants: &[&syn::Ident]) {
        let (_, _, raw) = self.paths();
        let count = variants.len();
        let indexes = (0..count).map(|i| i as i64);
        let read = variants.iter().enumerate().map(|(i, v)| {
            if i + 1 == count {
                quote!(_ => Self::#v,)
            } else {
                quote!(#i => Self::#v,)
            }
        });
        self.set(
            quote! {
                fn avro_raw_in(_: &mut #raw::Seen) -> bool {
                    true
                }
            },
            quote! {
                w.long(match self {
                    #(Self::#variants => #indexes,)*
                });
            },
            quote! {
                match r.symbol(#full_name, #count)? {
                    #(#read)*
                }
            },
        );
    }
}

/// `ty` with every lifetime `'static`: nameable outside the type's impls (in the compile-time
/// checks), and the same Avro type.
fn static_lifetimes(ty: &Type) -> Type {
    struct Static;
    impl syn::visit_mut::VisitMut for Static {
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            *l = syn::Lifetime::new("'static", l.span());
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut Static, &mut ty);
    ty
}

/// A type `avro_raw::BytesField` reads and writes: `Vec<u8>`, `Box<[u8]>`, `&[u8]`,
/// `Cow<[u8]>`, `Bytes`, `[u8; N]`, or an `Option` of one.
fn is_bytes_field(ty: &Type) -> bool {
    let ty = option_inner(ty).unwrap_or(ty);
    if byte_array_len(ty).is_some() || is_byte_buf(ty) {
        return true;
    }
    let Type::Path(p) = ty else { return false };
    p.qself.is_none()
        && p.path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Bytes" && s.arguments.is_none())
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
    if matches!(base, Type::Reference(_)) && is_byte_buf(base)
        || matches!(base, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Cow"))
            && is_byte_buf(base)
    {
        return Err(syn::Error::new_spanned(
            base,
            "serde writes &[u8] and Cow<[u8]> as a sequence of ints, not Avro bytes: add \
             #[serde(with = \"serde_bytes\")] to write them as Avro bytes (and read them borrowed \
             from the frame)",
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

/// `Vec<u8>`, `Box<[u8]>`, `&[u8]` or `Cow<[u8]>`.
fn is_byte_buf(ty: &Type) -> bool {
    if let Type::Reference(r) = ty {
        return matches!(&*r.elem, Type::Slice(s) if is_u8(&s.elem));
    }
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
        return false;
    };
    let Some(arg) = a.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }) else {
        return false;
    };
    (last.ident == "Vec" && is_u8(arg))
        || ((last.ident == "Box" || last.ident == "Cow")
            && matches!(arg, Type::Slice(s) if is_u8(&s.elem)))
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
    fn lifetimes_are_accepted_type_and_const_parameters_refused() {
        assert!(
            super::expand(
                &syn::parse_quote! { struct A<'a, 'b: 'a> { s: &'a str, t: Vec<&'b str> } }
            )
            .is_ok()
        );
        assert!(super::expand(&syn::parse_quote! { enum U<'a> { A(&'a str), B(i64) } }).is_ok());
        for input in [
            syn::parse_quote! { struct A<T> { t: T } },
            syn::parse_quote! { struct A<'a, const N: usize> { s: &'a str } },
        ] {
            assert_error(input, "does not support type or const parameters");
        }
        assert_error(
            syn::parse_quote! { struct A<'a> { b: &'a [u8] } },
            "serde writes &[u8] and Cow<[u8]> as a sequence of ints",
        );
        assert_error(
            syn::parse_quote! { struct A<'a> { b: Option<Cow<'a, [u8]>> } },
            "serde writes &[u8] and Cow<[u8]> as a sequence of ints",
        );
        assert!(
            super::expand(&syn::parse_quote! {
                struct A<'a> { #[serde(with = "serde_bytes")] b: &'a [u8] }
            })
            .is_ok()
        );
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
