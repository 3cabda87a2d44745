//! `#[derive(Record)]`: gives a struct (or a unit-only enum) its Avro schema, its full name, and
//! optionally its key field and default topic, by implementing the traits of
//! `kcodec::record`. Use it through the `kcodec` facade (feature `derive`).
//!
//! Container attributes: `#[record(namespace = "shop.v1", name = "Order", topic = "orders",
//! crate = "::kcodec")]`. Field attributes: `#[record(key)]`, `#[record(default = "<JSON>")]`,
//! `#[record(schema = "<JSON>")]`. Doc comments become Avro `doc`. serde's `rename`, `rename_all`,
//! `alias`, `skip`, `skip_serializing`, `skip_deserializing` and `default` are honoured so the
//! schema matches what serde writes; serde attributes that change the shape in ways Avro records
//! can't express (`flatten`, `tag`, `untagged`, `skip_serializing_if`, …) are compile errors.

mod attrs;
mod expand;

use proc_macro::TokenStream;

/// Implements `Record` (and `Keyed` when a field has `#[record(key)]`) for a struct with named
/// fields or an enum of unit variants. See the crate documentation for the attributes.
#[proc_macro_derive(Record, attributes(record))]
pub fn derive_record(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
