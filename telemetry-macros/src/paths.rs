//! The only place that spells the runtime's private module.
//!
//! A proc macro has no `$crate` (rust-lang/rust#54363), so every path in the expansion
//! starts from a root naming the runtime crate: `::telemetry` by default, absolute so that
//! a user module named `telemetry` cannot capture it. Under that root, `__private` also
//! re-exports `core` and `std`, so a user module or crate named `core` or `std` cannot
//! capture those either.
//!
//! A host that depends on the runtime under another name, or reaches it through a
//! re-export, gives the root with `crate = "..."`; it is then used as written, resolved
//! where the tracked function is, like any path in the user's code.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// The paths of the runtime items the expansion uses.
pub(crate) struct Paths {
    /// `::telemetry`, or the path given with `crate = ..`.
    root: TokenStream,
}

impl Paths {
    /// Paths under `root` (from `crate = ..`), or under `::telemetry` without one.
    ///
    /// A given root keeps the spans of the attribute's tokens, so a path that does not
    /// resolve is reported on the `crate = ..` value, the token to fix.
    pub(crate) fn new(root: Option<&syn::Path>) -> Self {
        let root = match root {
            Some(path) => path.to_token_stream(),
            None => quote!(::telemetry),
        };
        Paths { root }
    }

    /// `<root>::__private`.
    pub(crate) fn private(&self) -> TokenStream {
        let root = &self.root;
        quote!(#root::__private)
    }

    /// `<root>::__private::core`: the `core` crate, whatever the user named their modules.
    pub(crate) fn core(&self) -> TokenStream {
        let private = self.private();
        quote!(#private::core)
    }
}
