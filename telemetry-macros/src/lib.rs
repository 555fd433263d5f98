//! Placeholder while the macro crate is written: passes items through unchanged.
use proc_macro::TokenStream;

/// Marks a CLI handler.
#[proc_macro_attribute]
pub fn tracked_command(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Marks a pipeline step.
#[proc_macro_attribute]
pub fn tracked_step(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
