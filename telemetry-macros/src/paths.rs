//! The only place that spells the runtime's private module.
//!
//! A proc macro has no `$crate` (rust-lang/rust#54363), so every path in the expansion is
//! absolute and goes through `::telemetry::__private`, which also re-exports `core` and
//! `std`: a user module or crate named `telemetry`, `core` or `std` cannot capture them.
//! The user must depend on the runtime under its own name, `telemetry`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

/// `::telemetry::__private`.
pub(crate) fn private() -> TokenStream {
    private_at(Span::call_site())
}

/// `::telemetry::__private`, with its tokens at `span` (for calls whose errors must point
/// at user code).
pub(crate) fn private_at(span: Span) -> TokenStream {
    quote_spanned!(span=> ::telemetry::__private)
}

/// `::telemetry::__private::core`: the `core` crate, whatever the user named their modules.
pub(crate) fn core() -> TokenStream {
    let private = private();
    quote!(#private::core)
}
